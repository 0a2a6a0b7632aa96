package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"shark/dist/pipelines"
)

func countsCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("counts")
	var o pipelines.CountsOptions
	fs.StringVar(&o.Out, "o", "", "the folder to write counts.npz to (required)")
	fs.BoolVar(&o.OnePeriod, "one-period", false, "count every file into one period (default: a period per file, oldest first)")
	fs.StringVar(&o.PeriodColumn, "period-column", "", "the CSV column naming each row's period: a whole number or a date (2026-11-30)")
	fs.BoolVar(&o.SkipBad, "skip-bad", false, "skip malformed rows")
	asJSON := fs.Bool("json", false, "print {file, files}")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: shark-dist counts MODEL PATTERN... -o DIR [--json]

F-Quantization's access counts of many log files (every format shark train
reads, sniffed per file), encoded with MODEL's encoding, a period per file,
oldest first (or --one-period, or --period-column naming each CSV row's
period, every period from the oldest to the newest counted): DIR/counts.npz
holds <table>.pos and <table>.neg, int64 [periods, rows], the bytes
"shark counts MODEL FILES... -o counts.npz" writes for the same files.`)
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 || o.Out == "" {
		return usageErr{fmt.Errorf("want MODEL, at least one PATTERN and -o DIR")}
	}
	if o.OnePeriod && o.PeriodColumn != "" {
		return usageErr{fmt.Errorf("--one-period and --period-column cannot go together")}
	}
	o.Model = pos[0]
	if o.Files, err = pipelines.Expand(ctx, pos[1:]...); err != nil {
		return err
	}
	if err := run(ctx, pipelines.Counts(o)); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(out).Encode(map[string]any{"file": pipelines.CountsFile(o.Out), "files": len(o.Files)})
	}
	fmt.Fprintf(out, "counted %d file(s) into %s\n", len(o.Files), pipelines.CountsFile(o.Out))
	return nil
}
