package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"shark/core"
	"shark/ctr/experiment"
	"shark/ctr/model"
	"shark/ctr/pipeline"
)

func runExperiment(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("experiment", "taylor|ablation|sweep MODEL DATA -o DIR", `
Runs one of the paper's experiments on the held-out rows of DATA and writes
DIR/report.md, SVG charts and DIR/results.json (the numbers behind them).
  taylor    Taylor against exact permutation importance: both scores per
            field, their Spearman rank correlation, and the time of each
  ablation  no compression, F-Permutation only, F-Quantization only, both
            (SHARK), and the baselines random table drop, exact-permutation
            drop, uniform fp16, uniform int8, frequency-only priority
            (w_pos = w_neg): AUC, logloss and embedding bytes, over --seeds
            models trained with MODEL's settings on DATA
  sweep     AUC against embedding bytes across budgets and prune fractions`, stderr)
	df := addDataFlags(fs)
	out := fs.String("o", "", "output directory (required)")
	seeds := fs.Int("seeds", 3, "ablation: models trained with seeds 1..N")
	keep := fs.Float64("keep-fraction", 0.5, "share of fields the full method keeps")
	budget := fs.String("budget", "40%", "budget of the full method, a share of the kept tables' fp32 bytes")
	repeats := fs.Int("repeats", 3, "shuffles per field for exact permutation")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 3 || *out == "" {
		return fmt.Errorf("%w: want taylor|ablation|sweep MODEL DATA -o DIR", errUsage)
	}
	bf, err := budgetShare(*budget)
	if err != nil {
		return err
	}
	kind := pos[0]
	if kind != "taylor" && kind != "ablation" && kind != "sweep" {
		return fmt.Errorf("%w: unknown experiment %q", errUsage, kind)
	}
	l, data, err := loadModelData(pos[1], pos[2], df, true, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	m, train, valid := l.Model, data.Train, data.Eval
	cmdline := "shark experiment " + strings.Join(args, " ")
	base := pipeline.DefaultOptions()
	base.KeepFraction, base.Budget, base.Repeats = *keep, bf, *repeats
	base.PriorityEpochs = m.Cfg.Epochs
	base.Seed = m.Cfg.Seed
	prog := newProgress(stderr)
	defer prog.done()
	if err := runKind(kind, m, train, valid, base, *out, cmdline, *seeds, *keep, *budget, prog); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*out, "report.md"))
	return nil
}

// runKind runs one experiment and writes its report to dir.
func runKind(kind string, m *model.Model, train, valid *model.Dataset, base pipeline.Options, dir, cmdline string, seeds int, keep float64, budget string, prog *progress) error {
	switch kind {
	case "taylor":
		e, err := experiment.RunTaylor(m, valid, base.Repeats, m.Cfg.Seed)
		if err != nil {
			return err
		}
		return experiment.WriteTaylor(dir, cmdline, e)
	case "ablation":
		vs := experiment.Variants(keep, base.Budget)
		outs, err := experiment.Ablation(m, train, valid, base, vs, seeds, prog.update)
		if err != nil {
			return err
		}
		return experiment.WriteAblation(dir, cmdline, vs, outs, seeds, keep, budget)
	}
	pts, err := experiment.Sweep(m, train, valid, base, []float64{1, 0.75, 0.5, 0.25}, []float64{0.3, 0.4, 0.5, 0.6, 0.8, 1.0})
	if err != nil && !errors.Is(err, core.ErrBudget) {
		return err
	}
	return experiment.WriteSweep(dir, cmdline, pts)
}
