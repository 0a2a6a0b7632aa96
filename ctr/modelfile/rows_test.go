package modelfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"shark/ctr/dataset"
	"shark/ctr/model"
	"shark/ctr/pipeline"
)

// trainedFile trains on a synthetic file with CRLF line ends, holding out
// a quarter, and returns the file, an LF copy and the training result.
func trainedFile(t *testing.T) (dir, crlf, lf string, tr *pipeline.Trained) {
	dir = t.TempDir()
	var buf bytes.Buffer
	if _, err := dataset.Synth(&buf, 3000, 6, 1); err != nil {
		t.Fatal(err)
	}
	crlf, lf = filepath.Join(dir, "d.tsv"), filepath.Join(dir, "lf.tsv")
	os.WriteFile(crlf, bytes.ReplaceAll(buf.Bytes(), []byte("\n"), []byte("\r\n")), 0o644)
	os.WriteFile(lf, buf.Bytes(), 0o644)
	cfg := model.DefaultConfig()
	cfg.Split, cfg.Epochs = 0.25, 1
	tr, err := pipeline.Train(pipeline.TrainOptions{Data: crlf, Read: dataset.Options{Format: "criteo"}, MinCount: 2, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return dir, crlf, lf, tr
}

// The training rows' record is saved with the model and tells them apart
// in any file; a model saved without it (as before shark kept one) still
// loads and scores by file identity, with a note saying what that cannot
// guarantee; a malformed record is refused.
func TestTrainingRowsRecord(t *testing.T) {
	dir, crlf, lf, tr := trainedFile(t)
	p := filepath.Join(dir, "m.shark")
	if err := Save(p, tr.Model, tr.Encoding, Record{Training: tr.Training}); err != nil {
		t.Fatal(err)
	}
	l, err := Load(p, false)
	if err != nil {
		t.Fatal(err)
	}
	d, err := l.Data(lf, DataOptions{})
	l.Close()
	if err != nil || d.Rows.Count != tr.Test.Rows() || d.Rows.Excluded != tr.Train.Rows() || len(d.Notes) != 0 ||
		!slices.Equal(d.Eval.Labels, tr.Test.Labels) {
		t.Fatalf("the LF copy: %+v, %v; trained on %d rows, held out %d", d.Rows, err, tr.Train.Rows(), tr.Test.Rows())
	}
	old := &dataset.Training{On: tr.Training.On}
	if err := Save(p, tr.Model, tr.Encoding, Record{Training: old}); err != nil {
		t.Fatal(err)
	}
	if l, err = Load(p, false); err != nil {
		t.Fatal(err)
	}
	d, err = l.Data(crlf, DataOptions{})
	l.Close()
	if err != nil || len(d.Notes) != 1 || d.Notes[0] != OldModelNote || d.Rows.Kind != dataset.RowsSplit {
		t.Fatalf("a model without the record: %+v %v %v", d, err, d.Notes)
	}
	bad := *tr.Training
	bad.Rows = []*dataset.RowSet{{Rows: 5, K: 0, Bits: make([]byte, 8)}}
	if err := Save(p, tr.Model, tr.Encoding, Record{Training: &bad}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, false); !errors.Is(err, dataset.ErrRowSet) {
		t.Fatalf("a malformed record loads: %v", err)
	}
}
