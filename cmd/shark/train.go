package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"shark/compress"
	"shark/core"
	"shark/core/kernels"
	"shark/ctr/dataset"
	"shark/ctr/importance"
	"shark/ctr/model"
	"shark/ctr/pipeline"
	"shark/internal/atomicfile"
)

func (c *cli) synthCmd() *cobra.Command {
	var out string
	var rows, fields int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "synth -o FILE --rows N",
		Short: "write Criteo-format data with planted truth",
		Long: `Writes Criteo-format data (label, 13 integer columns, 26 categorical columns)
with planted truth: of the first F categorical columns, F/2+1 move the click
probability with strengths falling geometrically (1.2, 0.96, 0.77, ...) and
the rest are pure noise; every column's values follow a Zipf law over 50 to
1600 values. The other columns are left empty.

--json prints {file, rows, signal, noise, strength, vocab}.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			if rows < 1 || fields < 1 || fields > 26 {
				return usagef("want --rows N >= 1 and --fields 1..26")
			}
			af, err := atomicfile.Create(out)
			if err != nil {
				return err
			}
			truth, err := dataset.Synth(af, rows, fields, seed)
			if err != nil {
				af.Abort()
				return err
			}
			if err := af.Commit(); err != nil {
				return err
			}
			sig, noise := truth.Signal()
			if c.json {
				return c.result(map[string]any{"file": out, "rows": rows, "signal": sig, "noise": noise, "strength": truth.Strength, "vocab": truth.Vocab})
			}
			fmt.Fprintf(c.stdout, "wrote %d rows to %s; signal fields %v, noise fields %v\n", rows, quoteName(out), sig, noise)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&out, "output", "o", "", "the data file to write (required)")
	fs.IntVar(&rows, "rows", 0, "number of rows (required)")
	fs.IntVar(&fields, "fields", 12, "categorical fields with content, 1..26")
	fs.Uint64Var(&seed, "seed", 1, "random seed")
	cmd.MarkFlagRequired("output")
	cmd.MarkFlagRequired("rows")
	return cmd
}

func (c *cli) trainCmd() *cobra.Command {
	var d dataFlags
	var out, test string
	var hidden []int
	valid := pipeline.DefaultValid
	cfg := model.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "train DATA -o MODEL.shark",
		Short: "train the reference CTR model",
		Long: `Trains the reference CTR model: one embedding table per field, the rows
concatenated into an MLP with ReLU, a sigmoid output and logloss, with Adam or
Adagrad. Deterministic for a seed whatever the number of cores. The feature
encoding (each field's values -> table rows, rare values sharing an
out-of-vocabulary row) is built from the training rows of DATA and saved in
MODEL, and so is what the model was trained on: a hash of every training
row's content (labels and values, whatever the line ends), and the held-out
share and seed of DATA (--split) or the test file (--test). --split holds
out rows by that hash, not by position, so a row is held out wherever it is
read. Rows of the test file that are training rows are left out of its
score and counted. Later commands never score a training row as held-out.
--valid (default 0.2) keeps that share of the training rows out of training
as validation rows, by the same hash with another seed, recorded in MODEL:
prune and compress make their choices (tables, rollbacks, the budget of
--max-auc-drop) on them, rows the model never fitted, and report on the
held-out rows alone. Prints the held-out AUC and logloss.

--json prints {auc, logloss, rows, train_rows, test_rows, fields,
embedding_bytes, epochs, seconds, train_seconds, samples_per_sec, model,
kernels, leaks, validation_rows}; rows says which rows the AUC came from. leaks lists
[{field, auc}] for every column that alone separates the held-out labels
with AUC >= 0.99 (also a warning): such a column gives the label away, and
the AUC of a model trained beside it means nothing.`,
		Args: exactArgs(1, "one data file DATA"),
		RunE: func(_ *cobra.Command, args []string) error {
			cfg.Hidden = hidden
			if test != "" {
				cfg.Split = 0
			}
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			return c.train(args[0], test, out, &d, cfg, valid)
		},
	}
	fs := cmd.Flags()
	d.add(fs, false)
	fs.StringVarP(&out, "output", "o", "", "the model file to write (required)")
	cmd.MarkFlagRequired("output")
	fs.StringVar(&test, "test", "", "a separate test file (instead of --split): every one of its rows is held out")
	fs.Float64Var(&cfg.Split, "split", cfg.Split, "share of DATA held out for testing")
	fs.Float64Var(&valid, "valid", valid, "share of the training rows kept out of training as validation rows, for prune's and compress's choices (0: none)")
	fs.IntVar(&cfg.Dim, "dim", cfg.Dim, "embedding dimension")
	fs.IntSliceVar(&hidden, "hidden", cfg.Hidden, "MLP hidden sizes")
	fs.StringVar(&cfg.Optimizer, "optimizer", cfg.Optimizer, "adam or adagrad")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "learning rate")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "minibatch size")
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "training epochs")
	fs.Float64Var(&cfg.L2, "l2", cfg.L2, "L2 penalty on looked-up embedding rows")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	fs.IntVar(&cfg.Workers, "workers", 0, "worker goroutines (0: every core); results do not depend on it")
	return cmd
}

func (c *cli) train(data, test, out string, d *dataFlags, cfg model.Config, valid float64) error {
	if err := outputs([]string{out}, data, test); err != nil {
		return err
	}
	t0 := time.Now()
	prog := c.updater()
	tr, err := compress.TrainModelFile(out, compress.TrainOptions{Data: data, Test: test, Read: d.options(), MinCount: d.minCount,
		SkipBad: d.skipBad, Config: cfg, Valid: valid, Progress: func(n, total int64) {
			if prog != nil {
				prog("train", n, total)
			}
		}}, data, test)
	c.prog.done()
	if errors.Is(err, core.ErrInvalid) {
		return usageError{err}
	}
	if tr != nil {
		if tr.Skipped > 0 {
			c.warn("skipped %d malformed rows", tr.Skipped)
		}
		c.warnLeaks(tr.Leaks)
	}
	if err != nil {
		return err
	}
	m, met := tr.Model, tr.Metrics
	secs := time.Since(t0).Seconds()
	if c.json {
		return c.result(map[string]any{"auc": met.AUC, "logloss": met.LogLoss, "rows": tr.Rows, "train_rows": tr.Train.Rows(), "test_rows": tr.Test.Rows(),
			"fields": len(tr.Encoding.Fields), "embedding_bytes": m.EmbeddingBytes(), "epochs": tr.History, "seconds": secs, "model": out,
			"train_seconds": tr.TrainSeconds, "samples_per_sec": float64(tr.Train.Rows()*m.Cfg.Epochs) / tr.TrainSeconds, "kernels": kernels.Impl(),
			"leaks": leaksJSON(tr.Leaks), "validation_rows": tr.ValidRows})
	}
	for _, e := range tr.History {
		fmt.Fprintf(c.stdout, "epoch %d: train logloss %.4f, test AUC %.4f logloss %.4f\n", e.Epoch, e.TrainLoss, e.Valid.AUC, e.Valid.LogLoss)
	}
	fmt.Fprintf(c.stdout, "test AUC %.4f, logloss %.4f on %s (trained on %s rows, %d fields, %s of embeddings) in %.1fs; saved %s\n",
		met.AUC, met.LogLoss, tr.Rows.Text, dataset.Count(tr.Train.Rows()), len(tr.Encoding.Fields), compress.Size(m.EmbeddingBytes()), secs, quoteName(out))
	if tr.Valid != nil {
		fmt.Fprintf(c.stdout, "kept for prune's and compress's choices: %s\n", tr.ValidRows.Text)
	}
	return nil
}

// warnLeaks names every column that alone gives the held-out labels away.
func (c *cli) warnLeaks(leaks []importance.Leak) {
	for _, l := range leaks {
		c.warn("column %q alone separates the held-out labels (AUC %.4f): it gives the label away, so the held-out AUC says nothing of the other columns; leave it out (--ignore %s, in CSV)",
			l.Field, l.AUC, l.Field)
	}
}

// leaksJSON is leaks for --json: a list, empty when there are none.
func leaksJSON(leaks []importance.Leak) []importance.Leak {
	if leaks == nil {
		return []importance.Leak{}
	}
	return leaks
}
