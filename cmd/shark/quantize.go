package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"shark/compress"
	"shark/internal/quantizeflags"
)

const quantizeLong = `Compresses the embedding tables of IN (.npz, .npy, .safetensors, a PyTorch
checkpoint or an ONNX model) into a .shark container: every row is stored at
fp32, fp16, int8 or int4 (FBGEMM/TorchRec fused rowwise codes with fp16 scale
and bias) according to its priority; with --tiers naming them (or "all"),
also int2 and the block tiers int8-block, int4-block and int2-block, whose
rows share one fp16 scale and bias per block of --block rows (64; 0 means
64). Only a budget gives rows those later tiers. Every other tensor is
copied bit for bit. OUT is written to a temporary file and renamed into
place when complete; IN is never modified.

Tables: by default every 2-D float tensor that a graph's Gather node reads
(an ONNX model, at any depth of its subgraphs), that is named as the weight
of a PyTorch embedding module (emb_user.weight, emb_l.0.weight,
embedding_bags.t0.weight), or that has at least --min-rows rows (1000);
never an optimizer's state; "shark inspect" says why for each tensor.
--tables REGEX selects by name instead.

Priorities (F-Quantization): from --counts, an .npz or .safetensors holding
<table>.pos and <table>.neg per-row access counts by positive and negative
samples, either [rows] (totals) or [periods, rows] (oldest period first, each
decayed by gamma per period):
P = sum_k gamma^(K-1-k) (w_pos*pos_k + w_neg*neg_k).
Without --counts, each row's L2 norm stands in, with a warning.

Tiers, one of:
  --budget 30%      the tables' stored bytes (codes, scales, index and padding
                    included) within that share of their fp32 size, or within
                    a size (1.5MB, 800KiB, 2GiB); the priority-weighted squared
                    error is minimised (the default, at 30%). A share is
                    of fp32 bytes whatever the source's dtype, as on every
                    face: for a float16 or bfloat16 model, 30% is 60% of
                    its own bytes (the summary says both; a budget that
                    cannot shrink the tables is warned of)
  --fp32 F --fp16 F --int8 F --int4 F
                    fixed fractions of rows, highest priority first, summing
                    to 1: the default tiers alone (there is no --int2 or
                    block-tier fraction; only a budget reaches those tiers)
  --thresholds T32,T16,T8
                    P >= T32 fp32, >= T16 fp16, >= T8 int8, else int4: every
                    one of the default tiers and no other, so --tiers is
                    refused with thresholds
--tiers fp32,fp16,int8 keeps the budget's solver and the fractions to the
tiers named (--no-int4 is --tiers fp32,fp16,int8); fp32 may be left out
only if the other tiers hold every row.

A row goes to a lossy tier only if that tier holds it (values, and an int8 or
int4 row's scale and bias, finite once rounded to binary16: |x| < 65520);
otherwise it stays at fp32, as rows holding a NaN or an infinity do,
whatever the fractions or thresholds ask. Such rows are counted
(unfit_rows), and so are rows stored in a tier in which every value rounds
to zero (zeroed_rows, such as an optimizer's squared-gradient averages near
1e-9); both are warned of.
A float64 table holding a value no float32 can hold (past +-3.4e38, or a
non-zero below 1.4e-45 that float32 would make 0) is not compressed: it
is written dense, exactly as it is, with a warning naming it and its first
such row (kept_dense); --tables naming it is refused.

--json prints {input_bytes, output_bytes, budget_bytes, fp32_bytes,
allowed_tiers, source_bytes (the tables in their own dtype), block (the rows
per block, when a block tier is allowed), tables:
[{name, rows, dim, bytes_before, bytes_after, tiers, rmse, max_abs_err,
priority, unfit_rows, zeroed_rows}], kept_dense: [{name, row, reason}]};
an error that is not a finite number
is null.`

// quantizeFlags are quantize's options: its files, and the choices of
// tables and tiers shark-dist quantize takes too (internal/quantizeflags).
type quantizeFlags struct {
	out, counts string
	q           *quantizeflags.Flags
}

func (c *cli) quantizeCmd() *cobra.Command {
	f := quantizeFlags{q: quantizeflags.New()}
	cmd := &cobra.Command{
		Use:   "quantize IN -o OUT.shark",
		Short: "compress embedding tables to mixed precision",
		Long:  quantizeLong,
		Args:  exactArgs(1, "one input file IN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.q.Settings()
			if err != nil {
				return usageError{err}
			}
			return c.quantize(args[0], s, &f)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.out, "output", "o", "", "the .shark file to write (required)")
	cmd.MarkFlagRequired("output")
	fs.StringVar(&f.counts, "counts", "", "access counts (<table>.pos, <table>.neg) in an .npz or .safetensors")
	f.q.Define(fs)
	return cmd
}

func (c *cli) quantize(path string, s compress.Settings, f *quantizeFlags) error {
	if err := outputs([]string{f.out}, path, f.counts); err != nil {
		return err
	}
	in, err := compress.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	env := compress.Env{SpillRows: compress.DefaultSpillRows, Progress: c.updater(), Warn: func(w string) { c.warn("%s", w) }}
	if f.counts != "" {
		cin, err := compress.Open(f.counts)
		if err != nil {
			return fmt.Errorf("--counts: %w", err)
		}
		defer cin.Close()
		env.Counts = cin.File
	}
	plan, err := compress.NewPlan(in, s, env)
	if err != nil {
		return err
	}
	defer plan.Close()
	if w := compress.ONNXOpsetWarning(in); w != "" {
		c.warn("%s", w)
	}
	if err := plan.WriteFile(f.out, f.counts); err != nil {
		return err
	}
	c.prog.done()
	st, err := os.Stat(f.out)
	if err != nil {
		return err
	}
	res := plan.Result()
	res.OutputBytes = st.Size()
	if res.BudgetBytes >= res.SourceBytes && res.SourceBytes < res.FP32Bytes {
		c.warn("the budget, %s (a share of the tables' fp32 bytes), is %s of their %s in the source's 16-bit dtype: it does not make them smaller; half the share does as much as that share of an fp32 model",
			compress.Size(res.BudgetBytes), compress.Percent(res.BudgetBytes, res.SourceBytes), compress.Size(res.SourceBytes))
	}
	if c.json {
		return c.result(res)
	}
	return c.printPlan(res, f.out)
}

// ofSource is what the tables' stored share is of their own bytes, when
// those are not their fp32 bytes (a float16, bfloat16 or float64 model):
// shares, budgets included, are of fp32 bytes.
func ofSource(res compress.Result) string {
	if res.SourceBytes == res.FP32Bytes || res.SourceBytes == 0 {
		return ""
	}
	var after int64
	for _, t := range res.Tables {
		after += t.BytesAfter
	}
	return " = " + compress.Percent(after, res.SourceBytes) + " of their " + compress.Size(res.SourceBytes) + " in the source's dtype"
}

// printPlan prints a quantize result as a table.
func (c *cli) printPlan(res compress.Result, out string) error {
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROWS × DIM\tFP32\tSTORED\tSHARE\tFP32/FP16/INT8/INT4\tRMSE\tMAX |ERR|")
	rows := res.Rows()
	for _, r := range rows[:len(rows)-1] {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", terminalSafe(r.Name), r.Shape, r.FP32, r.Stored, r.Share, compress.TierText(r.Tiers), r.RMSE, r.MaxAbs)
	}
	tw.Flush()
	total := rows[len(rows)-1]
	budget := ""
	if res.BudgetBytes > 0 {
		budget = ", budget " + compress.Size(res.BudgetBytes)
	}
	fmt.Fprintf(c.stdout, "\ntables: %s -> %s (%s of fp32%s%s); file: %s -> %s, written to %s\n", total.FP32, total.Stored, total.Share,
		ofSource(res), budget, compress.Size(res.InputBytes), compress.Size(res.OutputBytes), quoteName(out))
	for _, d := range res.KeptDense {
		fmt.Fprintf(c.stdout, "kept dense, exactly: %s (row %d: %s)\n", terminalSafe(d.Name), d.Row, d.Reason)
	}
	return nil
}
