package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"shark/compress"
	"shark/core"
	"shark/ctr/dataset"
	"shark/ctr/importance"
	"shark/ctr/modelfile"
	"shark/ctr/pipeline"
	"shark/internal/provenance"
	"shark/internal/quantizeflags"
)

const heldOutHelp = `Scores come from rows the model was not trained on, told by their content
(the model records a hash of every row it trained on), whatever file they
arrive in, with whatever line ends or order: with --test, the rows of that
file; otherwise the rows of DATA the model was not trained on. The training
rows left out are counted (rows.excluded in --json), and so are the
validation rows train kept out (rows.validation): prune and compress choose
tables, rollbacks and budgets on those, rows the model never fitted, and
never on the rows they report. A model trained before shark kept them (or
with --valid 0) has a warning: its choices are made on a share of DATA it
was trained on (or, pruning without --test, on the held-out rows). A model
trained on every row of DATA (with --test) is refused without --test.`

func (c *cli) evalCmd() *cobra.Command {
	var d dataFlags
	var allRows bool
	cmd := &cobra.Command{
		Use:   "eval MODEL DATA",
		Short: "held-out AUC and logloss of a model",
		Long: `Scores a model on the held-out rows of DATA, encoded with the model's encoding,
and says which rows they were. Compressed tables are read with
dequantize-on-lookup straight from the file. --all-rows scores every row of
DATA, training rows included, and says so.

` + heldOutHelp + `

--json prints {auc, logloss, rows}; rows says which rows.`,
		Args: exactArgs(2, "MODEL DATA"),
		RunE: func(_ *cobra.Command, args []string) error {
			if allRows && d.test != "" {
				return usagef("--all-rows and --test exclude each other")
			}
			l, data, err := c.modelData(args[0], args[1], &d, false, false, allRows)
			if err != nil {
				return err
			}
			defer l.Close()
			met, err := l.Model.Evaluate(data.Eval)
			if err != nil {
				return err
			}
			if c.json {
				return c.result(map[string]any{"auc": met.AUC, "logloss": met.LogLoss, "rows": data.Rows})
			}
			fmt.Fprintf(c.stdout, "AUC %.4f, logloss %.4f on %s\n", met.AUC, met.LogLoss, data.Rows.Text)
			return nil
		},
	}
	d.add(cmd.Flags(), true)
	cmd.Flags().BoolVar(&allRows, "all-rows", false, "score every row of DATA, training rows included")
	return cmd
}

func (c *cli) scoreCmd() *cobra.Command {
	var d dataFlags
	var exact bool
	var repeats int
	cmd := &cobra.Command{
		Use:   "score MODEL DATA",
		Short: "table importance: Taylor (and exact permutation)",
		Long: `Scores every embedding table of MODEL by F-Permutation: the first-order Taylor
approximation of permutation importance, Q_i = mean_s |g_si . (ebar_i - e_si)|,
in one forward and backward pass over the held-out rows. --exact also computes
exact permutation importance (the held-out logloss increase when a field's
values are shuffled, mean of --repeats shuffles), its time, and the Spearman
rank correlation of the two.

` + heldOutHelp + `

--json prints {fields: [{name, taylor, exact, exact_auc_drop}], spearman,
spearman_all, varying_fields, seconds, repeats, rows}; rows says which rows.`,
		Args: exactArgs(2, "MODEL DATA"),
		RunE: func(_ *cobra.Command, args []string) error {
			l, data, err := c.modelData(args[0], args[1], &d, false, false, false)
			if err != nil {
				return err
			}
			defer l.Close()
			prog := c.updater()
			res, err := compress.ScoreModel(l.Model, data.Eval, exact, repeats, func(n, t int) {
				if prog != nil {
					prog("exact permutation (fields)", int64(n), int64(t))
				}
			})
			c.prog.done()
			if err != nil {
				return err
			}
			if c.json {
				return c.result(struct {
					*compress.Scores
					Rows dataset.Rows `json:"rows"`
				}{res, data.Rows})
			}
			return c.printScores(res, data.Rows)
		},
	}
	d.add(cmd.Flags(), true)
	cmd.Flags().BoolVar(&exact, "exact", false, "also compute exact permutation importance")
	cmd.Flags().IntVar(&repeats, "repeats", 3, "shuffles per field for --exact")
	return cmd
}

// printScores prints the fields best first, with their units.
func (c *cli) printScores(res *compress.Scores, rows dataset.Rows) error {
	sorted := append([]compress.FieldScore{}, res.Fields...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Taylor > sorted[j].Taylor })
	fmt.Fprintf(c.stdout, "Table importance on %s, best first.\n", rows.Text)
	fmt.Fprintf(c.stdout, "Taylor: mean |g . (ebar - e)| per row (a logloss change); exact: held-out logloss increase when shuffled.\n\n")
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	if res.Spearman != nil {
		fmt.Fprintln(tw, "FIELD\tTAYLOR\tEXACT\tEXACT AUC DROP")
	} else {
		fmt.Fprintln(tw, "FIELD\tTAYLOR")
	}
	for _, f := range sorted {
		if f.Exact != nil {
			fmt.Fprintf(tw, "%s\t%.6f\t%.6f\t%.6f\n", terminalSafe(f.Name), f.Taylor, *f.Exact, *f.AUCDrop)
		} else {
			fmt.Fprintf(tw, "%s\t%.6f\n", terminalSafe(f.Name), f.Taylor)
		}
	}
	tw.Flush()
	fmt.Fprintf(c.stdout, "\nTaylor took %.3f s", res.Seconds["taylor"])
	if res.Spearman != nil {
		fmt.Fprintf(c.stdout, ", exact permutation %.3f s (%.1fx); Spearman %.3f over the %d fields that vary (%.3f over all)",
			res.Seconds["exact"], res.Seconds["exact"]/res.Seconds["taylor"], *res.Spearman, res.Varying, *res.SpearmanAll)
	}
	fmt.Fprintln(c.stdout, ".")
	return nil
}

// pruneFlags are the options of pruning, shared by prune and compress.
type pruneFlags struct {
	keep      int
	frac      float64
	rounds    int
	finetune  int
	tolerance float64
	scorer    string
}

func (p *pruneFlags) add(cmd *cobra.Command, defFrac float64) {
	fs := cmd.Flags()
	fs.IntVar(&p.keep, "keep", 0, "number of fields to keep (instead of --keep-fraction)")
	fs.Float64Var(&p.frac, "keep-fraction", defFrac, "share of the fields to keep")
	fs.IntVar(&p.rounds, "rounds", 1, "pruning rounds (score, drop, fine-tune)")
	fs.IntVar(&p.finetune, "finetune-epochs", 1, "fine-tuning epochs after each round, at a tenth of the learning rate")
	fs.Float64Var(&p.tolerance, "tolerance", 0.01, "roll back a round whose held-out AUC falls more than this below the unpruned model's (0: never)")
	fs.StringVar(&p.scorer, "scorer", "taylor", "table importance: taylor, exact, or random (a baseline)")
}

// count is the number of fields to keep of n.
func (p *pruneFlags) count(n int) (int, error) {
	if p.keep > 0 {
		return min(p.keep, n), nil
	}
	if !(p.frac > 0 && p.frac <= 1) {
		return 0, usagef("want --keep N or --keep-fraction in (0, 1]")
	}
	return max(1, int(p.frac*float64(n)+0.5)), nil
}

func (c *cli) pruneCmd() *cobra.Command {
	var d dataFlags
	var p pruneFlags
	var out string
	cmd := &cobra.Command{
		Use:   "prune MODEL DATA (--keep N | --keep-fraction F) -o OUT",
		Short: "iterative F-Permutation pruning",
		Long: `Iterative F-Permutation pruning: score every table (Taylor by default), drop
the lowest-scoring ones, fine-tune on the training rows, and repeat for
--rounds rounds until N fields remain. A round whose held-out AUC falls more
than --tolerance below the unpruned model's is rolled back and pruning stops
there. A dropped field's table leaves the model entirely. OUT records the rows
the model has now been trained on.

` + heldOutHelp + ` On a file the model never saw, its split share is held
out and the rest fine-tuned on.

--json prints {base_auc, auc, logloss, kept, dropped, rounds, rows}.`,
		Args: exactArgs(2, "MODEL DATA"),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := outputs([]string{out}, args[0], args[1], d.test); err != nil {
				return err
			}
			l, data, err := c.modelData(args[0], args[1], &d, true, true, false)
			if err != nil {
				return err
			}
			defer l.Close()
			m := l.Model
			n, err := p.count(len(m.Slots))
			if err != nil {
				return err
			}
			base, err := m.Evaluate(data.Eval)
			if err != nil {
				return err
			}
			pr, err := importance.Prune(m, data.Train, data.Valid, importance.PruneOptions{Keep: n, Rounds: p.rounds, FinetuneEpochs: p.finetune,
				Tolerance: p.tolerance, Scorer: p.scorer, Repeats: 3, Seed: m.Cfg.Seed, Progress: c.updater()})
			c.prog.done()
			if err != nil {
				return err
			}
			met, err := m.Evaluate(data.Eval)
			if err != nil {
				return err
			}
			prov := provenance.Record(provenance.Origin{Step: "prune", Input: filepath.Base(args[0]), Data: filepath.Base(args[1])})
			if err := modelfile.Save(out, m, l.Encoding, modelfile.Record{Training: data.Training, Provenance: prov}, args[0], args[1], d.test); err != nil {
				return err
			}
			if c.json {
				return c.result(map[string]any{"base_auc": base.AUC, "auc": met.AUC, "logloss": met.LogLoss, "kept": pr.Kept, "dropped": pr.Dropped, "rounds": pr.Rounds,
					"rows": data.Rows, "validation_rows": data.ValidRows})
			}
			fmt.Fprintf(c.stdout, "kept %d fields %v\ndropped %v\nAUC %.4f -> %.4f on %s; saved %s\n", len(pr.Kept), pr.Kept, pr.Dropped, base.AUC, met.AUC, data.Rows.Text, quoteName(out))
			if data.ValidRows.Kind == dataset.RowsValid {
				fmt.Fprintf(c.stdout, "tables chosen on the %s\n", data.ValidRows.Text)
			}
			return nil
		},
	}
	d.add(cmd.Flags(), true)
	p.add(cmd, 0)
	cmd.Flags().StringVarP(&out, "output", "o", "", "the model file to write (required)")
	cmd.MarkFlagRequired("output")
	return cmd
}

func (c *cli) compressCmd() *cobra.Command {
	var d dataFlags
	var p pruneFlags
	var out, report string
	var b budget
	var wpos, wneg, gamma float64
	var noInt4 bool
	var tiers string
	var block int64
	var maxDrop float64
	b.Set("40%")
	cmd := &cobra.Command{
		Use:   "compress MODEL DATA -o OUT",
		Short: "the whole pipeline: prune, then quantize",
		Long: `The whole SHARK pipeline: F-Permutation prunes the model to the given share of
its fields (with fine-tuning), then F-Quantization accumulates row priorities
over the training rows (w_pos for clicks, w_neg otherwise, decayed by gamma per
epoch) and stores the kept tables within --budget of their fp32 bytes,
minimising the priority-weighted error (--no-int4: fp32, fp16 and int8 only,
as in the paper; --tiers names the tiers allowed). The AUC is measured before and after,
the compressed tables read with dequantize-on-lookup, exactly as OUT stores
them.

` + heldOutHelp + ` On a file the model never saw, its split share is held
out and the rest fine-tuned on.

--json prints {auc_before, auc_after, logloss_before, logloss_after,
auc_after_prune, embedding_bytes_before, embedding_bytes_after, kept_fields,
dropped_fields, tiers, allowed_tiers, prune, seconds, rows, validation_rows}.

--max-auc-drop 0.001 chooses the budget instead of --budget: the smallest
whose AUC on the validation rows (those train kept out, never fitted; for a
model without them, a share of the rows it fine-tunes on, kept out of
fine-tuning, with a warning) stays within 0.001 of
the unpruned model's, found by bisection between the least budget the tiers
allow and 100%, to within 0.5% of the kept tables' fp32 bytes, the rows'
measurements made once. With a block tier allowed (--tiers all) and no
--block, the search chooses the rows per block too: blocks of 64 rows
searched as above, then blocks of 16, 32, 128, 256 and 512 rows each
searched below the fewest bytes found so far (each measured once), and the
block size and budget of the fewest stored bytes within the drop on the
validation rows win. When pruning, the keep count is searched too: by
bisection between --keep (or --keep-fraction) and every field, for the
fewest fields whose pruned, fine-tuned model stays within the drop at fp32,
each such count's budget searched, and every field tried too; the count
of the fewest bytes wins. Each probe is printed as it is scored; the result
is then scored on the held-out (or --test) rows; when their drop is past
the tolerance (the validation rows did not foresee it) a warning says so,
and --json's held_out_within is false. --json adds budget_search:
{max_auc_drop, validation_auc_before, validation_auc_after_prune,
min_budget, resolution, budget, budget_bytes, bytes, met, block, probes:
[{budget, budget_bytes, bytes, auc, drop, within, block}], keep_probes:
[{keep, auc, drop, within, budget, bytes}]}, and block (the rows per block
stored) beside allowed_tiers.`,
		Args: exactArgs(2, "MODEL DATA"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if b.share == 0 {
				return usagef("--budget must be a percentage of the kept tables' fp32 bytes, e.g. 40%%")
			}
			if maxDrop != 0 && cmd.Flags().Changed("budget") {
				return usagef("--budget and --max-auc-drop exclude each other: the search chooses the budget")
			}
			s := compress.DefaultModelSettings()
			s.Keep, s.KeepFraction, s.Rounds, s.FinetuneEpochs, s.Tolerance, s.Scorer = p.keep, p.frac, p.rounds, p.finetune, p.tolerance, p.scorer
			q := &s.Quantize
			q.Budget, q.NoInt4, q.WPos, q.WNeg, q.Gamma = b.share, noInt4, wpos, wneg, gamma
			q.Tiers, q.Block = tiers, int(min(max(block, -1), 1<<31)) // out of range: Validate says so
			s.MaxAUCDrop = maxDrop
			if err := s.Validate(); err != nil {
				return usageError{err}
			}
			return c.compress(args, &d, s, out, report)
		},
	}
	d.add(cmd.Flags(), true)
	p.add(cmd, 0.5)
	fs := cmd.Flags()
	fs.Var(&b, "budget", "share of the kept tables' fp32 bytes")
	fs.BoolVar(&noInt4, "no-int4", false, "fp32, fp16 and int8 only, as in the SHARK paper")
	quantizeflags.DefineTiers(fs, &tiers)
	// compress has no tier fractions: its tiers go with --budget or
	// --max-auc-drop.
	fs.Lookup("tiers").Usage = strings.Replace(quantizeflags.TiersUsage, "with --budget or the tier fractions", "with --budget or --max-auc-drop", 1)
	quantizeflags.DefineBlock(fs, &block)
	fs.Float64Var(&maxDrop, "max-auc-drop", 0, "choose the smallest budget whose validation AUC stays within this of the unpruned model's (e.g. 0.001), by bisection")
	def := core.DefaultPriorityParams()
	fs.Float64Var(&wpos, "w-pos", def.WPos, "priority weight of an access by a positive sample")
	fs.Float64Var(&wneg, "w-neg", def.WNeg, "priority weight of an access by a negative sample")
	fs.Float64Var(&gamma, "gamma", def.Gamma, "priority decay per epoch, in (0, 1]")
	fs.StringVarP(&out, "output", "o", "", "the model file to write (required)")
	fs.StringVar(&report, "report", "", "also write a Markdown report here")
	cmd.MarkFlagRequired("output")
	return cmd
}

func (c *cli) compress(args []string, d *dataFlags, s compress.ModelSettings, out, report string) error {
	if err := outputs([]string{out, report}, args[0], args[1], d.test); err != nil {
		return err
	}
	if report != "" && report == out {
		return usagef("--report and -o name the same file")
	}
	l, data, err := c.modelData(args[0], args[1], d, true, true, false)
	if err != nil {
		return err
	}
	defer l.Close()
	if s.MaxAUCDrop > 0 && !c.json {
		n, fields := 0, len(l.Model.Slots)
		s.OnProbe = func(p pipeline.Probe) {
			n++
			c.prog.clear()
			fmt.Fprintln(c.stdout, "  "+p.Line(n))
		}
		s.OnKeep = func(k pipeline.KeepProbe) {
			n = 0
			c.prog.clear()
			fmt.Fprintln(c.stdout, k.Line(fields))
		}
	}
	in := compress.ModelInput{Model: l.Model, Encoding: l.Encoding, Data: data, Name: args[0], DataName: args[1]}
	res, err := compress.CompressModelFile(context.Background(), out, in, s, c.updater(), args[0], args[1], d.test)
	c.prog.done()
	if err != nil {
		return err
	}
	budget := fmt.Sprintf("%g%%", 100*s.Quantize.Budget)
	if res.Search != nil {
		budget = fmt.Sprintf("%.2f%% (found by the budget search)", 100*res.Search.Budget)
	}
	if report != "" {
		text := res.Report(filepath.Base(args[0]), filepath.Base(args[1]), budget, s.KeepFraction) + "\nScores on " + data.Rows.Text + ".\n"
		if err := writeFile(report, text, args[0], args[1], d.test, out); err != nil {
			return err
		}
	}
	if w := res.HeldOutWithin; w != nil && !*w {
		c.warn("the held-out AUC drop %.5f (%.5f -> %.5f on %s) is past --max-auc-drop %g: the budget was chosen on the validation rows, which did not foresee it; ask for a smaller --max-auc-drop or give a --budget of your own",
			res.HeldOutDrop(), res.AUCBefore, res.AUCAfter, data.Rows.Text, s.MaxAUCDrop)
	}
	if c.json {
		return c.result(struct {
			*compress.ModelResult
			Rows      dataset.Rows `json:"rows"`
			ValidRows dataset.Rows `json:"validation_rows"`
		}{res, data.Rows, data.ValidRows})
	}
	if res.Search != nil {
		fmt.Fprintln(c.stdout, res.Search.Verdict())
	}
	fmt.Fprintf(c.stdout, "%s, on %s\nsaved %s\n", res.Describe(), data.Rows.Text, quoteName(out))
	if data.ValidRows.Kind == dataset.RowsValid {
		chosen := "tables"
		if res.Search != nil {
			chosen = "tables and budget"
		}
		fmt.Fprintf(c.stdout, "%s chosen on the %s\n", chosen, data.ValidRows.Text)
	}
	return nil
}
