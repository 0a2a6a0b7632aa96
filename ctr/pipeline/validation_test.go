package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"shark/ctr/dataset"
	"shark/ctr/model"
)

// Train keeps its validation share out of the rows it fits: every row is
// exactly one of held out, validation (recorded by content) or trained on,
// the validation rows are a share of the rows not held out, and the model
// trained on the others alone.
func TestTrainKeepsValidationRowsOut(t *testing.T) {
	p := filepath.Join(t.TempDir(), "d.tsv")
	f, _ := os.Create(p)
	if _, err := dataset.Synth(f, 3000, 6, 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cfg := model.DefaultConfig()
	cfg.Epochs = 1
	opt := dataset.Options{Format: "criteo"}
	tr, err := Train(TrainOptions{Data: p, Read: opt, MinCount: 2, Config: cfg, Valid: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	var held, valid, trained, both int
	dataset.Each(dataset.FileOpener(p, opt), false, func(rec *dataset.Record) error {
		v, fit := tr.Training.Validation(rec.Key), tr.Training.Trained(rec.Key)
		switch {
		case v && fit || (v || fit) && dataset.HeldOut(rec.Key, cfg.Split, cfg.Seed):
			both++
		case v:
			valid++
		case fit:
			trained++
		default:
			held++
		}
		return nil
	})
	share := float64(valid) / float64(valid+trained)
	if tr.Valid == nil || both > 0 || valid != tr.Valid.Rows() || trained != tr.Train.Rows() || held != tr.Test.Rows() ||
		share < 0.2 || share > 0.3 || tr.ValidRows.Kind != dataset.RowsValid || tr.ValidRows.Count != valid {
		t.Fatalf("%d rows in two parts; %d validation, %d trained, %d held out; Train kept %+v, trained on %d, tested on %d",
			both, valid, trained, held, tr.ValidRows, tr.Train.Rows(), tr.Test.Rows())
	}
	on := tr.Training.On[0]
	if on.Valid != 0.25 || on.ValidSeed != dataset.ValidSeed(cfg.Seed) {
		t.Fatalf("recorded %+v", on)
	}
	// Without a validation share, every row not held out is trained on.
	none, err := Train(TrainOptions{Data: p, Read: opt, MinCount: 2, Config: cfg})
	if err != nil || none.Valid != nil || none.Training.Valid != nil || none.Train.Rows()+none.Test.Rows() != 3000 {
		t.Fatalf("no validation share: %v, trained on %d", err, none.Train.Rows())
	}
}
