package main

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"shark/core/kernels"
	"shark/ctr/dataset"
	"shark/ctr/model"
	"shark/ctr/modelfile"
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
	af, err := atomicfile.CreateAtomic(*out)
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
	if *test != "" {
		cfg.Split = 0
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	t0 := time.Now()
	dopt := df.options()
	enc, st, err := dataset.Build(dataset.FileOpener(pos[0], dopt), dopt, *df.minCount, *df.skipBad)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	ds, err := df.encodeWith(pos[0], enc, stderr)
	if err != nil {
		return err
	}
	if st.Skipped > 0 {
		fmt.Fprintf(stderr, "warning: skipped %d malformed rows\n", st.Skipped)
	}
	train, testDS := ds, (*model.Dataset)(nil)
	if *test != "" {
		if testDS, err = df.encodeWith(*test, enc, stderr); err != nil {
			return err
		}
	} else if cfg.Split > 0 {
		train, testDS = ds.Split(cfg.Split, cfg.Seed)
	}
	if testDS == nil || testDS.Rows() == 0 {
		return fmt.Errorf("%w: no test rows: give --test or a --split above 0", errUsage)
	}
	m, err := model.New(cfg, train)
	if err != nil {
		return err
	}
	prog := newProgress(stderr)
	t1 := time.Now()
	hist, err := m.Train(train, testDS, cfg.Epochs, func(d, t int64) { prog.update("train", d, t) })
	trainSecs := time.Since(t1).Seconds()
	prog.done()
	if err != nil {
		return err
	}
	met, err := m.Evaluate(testDS)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(pos[0])
	prov := map[string]string{"tool": "shark " + version, "data": filepath.Base(abs), "created": time.Now().UTC().Format(time.RFC3339)}
	if err := modelfile.Save(*out, m, enc, nil, nil, prov, nil); err != nil {
		return err
	}
	secs := time.Since(t0).Seconds()
	if *asJSON {
		return writeJSON(stdout, map[string]any{"auc": met.AUC, "logloss": met.LogLoss, "train_rows": train.Rows(), "test_rows": testDS.Rows(),
			"fields": len(enc.Fields), "embedding_bytes": m.EmbeddingBytes(), "epochs": hist, "seconds": secs, "model": *out,
			"train_seconds": trainSecs, "samples_per_sec": float64(train.Rows()*cfg.Epochs) / trainSecs, "kernels": kernels.Impl()})
	}
	for _, e := range hist {
		fmt.Fprintf(stdout, "epoch %d: train logloss %.4f, test AUC %.4f logloss %.4f\n", e.Epoch, e.TrainLoss, e.Valid.AUC, e.Valid.LogLoss)
	}
	fmt.Fprintf(stdout, "test AUC %.4f, logloss %.4f on %d rows (trained on %d, %d fields, %s of embeddings) in %.1fs; saved %s\n",
		met.AUC, met.LogLoss, testDS.Rows(), train.Rows(), len(enc.Fields), humanBytes(m.EmbeddingBytes()), secs, *out)
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
	ds, err := df.encodeWith(pos[1], l.Encoding, stderr)
	if err != nil {
		return err
	}
	met, err := l.Model.Evaluate(ds)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, met)
	}
	fmt.Fprintf(stdout, "AUC %.4f, logloss %.4f on %d rows\n", met.AUC, met.LogLoss, met.Rows)
	return nil
}
