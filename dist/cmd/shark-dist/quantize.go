package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"shark/compress"
	"shark/core"
	"shark/dist/pipelines"
	"shark/internal/quantizeflags"
	"strings"
)

// errLaterTiers: the tiers after int4 are shark quantize's alone for now.
var errLaterTiers = errors.New("the tiers after int4 (int2, int8-block, int4-block, int2-block) and --block are taken by shark quantize, not yet by shark-dist: its shards' parts would need the block parameters and the wide index across workers")

// defaultTiersOnly refuses settings that allow a tier after int4 or name a
// block size: rather an error than parts that a single machine would write
// otherwise.
func defaultTiersOnly(s compress.Settings) error {
	allowed, err := s.Allowed()
	if err != nil {
		return err
	}
	for t := core.Tier(core.DefaultTiers); t < core.NumTiers; t++ {
		if allowed[t] {
			return fmt.Errorf("%w: --tiers names %s", errLaterTiers, t)
		}
	}
	if s.Block != 0 {
		return fmt.Errorf("%w: --block %d", errLaterTiers, s.Block)
	}
	return nil
}

func quantizeCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("quantize")
	var o pipelines.QuantizeOptions
	q := quantizeflags.New()
	asJSON := fs.Bool("json", false, "print {manifest, rows, dim, parts, passes, summary_bytes, budget_bytes, bytes, lambda}")
	q.Define(fs) // shark quantize's own: the same names, defaults and checks
	fs.StringVar(&o.Counts, "counts", "", "a folder holding counts.npz (shark-dist counts), or a counts .npz, of the whole table")
	fs.StringVar(&o.CountsTable, "counts-table", "", "the table's name in the counts (default: --table)")
	fs.StringVar(&o.Tensor, "tensor", "", "the table's tensor in each shard, by name (default: the one --tables selects, else its only 2-D float tensor)")
	fs.StringVar(&o.Table, "table", "table", "the table's name in the parts")
	fs.StringVar(&o.Out, "o", "", "the folder for the parts and TABLE.manifest (required)")
	fs.StringVar(&o.Work, "work", "", "a folder for the passes' summaries, readable by every worker (default: a temporary folder here)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: shark-dist quantize PATTERN... [--budget 30% | --fp32 F --fp16 F --int8 F --int4 F | --thresholds T32,T16,T8] [--counts DIR] -o DIR

Quantizes a table stored as row shards (.npy, .npz, .safetensors or .pt files,
in row order) under one budget: each worker measures its shards, and only
summaries (kilobytes a shard) cross to solve the budget's multiplier; then
each worker writes its part. DIR gets part-NNNNN.shark files and
TABLE.manifest, which sharkfile.Open, shark inspect, verify, export and bench
lookup open as one table. Each row's tier and bytes are those shark quantize
writes for the shards joined into one table, with the same flags: a budget
(two or more passes to decide, one to write), fixed fractions of the whole
table's ranking (two passes to cut it, one to write) or thresholds (one).
Unless --min-rows is given, each shard's table is its only 2-D float tensor
whatever its rows.`)
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || o.Out == "" {
		return usageErr{fmt.Errorf("want at least one PATTERN and -o DIR")}
	}
	o.Settings, err = q.Settings()
	if err := defaultTiersOnly(o.Settings); err != nil {
		return usageErr{err} // first: the reason a block size is refused here
	}
	if err != nil {
		return usageErr{err}
	}
	if o.Tensor != "" && q.Tables != "" {
		return usageErr{fmt.Errorf("--tensor and --tables cannot go together")}
	}
	if !given(fs, "min-rows") { // a shard may hold few of the table's rows
		o.Settings.MinRows = 1
	}
	if o.Shards, err = pipelines.Expand(ctx, pos...); err != nil {
		return err
	}
	if o.Counts != "" { // a folder: the counts.npz shark-dist counts wrote there
		if st, err := os.Stat(o.Counts); (err == nil && st.IsDir()) || strings.HasSuffix(o.Counts, "/") {
			o.Counts = pipelines.CountsFile(o.Counts)
		}
	}
	if o.Work == "" {
		if o.Work, err = os.MkdirTemp("", "shark-dist-quantize-"); err != nil {
			return err
		}
		defer os.RemoveAll(o.Work)
	}
	res, err := pipelines.Quantize(ctx, o, run)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(out).Encode(res)
	}
	if res.Assign == "budget" {
		fmt.Fprintf(out, "%d rows x %d in %d parts: %d bytes for a budget of %d, %d passes over the data, %d bytes of summaries crossed; %s\n",
			res.Rows, res.Dim, res.Parts, res.Bytes, res.BudgetBytes, res.Passes, res.SummaryByte, res.Manifest)
		return nil
	}
	fmt.Fprintf(out, "%d rows x %d in %d parts by %s: %d passes over the data, %d bytes of summaries crossed; %s\n",
		res.Rows, res.Dim, res.Parts, res.Assign, res.Passes, res.SummaryByte, res.Manifest)
	return nil
}

// given reports whether the flag name was on the command line.
func given(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}
