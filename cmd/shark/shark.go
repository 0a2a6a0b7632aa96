package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"shark/compress"
	"shark/core"
	"shark/ctr/experiment"
	"shark/ctr/importance"
	"shark/ctr/modelfile"
	"shark/ctr/pipeline"
)

func runScore(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("score", "MODEL DATA [--exact] [--repeats T] [--json]", `
Scores every embedding table of MODEL by F-Permutation: the first-order
Taylor approximation of permutation importance, Q_i = mean_s |g_si . (ebar_i -
e_si)|, in one forward and backward pass over the held-out rows of DATA.
--exact also computes exact permutation importance (the held-out logloss
increase when a field's values are shuffled, mean of T repeats), its time, and
the Spearman rank correlation of the two.`, stderr)
	df := addDataFlags(fs)
	exact := fs.Bool("exact", false, "also compute exact permutation importance")
	repeats := fs.Int("repeats", 3, "shuffles per field for --exact")
	asJSON := fs.Bool("json", false, `print {"fields": [{"name", "taylor", "exact"}], "spearman", "seconds": {"taylor", "exact"}}`)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return fmt.Errorf("%w: want MODEL DATA", errUsage)
	}
	l, data, err := loadModelData(pos[0], pos[1], df, false, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	prog := newProgress(stderr)
	res, err := experiment.Score(l.Model, data.Eval, experiment.ScoreOptions{Exact: *exact, Repeats: *repeats, Seed: l.Model.Cfg.Seed,
		Progress: func(d, t int) { prog.update("exact permutation (fields)", int64(d), int64(t)) }})
	prog.done()
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	sorted := append([]experiment.FieldScore{}, res.Fields...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Taylor > sorted[j].Taylor })
	for _, f := range sorted {
		fmt.Fprintf(stdout, "%-8s taylor %.6f", f.Name, f.Taylor)
		if f.Exact != nil {
			fmt.Fprintf(stdout, "   exact %.6f", *f.Exact)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "taylor %.3fs", res.Seconds["taylor"])
	if *exact {
		fmt.Fprintf(stdout, ", exact %.3fs (%.1fx), Spearman %.3f over the fields that vary (%.3f over all)", res.Seconds["exact"], res.Seconds["exact"]/res.Seconds["taylor"], *res.Spearman, *res.SpearmanAll)
	}
	fmt.Fprintln(stdout)
	return nil
}

func pruneFlags(fs interface {
	Int(string, int, string) *int
	Float64(string, float64, string) *float64
	String(string, string, string) *string
}) (keep *int, frac *float64, rounds *int, ft *int, tol *float64, scorer *string) {
	keep = fs.Int("keep", 0, "number of fields to keep")
	frac = fs.Float64("keep-fraction", 0, "share of the fields to keep (instead of --keep)")
	rounds = fs.Int("rounds", 1, "pruning rounds (score, drop, fine-tune)")
	ft = fs.Int("finetune-epochs", 1, "fine-tuning epochs after each round")
	tol = fs.Float64("tolerance", 0.01, "roll back a round whose held-out AUC falls more than this below the unpruned model's (0: never)")
	scorer = fs.String("scorer", "taylor", "table importance: taylor, exact, or random (a baseline)")
	return
}

func runPrune(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("prune", "MODEL DATA (--keep N | --keep-fraction F) [--rounds R] [--finetune-epochs E] -o OUT", `
Iterative F-Permutation pruning: score every table (Taylor by default), drop
the lowest-scoring ones, fine-tune on the training rows of DATA, and repeat
for R rounds until N fields remain. A round whose held-out AUC falls more than
--tolerance below the unpruned model's is rolled back and pruning stops there.
A dropped field's table leaves the model entirely.`, stderr)
	df := addDataFlags(fs)
	keep, frac, rounds, ft, tol, scorer := pruneFlags(fs)
	out := fs.String("o", "", "output model (required)")
	asJSON := fs.Bool("json", false, `print {"base_auc", "auc", "kept", "dropped", "rounds": [...]}`)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || *out == "" || (*keep > 0) == (*frac > 0) {
		return fmt.Errorf("%w: want MODEL DATA, one of --keep or --keep-fraction, and -o OUT", errUsage)
	}
	l, data, err := loadModelData(pos[0], pos[1], df, true, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	m, train, valid := l.Model, data.Train, data.Eval
	n := *keep
	if *frac > 0 {
		n = max(1, int(*frac*float64(len(m.Slots))+0.5))
	}
	prog := newProgress(stderr)
	pr, err := importance.Prune(m, train, valid, importance.PruneOptions{Keep: n, Rounds: *rounds, FinetuneEpochs: *ft,
		Tolerance: *tol, Scorer: *scorer, Repeats: 3, Seed: m.Cfg.Seed, Progress: prog.update})
	prog.done()
	if err != nil {
		return err
	}
	met, err := m.Evaluate(valid)
	if err != nil {
		return err
	}
	prov := compress.Provenance(compress.Origin{Step: "prune", Input: filepath.Base(pos[0]), Data: filepath.Base(pos[1])})
	if err := modelfile.Save(*out, m, l.Encoding, modelfile.Record{Provenance: prov}, pos[0], pos[1]); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, map[string]any{"base_auc": pr.BaseAUC, "auc": met.AUC, "logloss": met.LogLoss, "kept": pr.Kept, "dropped": pr.Dropped, "rounds": pr.Rounds})
	}
	fmt.Fprintf(stdout, "kept %d fields %v\ndropped %v\nheld-out AUC %.4f -> %.4f; saved %s\n", len(pr.Kept), pr.Kept, pr.Dropped, pr.BaseAUC, met.AUC, *out)
	return nil
}

func runCompress(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compress", "MODEL DATA --keep-fraction F --budget P -o OUT [--report FILE.md]", `
The whole SHARK pipeline: F-Permutation prunes the model to the given share of
its fields (with fine-tuning), then F-Quantization accumulates row priorities
over the training rows of DATA (w_pos for clicks, w_neg otherwise, decayed by
gamma per epoch) and stores the kept tables within P of their fp32 bytes,
minimising the priority-weighted error. The held-out AUC is measured before
and after, the compressed tables read with dequantize-on-lookup.`, stderr)
	df := addDataFlags(fs)
	_, frac, rounds, ft, tol, scorer := pruneFlags(fs)
	budget := fs.String("budget", "40%", "share of the kept tables' fp32 bytes")
	def := core.DefaultPriorityParams()
	wpos := fs.Float64("w-pos", def.WPos, "priority weight of an access by a positive sample")
	wneg := fs.Float64("w-neg", def.WNeg, "priority weight of an access by a negative sample")
	gamma := fs.Float64("gamma", def.Gamma, "priority decay per epoch, in (0, 1]")
	out := fs.String("o", "", "output model (required)")
	report := fs.String("report", "", "also write a Markdown report here")
	asJSON := fs.Bool("json", false, `print {"auc_before", "auc_after", "embedding_bytes_before", "embedding_bytes_after", "kept_fields", "dropped_fields", ...}`)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || *out == "" {
		return fmt.Errorf("%w: want MODEL DATA -o OUT", errUsage)
	}
	bf, err := budgetShare(*budget)
	if err != nil {
		return err
	}
	if *frac <= 0 {
		*frac = 0.5
	}
	l, data, err := loadModelData(pos[0], pos[1], df, true, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	opt := pipeline.DefaultOptions()
	opt.KeepFraction, opt.Rounds, opt.FinetuneEpochs, opt.Tolerance, opt.Scorer = *frac, *rounds, *ft, *tol, *scorer
	opt.Budget = bf
	opt.Priority = core.PriorityParams{WPos: *wpos, WNeg: *wneg, Gamma: *gamma}
	opt.PriorityEpochs = l.Model.Cfg.Epochs
	opt.Seed = l.Model.Cfg.Seed
	prog := newProgress(stderr)
	opt.Progress = prog.update
	res, err := pipeline.Compress(l.Model, data.Train, data.Eval, opt)
	prog.done()
	if err != nil {
		return err
	}
	prov := compress.Provenance(compress.Origin{Step: "compress", Input: filepath.Base(pos[0]), Data: filepath.Base(pos[1])})
	rec := modelfile.Record{Method: res.Method, Provenance: prov, Scores: res.Scores}
	if err := modelfile.Save(*out, l.Model, l.Encoding, rec, pos[0], pos[1]); err != nil {
		return err
	}
	if *report != "" {
		if err := os.WriteFile(*report, []byte(res.Report(filepath.Base(pos[0]), filepath.Base(pos[1]), *budget, *frac)), 0o644); err != nil {
			return err
		}
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	fmt.Fprintln(stdout, res.Describe())
	fmt.Fprintf(stdout, "saved %s\n", *out)
	return nil
}
