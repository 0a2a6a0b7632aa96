package facetest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"shark/compress"
	"shark/ctr/dataset"
	ctrmodel "shark/ctr/model"
	"shark/ctr/modelfile"
	"shark/ctr/pipeline"
)

// ModelSeed is the seed the CTR test model is trained with: not the
// default configuration's, so that a face compressing it with the
// default seed instead of the model's writes other bytes.
const ModelSeed = 7

// CTRModel trains the reference CTR model on synthetic Criteo rows and
// writes to dir the model file, its training data and a test file, whose
// paths it returns: what the model faces compress.
func CTRModel(t testing.TB, dir string) (modelPath, data, test string) {
	t.Helper()
	var all bytes.Buffer
	if _, err := dataset.Synth(&all, 6000, 8, 1); err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(all.Bytes(), []byte("\n"))
	data, test = filepath.Join(dir, "train.tsv"), filepath.Join(dir, "test.tsv")
	if err := os.WriteFile(data, bytes.Join(lines[:4500], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(test, bytes.Join(lines[4500:], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := ctrmodel.DefaultConfig()
	cfg.Epochs, cfg.Seed = 2, ModelSeed
	tr, err := pipeline.Train(pipeline.TrainOptions{Data: data, Test: test, Read: dataset.Options{Format: "criteo"}, MinCount: 2, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	modelPath = filepath.Join(dir, "ctr.shark")
	if err := modelfile.Save(modelPath, tr.Model, tr.Encoding, modelfile.Record{Training: tr.Training}); err != nil {
		t.Fatal(err)
	}
	return modelPath, data, test
}

// CompressedModel is the model file compress.CompressModel writes for the
// model at modelPath, fine-tuned on data and scored on test, under s:
// what every face must write for them, byte for byte.
func CompressedModel(t testing.TB, modelPath, data, test string, s compress.ModelSettings) []byte {
	t.Helper()
	l, err := modelfile.Load(modelPath, true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d, err := l.Data(data, modelfile.DataOptions{Test: test, FineTune: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	in := compress.ModelInput{Model: l.Model, Encoding: l.Encoding, Data: d, Name: modelPath, DataName: data}
	if _, err := compress.CompressModel(context.Background(), in, s, &buf, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ModelCase is what every model face's test compresses: the CTR test
// model with its data and test file, the settings, and the bytes
// compress.CompressModel writes for them with SOURCE_DATE_EPOCH set.
type ModelCase struct {
	Model, Data, Test string
	Settings          compress.ModelSettings // keep 5 fields, a 35% budget
	Want              []byte
}

// NewModelCase writes the case's files to dir, sets SOURCE_DATE_EPOCH for
// the test and makes the reference bytes.
func NewModelCase(t testing.TB, dir string) ModelCase {
	t.Helper()
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	c := ModelCase{Settings: compress.DefaultModelSettings()}
	c.Model, c.Data, c.Test = CTRModel(t, dir)
	c.Settings.Keep, c.Settings.Quantize.Budget = 5, 0.35
	c.Want = CompressedModel(t, c.Model, c.Data, c.Test, c.Settings)
	return c
}
