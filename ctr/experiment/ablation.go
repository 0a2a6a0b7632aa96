package experiment

import (
	"fmt"
	"math"

	"shark/core"
	"shark/ctr/dataset"
	"shark/ctr/model"
	"shark/ctr/modelfile"
	"shark/ctr/pipeline"
)

// Variant is one configuration of the ablation.
type Variant struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	opt         func(o *pipeline.Options)
}

// Variants of the ablation: the method's parts and the baselines a reviewer
// asks for. keep and budget are the settings of the full method.
func Variants(keep, budget float64) []Variant {
	return []Variant{
		{"none", "no compression", func(o *pipeline.Options) { o.KeepFraction, o.Quantize = 1, false }},
		{"f-permutation", "Taylor pruning only, tables fp32", func(o *pipeline.Options) { o.Quantize = false }},
		{"f-quantization", "mixed precision only, no pruning", func(o *pipeline.Options) { o.KeepFraction = 1 }},
		{"shark", "Taylor pruning, then mixed precision", func(o *pipeline.Options) {}},
		{"random-drop", "random table drop, then mixed precision", func(o *pipeline.Options) { o.Scorer = "random" }},
		{"exact-drop", "exact-permutation drop, then mixed precision", func(o *pipeline.Options) { o.Scorer = "exact" }},
		{"uniform-fp16", "every row fp16, no pruning", func(o *pipeline.Options) { o.KeepFraction, o.Uniform = 1, int(core.FP16) }},
		{"uniform-int8", "every row int8, no pruning", func(o *pipeline.Options) { o.KeepFraction, o.Uniform = 1, int(core.INT8) }},
		{"frequency-only", "Taylor pruning, then mixed precision with w_pos = w_neg", func(o *pipeline.Options) { o.Priority.WNeg = o.Priority.WPos }},
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
func RunVariant(m *model.Model, train, valid *model.Dataset, base pipeline.Options, v Variant) (*pipeline.Result, error) {
	o := base
	v.opt(&o)
	return pipeline.Compress(m.Clone(), train, valid, o)
}

// Ablation runs every variant for seeds 1..seeds: the model as given for
// its own seed, and for each other seed a model trained with its settings:
// on the same rows split by that seed, or, when the held-out rows are a
// test file, on the training rows, scored on the test file.
func Ablation(m *model.Model, data *modelfile.Data, base pipeline.Options, vs []Variant, seeds int, progress func(stage string, done, total int64)) ([]Outcome, error) {
	var outs []Outcome
	resplit := data.Rows.Kind != dataset.RowsTestFile
	for s := 1; s <= seeds; s++ {
		sm, tr, va, err := seedModel(m, data.Train, data.Eval, uint64(s), resplit)
		if err != nil {
			return nil, err
		}
		o := base
		o.Seed = uint64(s)
		// Every seed's pruning chooses on base.Validation: rows apart from
		// data.Train and data.Eval, so a model trained on those (split by
		// its seed) never fitted them, and never on the rows it reports.
		for i, v := range vs {
			if progress != nil {
				progress(fmt.Sprintf("ablation seed %d", s), int64(i), int64(len(vs)))
			}
			r, err := RunVariant(sm, tr, va, o, v)
			if err != nil {
				return nil, fmt.Errorf("variant %s, seed %d: %w", v.Name, s, err)
			}
			outs = append(outs, Outcome{Variant: v.Name, Seed: uint64(s), AUC: r.AUCAfter, LogLoss: r.LogLossAfter,
				AUCBefore: r.AUCBefore, EmbeddingBytes: r.EmbeddingBytesAfter, BytesFP32: r.EmbeddingBytesFP32})
		}
	}
	return outs, nil
}

// seedModel is m for its own seed; for another, a model trained with m's
// settings: on all the rows split by that seed if resplit, else on train.
func seedModel(m *model.Model, train, valid *model.Dataset, seed uint64, resplit bool) (*model.Model, *model.Dataset, *model.Dataset, error) {
	if seed == m.Cfg.Seed {
		return m, train, valid, nil
	}
	cfg := m.Cfg
	cfg.Seed = seed
	tr, va := train, valid
	if resplit {
		all := &model.Dataset{Fields: train.Fields, Vocab: train.Vocab, IDs: append(append([]int32{}, train.IDs...), valid.IDs...),
			Labels: append(append([]float32{}, train.Labels...), valid.Labels...)}
		split := cfg.Split
		if split <= 0 {
			split = model.DefaultConfig().Split
		}
		tr, va = all.Split(split, cfg.Seed)
	}
	sm, err := model.New(cfg, tr)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := sm.Train(tr, nil, cfg.Epochs, nil); err != nil {
		return nil, nil, nil, err
	}
	return sm, tr, va, nil
}
