package importance

import (
	"errors"
	"slices"
	"sort"
	"testing"

	"shark/core"
	"shark/ctr/internal/ctrtest"
)

// A field with one value scores exactly 0 (every e_s is the mean), and
// Varying says which fields vary.
func TestConstantFieldScoresZero(t *testing.T) {
	_, ds, _ := ctrtest.SynthData(t, 3000, 4)
	m, _, valid := ctrtest.Trained(t, ds, 1)
	q, err := Taylor(m, valid)
	if err != nil {
		t.Fatal(err)
	}
	vary := Varying(valid)
	nv := 0
	for f, v := range vary {
		if !v {
			nv++
			if q[f] != 0 {
				t.Fatalf("constant field %s scores %v", m.Fields[f], q[f])
			}
		} else if q[f] <= 0 {
			t.Fatalf("varying field %s scores %v", m.Fields[f], q[f])
		}
	}
	if nv == 0 {
		t.Fatal("the data has no constant field to check")
	}
}

// Pruning drops the lowest-scoring fields of each round down to the kept
// count, and rolls a round back (leaving the model as it was) when the
// held-out AUC falls more than the tolerance.
func TestPruneDropsLowestAndRollsBack(t *testing.T) {
	_, ds, _ := ctrtest.SynthData(t, 6000, 8)
	m, train, valid := ctrtest.Trained(t, ds, 1)
	scores, err := Taylor(m, valid)
	if err != nil {
		t.Fatal(err)
	}
	order := append([]int{}, m.Slots...)
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] < scores[order[b]] })
	keep := len(m.Slots) - 5
	pm := m.Clone()
	res, err := Prune(pm, train, valid, PruneOptions{Keep: keep, Rounds: 1, Scorer: "taylor"})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range order[:5] {
		want = append(want, m.Fields[f])
	}
	if len(res.Kept) != keep || !slices.Equal(res.Dropped, want) || len(pm.Slots) != keep {
		t.Fatalf("kept %v, dropped %v; want the 5 lowest %v dropped", res.Kept, res.Dropped, want)
	}
	// Dropping every field but one costs more than a tiny tolerance.
	rm := m.Clone()
	res, err = Prune(rm, train, valid, PruneOptions{Keep: 1, Rounds: 1, Tolerance: 1e-9, Scorer: "taylor"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rounds[0].RolledBack || !slices.Equal(rm.Slots, m.Slots) || len(res.Dropped) != 0 {
		t.Fatalf("round not rolled back: %+v, slots %v", res.Rounds[0], rm.Slots)
	}
	if _, err := Prune(m.Clone(), train, valid, PruneOptions{Keep: 0}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("keep 0: %v", err)
	}
}

func TestScorers(t *testing.T) {
	_, ds, _ := ctrtest.SynthData(t, 2000, 4)
	m, _, valid := ctrtest.Trained(t, ds, 1)
	a, _ := Score(m, valid, "random", 0, 5)
	b, _ := Score(m, valid, "random", 0, 5)
	if !slices.Equal(a, b) {
		t.Fatal("the random scorer is not deterministic for a seed")
	}
	ex, err := Score(m, valid, "exact", 1, 1)
	if err != nil || len(ex) != len(m.Fields) {
		t.Fatalf("exact: %v %v", ex, err)
	}
	if _, err := Score(m, valid, "oracle", 0, 1); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("unknown scorer: %v", err)
	}
}
