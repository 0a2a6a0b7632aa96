package experiment

import (
	"cmp"
	"slices"

	"shark/core"
	"shark/ctr/model"
	"shark/ctr/pipeline"
)

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
// every budget (plus unquantized), a budget's rule made by rule (the
// caller's settings with that share of the kept tables' fp32 bytes).
func Sweep(m *model.Model, train, valid *model.Dataset, base pipeline.Options, keeps, budgets []float64, rule func(share float64) func(fp32 int64) core.Rule) ([]SweepPoint, error) {
	var pts []SweepPoint
	for _, k := range keeps {
		o := base
		o.KeepFraction, o.Quantize = k, false
		pm := m.Clone()
		r, err := pipeline.Compress(pm, train, valid, o)
		if err != nil {
			return nil, err
		}
		pts = append(pts, SweepPoint{Keep: k, AUC: r.AUCAfter, LogLoss: r.LogLossAfter, EmbeddingBytes: r.EmbeddingBytesAfter, BytesFP32: r.EmbeddingBytesFP32, AUCBefore: r.AUCBefore})
		for _, b := range budgets {
			q := base
			q.KeepFraction, q.Rule = 1, rule(b)
			qm := pm.Clone()
			qr, err := pipeline.Compress(qm, train, valid, q)
			if err != nil {
				return nil, err
			}
			pts = append(pts, SweepPoint{Keep: k, Budget: b, AUC: qr.AUCAfter, LogLoss: qr.LogLossAfter, EmbeddingBytes: qr.EmbeddingBytesAfter, BytesFP32: r.EmbeddingBytesFP32, AUCBefore: r.AUCBefore})
		}
	}
	return pts, nil
}

// Frontier is the sweep's bytes-against-AUC frontier: the points no other
// point beats with as few bytes or fewer and a higher AUC, smallest first
// (each then has a higher AUC than every point before it). A setting off
// it is dominated: some setting stores fewer bytes at an AUC as high.
func Frontier(pts []SweepPoint) []SweepPoint {
	sorted := slices.Clone(pts)
	slices.SortStableFunc(sorted, func(a, b SweepPoint) int {
		if c := cmp.Compare(a.EmbeddingBytes, b.EmbeddingBytes); c != 0 {
			return c
		}
		return cmp.Compare(b.AUC, a.AUC) // at equal bytes, the best AUC first
	})
	var out []SweepPoint
	for _, p := range sorted {
		if len(out) == 0 || p.AUC > out[len(out)-1].AUC {
			out = append(out, p)
		}
	}
	return out
}
