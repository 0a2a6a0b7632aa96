package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"shark/compress"
	"shark/core"
	"shark/core/kernels"
	"shark/ctr/dataset"
	"shark/ctr/model"
	"shark/ctr/modelfile"
	"shark/ctr/pipeline"
	"shark/internal/atomicfile"
)

func runSynth(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("synth", "-o FILE --rows N [--fields F] [--seed S]", `
Writes Criteo-format data (label, 13 integer columns, 26 categorical columns)
with planted truth: of the first F categorical columns, F/2+1 move the click
probability with strengths falling geometrically (1.2, 0.96, 0.77, ...) and
the rest are pure noise; every column's values follow a Zipf law over 50 to
1600 values. The other columns are left empty. The JSON output names the
signal and noise fields.`, stderr)
	out := fs.String("o", "", "output file (required)")
	rows := fs.Int("rows", 0, "number of rows (required)")
	fields := fs.Int("fields", 12, "categorical fields with content, 1..26")
	seed := fs.Uint64("seed", 1, "random seed")
	asJSON := fs.Bool("json", false, "print the planted truth as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *out == "" || *rows < 1 {
		return fmt.Errorf("%w: want -o FILE --rows N", errUsage)
	}
	af, err := atomicfile.Create(*out)
	if err != nil {
		return err
	}
	truth, err := dataset.Synth(af, *rows, *fields, *seed)
	if err != nil {
		af.Abort()
		return err
	}
	if err := af.Commit(); err != nil {
		return err
	}
	sig, noise := truth.Signal()
	if *asJSON {
		return writeJSON(stdout, map[string]any{"file": *out, "rows": *rows, "signal": sig, "noise": noise, "strength": truth.Strength, "vocab": truth.Vocab})
	}
	fmt.Fprintf(stdout, "wrote %d rows to %s; signal fields %v, noise fields %v\n", *rows, *out, sig, noise)
	return nil
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", "DATA [--test DATA2 | --split F] -o MODEL.shark [options]", `
Trains the reference CTR model: one embedding table per field, the rows
concatenated into an MLP with ReLU, a sigmoid output and logloss, with Adam or
Adagrad. Deterministic for a seed whatever the number of cores. The feature
encoding (each field's values -> table rows, rare values sharing an
out-of-vocabulary row) is built from DATA and saved in MODEL, as is the
held-out share: later commands given the same DATA hold out the same rows.
Prints the held-out AUC and logloss.`, stderr)
	df := addDataFlags(fs)
	out := fs.String("o", "", "output model (required)")
	test := fs.String("test", "", "a separate test file (instead of --split)")
	def := model.DefaultConfig()
	split := fs.Float64("split", def.Split, "share of DATA held out for testing")
	dim := fs.Int("dim", def.Dim, "embedding dimension")
	hidden := fs.String("hidden", "64,32", "MLP hidden sizes")
	opt := fs.String("optimizer", def.Optimizer, "adam or adagrad")
	lr := fs.Float64("lr", def.LR, "learning rate")
	batch := fs.Int("batch", def.Batch, "minibatch size")
	epochs := fs.Int("epochs", def.Epochs, "training epochs")
	l2 := fs.Float64("l2", def.L2, "L2 penalty on looked-up embedding rows")
	seed := fs.Uint64("seed", def.Seed, "random seed")
	workers := fs.Int("workers", 0, "worker goroutines (0: every core); results do not depend on it")
	asJSON := fs.Bool("json", false, `print {"auc", "logloss", "train_rows", "test_rows", "epochs": [...], "seconds"}`)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return fmt.Errorf("%w: want DATA -o MODEL.shark", errUsage)
	}
	h, err := parseInts(*hidden)
	if err != nil {
		return err
	}
	cfg := model.Config{Dim: *dim, Hidden: h, Optimizer: *opt, LR: *lr, Batch: *batch, Epochs: *epochs, L2: *l2, Seed: *seed, Split: *split, Workers: *workers}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	t0 := time.Now()
	prog := newProgress(stderr)
	tr, err := pipeline.Train(pipeline.TrainOptions{Data: pos[0], Test: *test, Read: df.options(), MinCount: *df.minCount,
		SkipBad: *df.skipBad, Config: cfg, Progress: func(d, t int64) { prog.update("train", d, t) }})
	prog.done()
	if errors.Is(err, core.ErrInvalid) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err != nil {
		return err
	}
	if tr.Skipped > 0 {
		fmt.Fprintf(stderr, "warning: skipped %d malformed rows\n", tr.Skipped)
	}
	prov := compress.Provenance(compress.Origin{Step: "train", Data: filepath.Base(pos[0])})
	if err := modelfile.Save(*out, tr.Model, tr.Encoding, modelfile.Record{Provenance: prov}, pos[0], *test); err != nil {
		return err
	}
	m, met, hist := tr.Model, tr.Metrics, tr.History
	secs := time.Since(t0).Seconds()
	if *asJSON {
		return writeJSON(stdout, map[string]any{"auc": met.AUC, "logloss": met.LogLoss, "train_rows": tr.Train.Rows(), "test_rows": tr.Test.Rows(),
			"fields": len(tr.Encoding.Fields), "embedding_bytes": m.EmbeddingBytes(), "epochs": hist, "seconds": secs, "model": *out,
			"train_seconds": tr.TrainSeconds, "samples_per_sec": float64(tr.Train.Rows()*m.Cfg.Epochs) / tr.TrainSeconds, "kernels": kernels.Impl()})
	}
	for _, e := range hist {
		fmt.Fprintf(stdout, "epoch %d: train logloss %.4f, test AUC %.4f logloss %.4f\n", e.Epoch, e.TrainLoss, e.Valid.AUC, e.Valid.LogLoss)
	}
	fmt.Fprintf(stdout, "test AUC %.4f, logloss %.4f on %d rows (trained on %d, %d fields, %s of embeddings) in %.1fs; saved %s\n",
		met.AUC, met.LogLoss, tr.Test.Rows(), tr.Train.Rows(), len(tr.Encoding.Fields), compress.Size(m.EmbeddingBytes()), secs, *out)
	return nil
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "MODEL DATA [--json]", `
Scores a model on every row of DATA, encoded with the model's encoding.
Compressed tables are read with dequantize-on-lookup straight from the file.`, stderr)
	df := addDataFlags(fs)
	asJSON := fs.Bool("json", false, `print {"auc", "logloss", "rows"}`)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return fmt.Errorf("%w: want MODEL DATA", errUsage)
	}
	l, err := modelfile.Load(pos[0], false)
	if err != nil {
		return err
	}
	defer l.Close()
	d, err := df.read(l, pos[1], stderr)
	if err != nil {
		return err
	}
	met, err := l.Model.Evaluate(d.All)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, met)
	}
	fmt.Fprintf(stdout, "AUC %.4f, logloss %.4f on %d rows\n", met.AUC, met.LogLoss, met.Rows)
	return nil
}
