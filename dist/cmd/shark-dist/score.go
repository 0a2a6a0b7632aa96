package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"shark/dist/pipelines"
	"sort"
)

func scoreCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("score")
	var o pipelines.ScoreOptions
	asJSON := fs.Bool("json", false, "print {fields: [{name, taylor}], samples, rows: {kind, files, count, excluded, text}}")
	fs.StringVar(&o.Work, "work", "", "a folder for the passes' results, readable by every worker (default: a temporary folder here)")
	fs.BoolVar(&o.SkipBad, "skip-bad", false, "skip malformed rows")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: shark-dist score MODEL PATTERN... [--json]

Taylor importance (F-Permutation's first-order score) of every table of MODEL
over the files' held-out rows, in two passes: row-id counts for each field's
mean embedding, then the per-sample |g . (ebar - e)| sums. The held-out rows
are those shark score takes: every row the model was not trained on, told
by its content against the model's record of its training rows, whatever
file it is in; the rows left out are counted (rows.excluded). It equals
"shark score MODEL ALL" of the files joined, within 1e-9 relative.`)
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usageErr{fmt.Errorf("want MODEL and at least one PATTERN")}
	}
	o.Model = pos[0]
	if o.Files, err = pipelines.Expand(ctx, pos[1:]...); err != nil {
		return err
	}
	if o.Work == "" {
		if o.Work, err = os.MkdirTemp("", "shark-dist-score-"); err != nil {
			return err
		}
		defer os.RemoveAll(o.Work)
	}
	scores, rows, err := pipelines.Score(ctx, o, run)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(out).Encode(map[string]any{"fields": scores, "samples": rows.Count, "rows": rows})
	}
	sort.SliceStable(scores, func(i, j int) bool { return scores[i].Taylor > scores[j].Taylor })
	fmt.Fprintf(out, "Taylor importance on %s, best first:\n", rows.Text)
	for _, s := range scores {
		fmt.Fprintf(out, "%-6s %.6f\n", s.Name, s.Taylor)
	}
	return nil
}
