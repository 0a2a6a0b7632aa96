package experiment

import (
	"testing"

	"shark/ctr/internal/ctrtest"
)

// On data with planted truth, Taylor puts every signal field above every
// noise field and agrees with exact permutation.
func TestTaylorFindsPlantedSignal(t *testing.T) {
	for _, fields := range []int{8, 12} {
		_, ds, truth := ctrtest.SynthData(t, 20000, fields)
		m, _, valid := ctrtest.Trained(t, ds, 1)
		e, err := RunTaylor(m, valid, 3, 1)
		if err != nil {
			t.Fatal(err)
		}
		score := map[string]float64{}
		for i, f := range e.Fields {
			score[f] = e.Taylor[i]
		}
		sig, noise := truth.Signal()
		for _, s := range sig {
			for _, n := range noise {
				if score[s] <= score[n] {
					t.Errorf("%d fields: signal %s (%.4g) not above noise %s (%.4g)", fields, s, score[s], n, score[n])
				}
			}
		}
		t.Logf("%d fields: Spearman %.3f over %d varying fields (%.3f over all); Taylor %.3fs, exact %.3fs", fields, e.Spearman, e.Varying, e.SpearmanAll, e.TaylorSeconds, e.ExactSeconds)
		if fields == 8 && e.Spearman < 0.9 {
			t.Errorf("Spearman %.3f < 0.9", e.Spearman)
		}
	}
}
