package compress

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"time"

	"shark/ctr/dataset"
	"shark/ctr/model"
	"shark/ctr/modelfile"
	"shark/ctr/pipeline"
	"shark/internal/atomicfile"
)

// DemoOptions configure Demo.
type DemoOptions struct {
	Dir      string // where the data and models are written
	Rows     int    // rows of synthetic data
	Progress func(stage string, done, total int64)
}

// DemoResult is what the demo found, step by step.
type DemoResult struct {
	Data           string       `json:"data"`
	Rows           int          `json:"rows"`
	Signal         []string     `json:"signal"` // strongest first
	Noise          []string     `json:"noise"`
	Trained        *Trained     `json:"-"`
	HeldOut        dataset.Rows `json:"held_out"` // the rows every AUC came from
	ModelFile      string       `json:"model"`
	Scores         *Scores      `json:"scores"`
	Top            []string     `json:"top"` // Taylor's best fields, best first
	Varying        int          `json:"varying_fields"`
	Keep           int          `json:"keep"`
	Compress       *ModelResult `json:"compress"`
	CompressedFile string       `json:"compressed"`
	Seconds        float64      `json:"seconds"`
}

// Demo is the whole method on data it makes itself: Criteo-format rows with
// planted signal and noise fields, the reference model trained on them, the
// tables scored by Taylor and exact permutation, then half of the fields
// with values kept and stored within 40% of their fp32 bytes, as
// CompressModel does for every face.
func Demo(ctx context.Context, o DemoOptions) (*DemoResult, error) {
	t0 := time.Now()
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	res := &DemoResult{Data: filepath.Join(o.Dir, "synth.tsv"), Rows: o.Rows}
	truth, err := writeSynth(res.Data, o.Rows)
	if err != nil {
		return nil, err
	}
	res.Signal, res.Noise = truth.Signal()
	progress := func(d, t int64) {
		if o.Progress != nil {
			o.Progress("train", d, t)
		}
	}
	cfg := model.DefaultConfig()
	res.ModelFile = filepath.Join(o.Dir, "model.shark")
	tr, err := TrainModelFile(res.ModelFile, TrainOptions{Data: res.Data, Read: dataset.Options{Format: "criteo"}, MinCount: 2, Config: cfg, Valid: pipeline.DefaultValid, Progress: progress})
	if err != nil {
		return nil, err
	}
	res.Trained, res.HeldOut = tr, tr.Rows
	m := tr.Model
	if res.Scores, err = ScoreModel(m, tr.Test, true, 3, nil); err != nil {
		return nil, err
	}
	res.Top = top(res.Scores, 7)
	// Synth leaves most Criteo columns empty: keep half of the fields that
	// carry values (the empty ones score exactly 0 and go first).
	res.Varying = res.Scores.Varying
	s := DefaultModelSettings()
	s.Keep = max(1, res.Varying/2)
	res.Keep = s.Keep
	res.CompressedFile = filepath.Join(o.Dir, "compressed.shark")
	// Pruning chooses on the validation rows training kept out, never on
	// the held-out rows the result is reported on.
	in := ModelInput{Model: m, Encoding: tr.Encoding, Name: "model.shark", DataName: "synth.tsv",
		Data: &modelfile.Data{Train: tr.Train, Eval: tr.Test, Valid: tr.Valid, Training: tr.Training}}
	if res.Compress, err = CompressModelFile(ctx, res.CompressedFile, in, s, nil); err != nil {
		return nil, err
	}
	res.Seconds = time.Since(t0).Seconds()
	return res, nil
}

func writeSynth(path string, rows int) (dataset.Truth, error) {
	af, err := atomicfile.Create(path)
	if err != nil {
		return dataset.Truth{}, err
	}
	truth, err := dataset.Synth(af, rows, 10, 1)
	if err != nil {
		af.Abort()
		return truth, err
	}
	return truth, af.Commit()
}

// CompressModelFile is CompressModel into the file at path, written whole or not
// at all; inputs are the files it must not replace.
func CompressModelFile(ctx context.Context, path string, in ModelInput, s ModelSettings, progress func(string, int64, int64), inputs ...string) (*ModelResult, error) {
	af, err := atomicfile.Create(path, inputs...)
	if err != nil {
		return nil, err
	}
	res, err := CompressModel(ctx, in, s, af, progress)
	if err != nil {
		af.Abort()
		return nil, err
	}
	return res, af.Commit()
}

// top is the n best fields by Taylor, best first.
func top(s *Scores, n int) []string {
	f := append([]FieldScore{}, s.Fields...)
	sort.SliceStable(f, func(i, j int) bool { return f[i].Taylor > f[j].Taylor })
	var out []string
	for _, x := range f[:min(n, len(f))] {
		out = append(out, x.Name)
	}
	return out
}
