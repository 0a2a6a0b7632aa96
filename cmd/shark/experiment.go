package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"shark/compress"
	"shark/core"
	"shark/ctr/dataset"
	"shark/ctr/experiment"
	"shark/ctr/modelfile"
	"shark/ctr/pipeline"
)

// experimentFlags are the options the experiments share.
type experimentFlags struct {
	data    dataFlags
	out     string
	seeds   int
	keep    float64
	budget  budget
	repeats int
}

func (c *cli) experimentCmd() *cobra.Command {
	cmd := parent(&cobra.Command{
		Use:   "experiment taylor|ablation|sweep MODEL DATA -o DIR",
		Short: "reports with charts: the paper's experiments",
		Long: `Runs one of the paper's experiments on the held-out rows and writes
DIR/report.md, SVG charts and DIR/results.json (the numbers behind them, and
the rows they came from).

` + heldOutHelp,
	})
	for _, kind := range []struct{ name, short, long string }{
		{"taylor", "Taylor against exact permutation importance", `Both scores per field, their Spearman rank correlation, and the time of each.`},
		{"ablation", "the method's parts and baselines, over seeds", `No compression, F-Permutation only, F-Quantization only, both (SHARK), and the
baselines random table drop, exact-permutation drop, uniform fp16, uniform
int8, frequency-only priority (w_pos = w_neg): AUC, logloss and embedding
bytes, over --seeds models trained with MODEL's settings (on the rows split
by each seed, or on DATA when the held-out rows are a --test file).`},
		{"sweep", "AUC against embedding bytes across budgets and prune fractions", `Keeps 100%, 75%, 50% and 25% of the fields, each unquantized and at budgets
of 30% to 100%.`},
	} {
		cmd.AddCommand(c.experimentKind(kind.name, kind.short, kind.long))
	}
	return cmd
}

func (c *cli) experimentKind(kind, short, long string) *cobra.Command {
	var f experimentFlags
	f.budget.Set("40%")
	cmd := &cobra.Command{
		Use:   kind + " MODEL DATA -o DIR",
		Short: short,
		Long:  long + "\n\n" + heldOutHelp,
		Args:  exactArgs(2, "MODEL DATA"),
		RunE: func(_ *cobra.Command, args []string) error {
			if f.budget.share == 0 {
				return usagef("--budget must be a percentage of the kept tables' fp32 bytes, e.g. 40%%")
			}
			return c.experiment(kind, args, &f, "shark "+strings.Join(c.args, " "))
		},
	}
	fs := cmd.Flags()
	f.data.add(fs, true)
	fs.StringVarP(&f.out, "output", "o", "", "the directory to write the report to (required)")
	cmd.MarkFlagRequired("output")
	fs.IntVar(&f.seeds, "seeds", 3, "ablation: models trained with seeds 1..N")
	fs.Float64Var(&f.keep, "keep-fraction", 0.5, "share of fields the full method keeps")
	fs.Var(&f.budget, "budget", "budget of the full method, a share of the kept tables' fp32 bytes")
	fs.IntVar(&f.repeats, "repeats", 3, "shuffles per field for exact permutation")
	return cmd
}

func (c *cli) experiment(kind string, args []string, f *experimentFlags, cmdline string) error {
	inputs := []string{args[0], args[1], f.data.test}
	var out []string
	for _, name := range experiment.ReportFiles(kind) {
		out = append(out, filepath.Join(f.out, name))
	}
	if err := folderOutputs(out, inputs...); err != nil {
		return err
	}
	l, data, err := c.modelData(args[0], args[1], &f.data, true, kind != "taylor", false)
	if err != nil {
		return err
	}
	defer l.Close()
	m := l.Model
	base := pipeline.DefaultOptions(budgetRule(f.budget.share))
	base.KeepFraction, base.Repeats = f.keep, f.repeats
	base.PriorityEpochs = m.Cfg.Epochs
	base.Seed = m.Cfg.Seed
	if data.ValidRows.Kind == dataset.RowsValid {
		base.Validation = data.Valid // pruning's choices never come from the test file
	}
	r := experiment.Report{Dir: f.out, Cmd: cmdline, Rows: data.Rows, Inputs: inputs}
	if err := runKind(kind, l, data, base, f, r, c.updater()); err != nil {
		return err
	}
	c.prog.done()
	report := filepath.Join(f.out, "report.md")
	if c.json {
		return c.result(map[string]any{"report": report, "results": filepath.Join(f.out, "results.json"), "rows": data.Rows})
	}
	fmt.Fprintf(c.stdout, "wrote %s (scores on %s)\n", quoteName(report), data.Rows.Text)
	return nil
}

// budgetRule is the rule of the model settings' default with a budget of
// share of the kept tables' fp32 bytes.
func budgetRule(share float64) func(fp32 int64) core.Rule {
	s := compress.DefaultModelSettings().Quantize
	s.Budget = share
	return s.Rule
}

// runKind runs one experiment and writes its report.
func runKind(kind string, l *modelfile.Loaded, data *modelfile.Data, base pipeline.Options, f *experimentFlags, r experiment.Report, prog func(string, int64, int64)) error {
	m := l.Model
	switch kind {
	case "taylor":
		e, err := experiment.RunTaylor(m, data.Eval, base.Repeats, m.Cfg.Seed)
		if err != nil {
			return err
		}
		return experiment.WriteTaylor(r, e)
	case "ablation":
		vs := experiment.Variants(f.keep, f.budget.share)
		outs, err := experiment.Ablation(m, data, base, vs, f.seeds, prog)
		if err != nil {
			return err
		}
		return experiment.WriteAblation(r, vs, outs, f.seeds, f.keep, f.budget.text)
	}
	pts, err := experiment.Sweep(m, data.Train, data.Eval, base, []float64{1, 0.75, 0.5, 0.25}, []float64{0.3, 0.4, 0.5, 0.6, 0.8, 1.0}, budgetRule)
	if err != nil && !errors.Is(err, core.ErrBudget) {
		return err
	}
	return experiment.WriteSweep(r, pts)
}
