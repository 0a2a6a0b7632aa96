package pipeline

import (
	"errors"
	"reflect"
	"testing"

	"shark/ctr/internal/ctrtest"
	"shark/ctr/model"
)

// searchRun compresses a clone of m without pruning, its budget chosen
// within drop on validation, scored on scored.
func searchRun(t *testing.T, m *model.Model, train, validation, scored *model.Dataset, drop float64) *Result {
	t.Helper()
	o := DefaultOptions(ctrtest.Budget(0.4))
	o.KeepFraction, o.MaxAUCDrop, o.Validation = 1, drop, validation
	o.PriorityEpochs = m.Cfg.Epochs
	r, err := Compress(m.Clone(), train, scored, o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Search == nil {
		t.Fatal("no budget search in the result")
	}
	return r
}

// The budget search bisects: with a tolerance half the drop at the least
// budget, it probes the least budget (over), 100% (within) and budgets
// between, ending at one within the tolerance whose step below is over
// (or that is within a step of the least), and the model is stored at it.
// It chooses on the validation rows alone: the scored rows' labels
// reversed change the score reported, not one probe.
func TestBudgetSearchBisects(t *testing.T) {
	m, tune, validation, scored, d0 := lossyAtLeast(t)
	r := searchRun(t, m, tune, validation, scored, d0/2)
	s := r.Search
	if len(s.Probes) < 3 || s.Probes[0].Within || !s.Probes[1].Within || s.Probes[1].Budget != 1 || !s.Met {
		t.Fatalf("tolerance %v: %+v", d0/2, s.Probes)
	}
	t.Log(s.Verdict())
	step := int64(s.Resolution*float64(r.EmbeddingBytesFP32)) + 1
	below := s.Probes[0].BudgetBytes // the largest budget over the tolerance
	for _, p := range s.Probes {
		if p.Within != (p.Drop <= d0/2) || p.Bytes > p.BudgetBytes {
			t.Fatalf("probe %+v", p)
		}
		if p.Within && p.BudgetBytes < s.BudgetBytes {
			t.Fatalf("a probe within at %d bytes, below the budget found %d", p.BudgetBytes, s.BudgetBytes)
		}
		if !p.Within && p.BudgetBytes > below {
			below = p.BudgetBytes
		}
	}
	if s.BudgetBytes-below > step || below >= s.BudgetBytes || r.EmbeddingBytesAfter > s.BudgetBytes {
		t.Fatalf("found %d bytes, over at %d, step %d, stored %d", s.BudgetBytes, below, step, r.EmbeddingBytesAfter)
	}
	reversed := *scored
	reversed.Labels = make([]float32, len(scored.Labels))
	for i, l := range scored.Labels {
		reversed.Labels[i] = 1 - l
	}
	other := searchRun(t, m, tune, validation, &reversed, d0/2)
	if !reflect.DeepEqual(other.Search, s) || other.AUCAfter == r.AUCAfter {
		t.Fatalf("the scored rows changed the search: %+v\nagainst %+v (AUC after %v, %v)", other.Search, s, other.AUCAfter, r.AUCAfter)
	}
}

// A budget search without validation rows apart from the scored ones is
// refused: it would choose the budget on the rows that judge it.
func TestBudgetSearchNeedsValidation(t *testing.T) {
	_, ds, _ := ctrtest.SynthData(t, 1000, 4)
	m, train, scored := ctrtest.Trained(t, ds, 1)
	for _, v := range []*model.Dataset{nil, scored} {
		o := DefaultOptions(ctrtest.Budget(0.4))
		o.KeepFraction, o.MaxAUCDrop, o.Validation = 1, 0.001, v
		if _, err := Compress(m.Clone(), train, scored, o); !errors.Is(err, ErrNoValidation) {
			t.Fatalf("validation %p (scored %p): %v", v, scored, err)
		}
	}
}

// lossyAtLeast is a trained model whose validation AUC drops with every
// row at the least budget (d0 > 0, so half of it is a tolerance to
// bisect), from the first of a few synthetic data sets where it does
// (the drop can be negative on one: quantization as noise).
func lossyAtLeast(t *testing.T) (m *model.Model, tune, validation, scored *model.Dataset, d0 float64) {
	for _, size := range [][2]int{{2000, 8}, {2000, 16}, {6000, 16}} {
		_, ds, _ := ctrtest.SynthData(t, size[0], size[1])
		var train *model.Dataset
		m, train, scored = ctrtest.Trained(t, ds, 1)
		tune, validation = train.Split(0.2, 7)
		least := searchRun(t, m, tune, validation, scored, 0.5).Search
		if len(least.Probes) != 1 || !least.Met || least.Budget != least.MinBudget {
			t.Fatalf("a loose tolerance: %+v, want the least budget at the first probe", least)
		}
		if d0 = least.Probes[0].Drop; d0 > 0 {
			return m, tune, validation, scored, d0
		}
	}
	t.Fatal("no data set whose validation AUC drops at the least budget")
	return
}

// Pruning under a budget search searches the keep count too: the asked
// count and every field are tried, then the counts between bisected to
// the fewest within the tolerance at fp32 (its neighbour below over),
// and the count of the fewest stored bytes within it is the model kept.
func TestKeepSearch(t *testing.T) {
	m, tune, validation, scored, d0 := lossyAtLeast(t)
	o := DefaultOptions(ctrtest.Budget(0.4))
	o.KeepFraction, o.MaxAUCDrop, o.Validation = 0.25, 2*d0, validation
	o.PriorityEpochs = m.Cfg.Epochs
	pm := m.Clone()
	r, err := Compress(pm, tune, scored, o)
	if err != nil {
		t.Fatal(err)
	}
	s, n := r.Search, len(m.Slots)
	ks := s.Keeps
	lo := max(1, int(0.25*float64(n)+0.5))
	if len(ks) < 2 || ks[0].Keep != lo || ks[1].Keep != n || !ks[1].Within || ks[1].Drop != 0 {
		t.Fatalf("keep probes %+v, want %d then %d first", ks, lo, n)
	}
	within, best := map[int]bool{}, ks[1]
	for _, k := range ks {
		within[k.Keep] = k.Within
		if k.Within != (k.Drop <= o.MaxAUCDrop) || (k.Within && k.Bytes == 0) {
			t.Fatalf("keep probe %+v", k)
		}
		if k.Within && k.Bytes < best.Bytes {
			best = k
		}
	}
	fewest := n
	for k, ok := range within {
		if ok && k < fewest {
			fewest = k
		}
	}
	if ok, tried := within[fewest-1]; fewest > lo && (!tried || ok) {
		t.Fatalf("the fewest fields within, %d, has no neighbour over below it: %+v", fewest, ks)
	}
	if len(r.KeptFields) != best.Keep || s.Bytes != best.Bytes || r.EmbeddingBytesAfter != best.Bytes || len(pm.Slots) != best.Keep {
		t.Fatalf("kept %d fields at %d bytes (search %d); the fewest bytes within were %+v", len(r.KeptFields), r.EmbeddingBytesAfter, s.Bytes, best)
	}
	t.Logf("%d keep probes %+v; %s", len(ks), ks, s.Verdict())
}
