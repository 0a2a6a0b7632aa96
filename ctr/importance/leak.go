package importance

import (
	"sort"

	"shark/ctr/model"
)

// LeakAUC is the AUC from which one field alone is said to give the label
// away: no real feature of click data separates clicks that well, and a
// model trained beside such a column scores it, not the others.
const LeakAUC = 0.99

// Leak is a field whose value alone separates the held-out labels.
type Leak struct {
	Field string  `json:"field"`
	AUC   float64 `json:"auc"`
}

// Leaks scores every field of test alone, cheaply: each row gets its
// value's click rate in train (a value train lacks gets train's overall
// rate), and a field whose scores reach LeakAUC on test's labels is a
// leak. train and test must be disjoint, or every high-cardinality field
// would look like one. Leaks are listed strongest first.
func Leaks(train, test *model.Dataset) []Leak {
	if train == nil || test == nil || train.Rows() == 0 || test.Rows() == 0 {
		return nil
	}
	var out []Leak
	scores := make([]float32, test.Rows())
	for f, name := range train.Fields {
		rate := clickRates(train, f)
		for s := range scores {
			scores[s] = rate(test.Sample(s)[f])
		}
		if auc := model.AUC(scores, test.Labels); auc >= LeakAUC {
			out = append(out, Leak{Field: name, AUC: auc})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].AUC > out[b].AUC })
	return out
}

// clickRates is field f's click rate per table row in ds.
func clickRates(ds *model.Dataset, f int) func(id int32) float32 {
	clicks, seen := map[int32]float64{}, map[int32]float64{}
	var all float64
	for s := 0; s < ds.Rows(); s++ {
		id := ds.Sample(s)[f]
		clicks[id] += float64(ds.Labels[s])
		seen[id]++
		all += float64(ds.Labels[s])
	}
	all /= float64(ds.Rows())
	return func(id int32) float32 {
		if n := seen[id]; n > 0 {
			return float32(clicks[id] / n)
		}
		return float32(all)
	}
}
