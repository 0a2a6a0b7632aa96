package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"shark/compress"
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
	for _, name := range compress.ExperimentFiles(kind) {
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
	r := compress.ExperimentReport{Dir: f.out, Cmd: cmdline, Rows: data.Rows, Inputs: inputs}
	es := compress.ExperimentSettings{Kind: kind, Keep: f.keep, Budget: f.budget.share, BudgetText: f.budget.text, Repeats: f.repeats, Seeds: f.seeds}
	if err := compress.RunExperiment(l, data, es, r, c.updater()); err != nil {
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
