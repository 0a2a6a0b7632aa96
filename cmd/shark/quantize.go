package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"shark/compress"
	"shark/core"
)

// parseBudget reads "30%", a byte count, or a size with a unit (KB, MiB, GB...).
func parseBudget(s string) (frac float64, bytes int64, err error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || !(v > 0) || v > 1000 {
			return 0, 0, fmt.Errorf("%w: --budget %q: want a percentage above 0", errUsage, s)
		}
		return v / 100, 0, nil
	}
	units := []struct {
		suf string
		mul float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mul := 1.0
	num := s
	for _, u := range units {
		if p, ok := strings.CutSuffix(s, u.suf); ok {
			num, mul = strings.TrimSpace(p), u.mul
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v > 0) || v*mul > 1<<62 {
		return 0, 0, fmt.Errorf("%w: --budget %q: want a percentage (30%%) or a size (1500000, 1.5MB, 2GiB)", errUsage, s)
	}
	return 0, int64(v * mul), nil
}

// budgetShare reads a --budget that must be a percentage.
func budgetShare(s string) (float64, error) {
	f, _, err := parseBudget(s)
	if err != nil || f == 0 {
		return 0, fmt.Errorf("%w: --budget must be a percentage, e.g. 40%%", errUsage)
	}
	return f, nil
}

func runQuantize(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("quantize", "IN -o OUT.shark [options]", `
Compresses the embedding tables of IN (.npz, .npy or .safetensors) into a .shark
container: every row is stored at fp32, fp16, int8 or int4 (FBGEMM/TorchRec
fused rowwise codes with fp16 scale and bias) according to its priority. Every
other tensor is copied bit for bit. OUT is written to a temporary file and
renamed into place when complete; IN is never modified.

Tables: by default every 2-D float tensor with at least 1000 rows; --tables
REGEX selects by name instead.

Priorities (F-Quantization): from --counts, an .npz or .safetensors holding
<table>.pos and <table>.neg per-row access counts by positive and negative
samples, either [rows] (totals) or [periods, rows] (oldest period first, each
decayed by gamma per period): P = sum_k gamma^(K-1-k) (w_pos*pos_k + w_neg*neg_k).
Without --counts, each row's L2 norm stands in, with a warning.

Tiers: by --budget (default 30%): the tables' stored bytes, codes, scales,
index and padding included, stay within that share of their fp32 size (or
within that many bytes), minimising the priority-weighted squared error; or by
fixed fractions of rows ranked by priority (--fp32 F --fp16 F --int8 F --int4 F,
summing to 1); or by priority thresholds (--thresholds T32,T16,T8).`, stderr)
	out := fs.String("o", "", "output .shark file (required)")
	tables := fs.String("tables", "", "regular expression selecting the tables by name")
	counts := fs.String("counts", "", "access counts file (<table>.pos, <table>.neg)")
	budget := fs.String("budget", "", "byte budget: a percentage of the tables' fp32 bytes (30%) or a size (1.5MB, 2GiB)")
	var fr [core.NumTiers]*float64
	for t := core.Tier(0); t < core.NumTiers; t++ {
		fr[t] = fs.Float64(t.String(), -1, "fraction of rows (highest priority first) stored in "+t.String())
	}
	thresholds := fs.String("thresholds", "", "priority thresholds T32,T16,T8: P>=T32 fp32, >=T16 fp16, >=T8 int8, else int4")
	noInt4 := fs.Bool("no-int4", false, "with --budget: use fp32, fp16 and int8 only (as in the SHARK paper)")
	def := core.DefaultPriorityParams()
	wpos := fs.Float64("w-pos", def.WPos, "priority weight of an access by a positive sample")
	wneg := fs.Float64("w-neg", def.WNeg, "priority weight of an access by a negative sample")
	gamma := fs.Float64("gamma", def.Gamma, "decay per period of --counts, in (0, 1]")
	asJSON := fs.Bool("json", false, `print one JSON object: {input_bytes, output_bytes, tables: [{name, rows, dim, bytes_before, bytes_after, tiers, rmse, max_abs_err}]}`)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return fmt.Errorf("%w: want IN and -o OUT.shark", errUsage)
	}
	set := compress.DefaultSettings()
	set.WPos, set.WNeg, set.Gamma = *wpos, *wneg, *gamma
	set.Tables, set.NoInt4 = *tables, *noInt4
	nFrac := 0
	for t := range fr {
		if *fr[t] >= 0 {
			nFrac++
			set.Fractions[t] = *fr[t]
		}
	}
	modes := 0
	if *budget != "" {
		modes++
		if set.Budget, set.BudgetBytes, err = parseBudget(*budget); err != nil {
			return err
		}
	}
	if nFrac > 0 {
		modes++
		set.Assign = "fractions"
	}
	if *thresholds != "" {
		modes++
		set.Assign = "thresholds"
		parts := strings.Split(*thresholds, ",")
		if len(parts) != 3 {
			return fmt.Errorf("%w: --thresholds wants three numbers T32,T16,T8", errUsage)
		}
		for i, p := range parts {
			if set.Thresholds[i], err = strconv.ParseFloat(strings.TrimSpace(p), 64); err != nil {
				return fmt.Errorf("%w: --thresholds: %v", errUsage, err)
			}
		}
	}
	if modes > 1 {
		return fmt.Errorf("%w: choose one of --budget, the tier fractions, or --thresholds", errUsage)
	}
	if err := set.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	in, err := compress.Open(pos[0])
	if err != nil {
		return err
	}
	defer in.Close()
	env := compress.Env{SpillRows: compress.DefaultSpillRows, Warn: func(s string) { fmt.Fprintln(stderr, "warning:", s) }}
	if *counts != "" {
		cin, err := compress.Open(*counts)
		if err != nil {
			return fmt.Errorf("--counts: %w", err)
		}
		defer cin.Close()
		env.Counts = cin.File
	}
	prog := newProgress(stderr)
	defer prog.done()
	env.Progress = prog.update
	plan, err := compress.NewPlan(in, set, env)
	if err != nil {
		return err
	}
	defer plan.Close()
	if err := plan.WriteFile(*out, pos[0], *counts); err != nil {
		return err
	}
	prog.done()
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	res := plan.Result()
	res.OutputBytes = st.Size()
	if *asJSON {
		return writeJSON(stdout, res)
	}
	var before, after int64
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROWS x DIM\tFP32\tSTORED\tRATIO\tfp32/fp16/int8/int4\tRMSE\tMAX |ERR|")
	for _, t := range res.Tables {
		before += t.BytesBefore
		after += t.BytesAfter
		fmt.Fprintf(tw, "%s\t%d x %d\t%s\t%s\t%.1f%%\t%d/%d/%d/%d\t%.3g\t%.3g\n", t.Name, t.Rows, t.Dim, compress.Size(t.BytesBefore), compress.Size(t.BytesAfter),
			100*float64(t.BytesAfter)/float64(t.BytesBefore), t.Tiers["fp32"], t.Tiers["fp16"], t.Tiers["int8"], t.Tiers["int4"], t.RMSE, t.MaxAbsErr)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\ntables: %s -> %s (%.1f%% of fp32", compress.Size(before), compress.Size(after), 100*float64(after)/float64(before))
	if res.BudgetBytes > 0 {
		fmt.Fprintf(stdout, ", budget %s", compress.Size(res.BudgetBytes))
	}
	fmt.Fprintf(stdout, "); file: %s -> %s, written to %s\n", compress.Size(res.InputBytes), compress.Size(res.OutputBytes), *out)
	return nil
}
