package experiment

import (
	"math/rand/v2"
	"testing"

	"shark/ctr/dataset"
	"shark/ctr/internal/ctrtest"
	"shark/ctr/model"
	"shark/ctr/modelfile"
	"shark/ctr/pipeline"
)

// Every seed of the ablation prunes by the validation rows it is given,
// the retrained seeds too: with validation rows whose labels carry no
// signal, seed 2 keeps other fields than with informative ones. Before,
// the retrained seeds dropped the validation rows and chose on the
// held-out rows they then reported, so both runs gave the same outcome.
func TestAblationSeedsChooseOnValidation(t *testing.T) {
	_, ds, _ := ctrtest.SynthData(t, 12000, 8)
	rest, valid := ds.Split(0.2, 99)
	m, train, eval := ctrtest.Trained(t, rest, 1)
	noise := *valid
	noise.Labels = append([]float32{}, valid.Labels...)
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(noise.Labels), func(i, j int) {
		noise.Labels[i], noise.Labels[j] = noise.Labels[j], noise.Labels[i]
	})
	data := &modelfile.Data{Train: train, Eval: eval, Rows: dataset.Rows{Kind: dataset.RowsSplit}}
	vs := []Variant{{"exact-drop", "exact-permutation pruning only", func(o *pipeline.Options) { o.Quantize, o.Keep, o.Scorer, o.Repeats = false, 3, "exact", 1 }}}
	run := func(v *model.Dataset) Outcome {
		base := pipeline.DefaultOptions(nil)
		base.Validation = v
		outs, err := Ablation(m, data, base, vs, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		return outs[1] // seed 2: a model retrained on rows split by its seed
	}
	good, bad := run(valid), run(&noise)
	t.Logf("seed 2, 3 fields kept: AUC %.4f choosing on informative validation rows, %.4f on label-shuffled ones", good.AUC, bad.AUC)
	if good == bad {
		t.Errorf("seed 2's outcome does not depend on its validation rows: %+v", good)
	}
}
