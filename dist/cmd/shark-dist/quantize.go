package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"shark/compress"
	"shark/dist/pipelines"
	"strings"
)

func quantizeCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("quantize")
	var o pipelines.QuantizeOptions
	var budget string
	asJSON := fs.Bool("json", false, "print {manifest, rows, dim, parts, passes, summary_bytes, budget_bytes, bytes, lambda}")
	fs.StringVar(&budget, "budget", "30%", "the table's stored bytes: a share of its fp32 bytes (30%) or a size (1.5GB)")
	fs.BoolVar(&o.NoInt4, "no-int4", false, "fp32, fp16 and int8 only")
	fs.StringVar(&o.Counts, "counts", "", "a folder holding counts.npz (shark-dist counts), or a counts .npz, of the whole table")
	fs.StringVar(&o.CountsTable, "counts-table", "", "the table's name in the counts (default: --table)")
	fs.StringVar(&o.Tensor, "tensor", "", "the table's tensor in each shard (default: its only 2-D float tensor)")
	fs.StringVar(&o.Table, "table", "table", "the table's name in the parts")
	fs.StringVar(&o.Out, "o", "", "the folder for the parts and TABLE.manifest (required)")
	fs.StringVar(&o.Work, "work", "", "a folder for the passes' summaries, readable by every worker (default: a temporary folder here)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: shark-dist quantize PATTERN... --budget 30% [--counts DIR] -o DIR

Quantizes a table stored as row shards (.npy, .npz, .safetensors or .pt files,
in row order) under one budget: each worker measures its shards, and only
summaries (kilobytes a shard) cross to solve the budget's multiplier; then
each worker writes its part. DIR gets part-NNNNN.shark files and
TABLE.manifest, which sharkfile.Open, shark inspect, verify, export and bench
lookup open as one table. Each row's tier and bytes are those shark quantize
writes for the shards joined into one table.`)
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || o.Out == "" {
		return usageErr{fmt.Errorf("want at least one PATTERN and -o DIR")}
	}
	if o.Budget, o.BudgetBytes, err = compress.ParseBudget(budget); err != nil {
		return usageErr{fmt.Errorf("--budget %w", err)}
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
	fmt.Fprintf(out, "%d rows x %d in %d parts: %d bytes for a budget of %d, %d passes over the data, %d bytes of summaries crossed; %s\n",
		res.Rows, res.Dim, res.Parts, res.Bytes, res.BudgetBytes, res.Passes, res.SummaryByte, res.Manifest)
	return nil
}
