package pipeline

import (
	"math"
	"time"

	"shark/core"
	"shark/ctr/importance"
	"shark/ctr/model"
)

// TaylorExperiment compares Taylor scores against exact permutation.
type TaylorExperiment struct {
	Fields        []string  `json:"fields"`
	Taylor        []float64 `json:"taylor"`
	Exact         []float64 `json:"exact"`          // logloss increase
	ExactAUCDrop  []float64 `json:"exact_auc_drop"` //
	Spearman      float64   `json:"spearman"`       // over the fields that vary in the data
	SpearmanAll   float64   `json:"spearman_all"`   // over every field
	Varying       int       `json:"varying_fields"`
	TaylorSeconds float64   `json:"taylor_seconds"`
	ExactSeconds  float64   `json:"exact_seconds"`
	Repeats       int       `json:"repeats"`
	Rows          int       `json:"rows"`
}

// RunTaylor scores m's active fields both ways on ds.
func RunTaylor(m *model.Model, ds *model.Dataset, repeats int, seed uint64) (*TaylorExperiment, error) {
	t0 := time.Now()
	tay, err := importance.Taylor(m, ds)
	if err != nil {
		return nil, err
	}
	e := &TaylorExperiment{TaylorSeconds: time.Since(t0).Seconds(), Repeats: repeats, Rows: ds.Rows()}
	t0 = time.Now()
	ex, err := importance.Exact(m, ds, repeats, seed, nil)
	if err != nil {
		return nil, err
	}
	e.ExactSeconds = time.Since(t0).Seconds()
	for _, f := range m.Slots {
		e.Fields = append(e.Fields, m.Fields[f])
		e.Taylor = append(e.Taylor, tay[f])
		e.Exact = append(e.Exact, ex[f].LossIncrease)
		e.ExactAUCDrop = append(e.ExactAUCDrop, ex[f].AUCDrop)
	}
	e.SpearmanAll = model.Spearman(e.Taylor, e.Exact)
	vary := importance.Varying(ds)
	var a, b []float64
	for i, f := range m.Slots {
		if vary[f] {
			a, b = append(a, e.Taylor[i]), append(b, e.Exact[i])
		}
	}
	e.Varying = len(a)
	e.Spearman = model.Spearman(a, b)
	return e, nil
}

// Variant is one configuration of the ablation.
type Variant struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	opt         func(o *Options)
}

// Variants of the ablation: the method's parts and the baselines a reviewer
// asks for. keep and budget are the settings of the full method.
func Variants(keep, budget float64) []Variant {
	return []Variant{
		{"none", "no compression", func(o *Options) { o.KeepFraction, o.Quantize = 1, false }},
		{"f-permutation", "Taylor pruning only, tables fp32", func(o *Options) { o.Quantize = false }},
		{"f-quantization", "mixed precision only, no pruning", func(o *Options) { o.KeepFraction = 1 }},
		{"shark", "Taylor pruning, then mixed precision", func(o *Options) {}},
		{"random-drop", "random table drop, then mixed precision", func(o *Options) { o.Scorer = "random" }},
		{"exact-drop", "exact-permutation drop, then mixed precision", func(o *Options) { o.Scorer = "exact" }},
		{"uniform-fp16", "every row fp16, no pruning", func(o *Options) { o.KeepFraction, o.Uniform = 1, int(core.FP16) }},
		{"uniform-int8", "every row int8, no pruning", func(o *Options) { o.KeepFraction, o.Uniform = 1, int(core.INT8) }},
		{"frequency-only", "Taylor pruning, then mixed precision with w_pos = w_neg", func(o *Options) { o.Priority.WNeg = o.Priority.WPos }},
	}
}

// Outcome is one variant's result for one seed.
type Outcome struct {
	Variant        string  `json:"variant"`
	Seed           uint64  `json:"seed"`
	AUC            float64 `json:"auc"`
	LogLoss        float64 `json:"logloss"`
	AUCBefore      float64 `json:"auc_before"`
	EmbeddingBytes int64   `json:"embedding_bytes"`
	BytesFP32      int64   `json:"embedding_bytes_fp32"`
}

// Summary aggregates a variant over seeds.
type Summary struct {
	Variant     string  `json:"variant"`
	Description string  `json:"description"`
	AUCMean     float64 `json:"auc_mean"`
	AUCStd      float64 `json:"auc_std"`
	DropMean    float64 `json:"auc_drop_mean"`
	DropMin     float64 `json:"auc_drop_min"`
	DropMax     float64 `json:"auc_drop_max"`
	LogLossMean float64 `json:"logloss_mean"`
	BytesMean   float64 `json:"embedding_bytes_mean"`
	Reduction   float64 `json:"bytes_reduction_mean"` // 1 - after/fp32
}

// Summarise groups outcomes by variant, in the order of vs.
func Summarise(vs []Variant, out []Outcome) []Summary {
	var res []Summary
	for _, v := range vs {
		s := Summary{Variant: v.Name, Description: v.Description, DropMin: math.Inf(1), DropMax: math.Inf(-1)}
		var aucs []float64
		for _, o := range out {
			if o.Variant != v.Name {
				continue
			}
			aucs = append(aucs, o.AUC)
			d := o.AUCBefore - o.AUC
			s.DropMean += d
			s.DropMin = math.Min(s.DropMin, d)
			s.DropMax = math.Max(s.DropMax, d)
			s.LogLossMean += o.LogLoss
			s.BytesMean += float64(o.EmbeddingBytes)
			s.Reduction += 1 - float64(o.EmbeddingBytes)/float64(o.BytesFP32)
		}
		n := float64(len(aucs))
		if n == 0 {
			continue
		}
		for _, a := range aucs {
			s.AUCMean += a / n
		}
		for _, a := range aucs {
			s.AUCStd += (a - s.AUCMean) * (a - s.AUCMean) / n
		}
		s.AUCStd = math.Sqrt(s.AUCStd)
		s.DropMean /= n
		s.LogLossMean /= n
		s.BytesMean /= n
		s.Reduction /= n
		res = append(res, s)
	}
	return res
}

// RunVariant applies a variant to a clone of m.
func RunVariant(m *model.Model, train, valid *model.Dataset, base Options, v Variant) (*Result, error) {
	o := base
	v.opt(&o)
	return Compress(m.Clone(), train, valid, o)
}

// SweepPoint is one (keep, budget) setting.
type SweepPoint struct {
	Keep           float64 `json:"keep_fraction"`
	Budget         float64 `json:"budget"` // 0: no quantization
	AUC            float64 `json:"auc"`
	LogLoss        float64 `json:"logloss"`
	EmbeddingBytes int64   `json:"embedding_bytes"`
	BytesFP32      int64   `json:"embedding_bytes_fp32"`
	AUCBefore      float64 `json:"auc_before"`
}

// Sweep prunes once per keep fraction and quantizes the pruned model at
// every budget (plus unquantized).
func Sweep(m *model.Model, train, valid *model.Dataset, base Options, keeps, budgets []float64) ([]SweepPoint, error) {
	var pts []SweepPoint
	for _, k := range keeps {
		o := base
		o.KeepFraction, o.Quantize = k, false
		pm := m.Clone()
		r, err := Compress(pm, train, valid, o)
		if err != nil {
			return nil, err
		}
		pts = append(pts, SweepPoint{Keep: k, AUC: r.AUCAfter, LogLoss: r.LogLossAfter, EmbeddingBytes: r.EmbeddingBytesAfter, BytesFP32: r.EmbeddingBytesFP32, AUCBefore: r.AUCBefore})
		for _, b := range budgets {
			q := base
			q.KeepFraction, q.Budget = 1, b
			qm := pm.Clone()
			qr, err := Compress(qm, train, valid, q)
			if err != nil {
				return nil, err
			}
			pts = append(pts, SweepPoint{Keep: k, Budget: b, AUC: qr.AUCAfter, LogLoss: qr.LogLossAfter, EmbeddingBytes: qr.EmbeddingBytesAfter, BytesFP32: r.EmbeddingBytesFP32, AUCBefore: r.AUCBefore})
		}
	}
	return pts, nil
}
