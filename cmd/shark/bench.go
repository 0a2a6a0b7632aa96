package main

import (
	"fmt"
	"io"

	"shark/compress"
)

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "lookup FILE.shark [--table NAME] [--bags N] [--bag-size K] [--zipf S] [--json]", `
Serving benchmark: embedding-bag lookups (the sum of K rows per bag, ids drawn
from a Zipf law and scattered over the table), in batches of 256 bags, from
the compressed table loaded into memory (or, with --mmap, read in place from
the file's mapping) and dequantized on the fly, and from its fp32 equivalent
in memory (built first by dequantizing every row). Loaded rows and the fp32
copy both sit on huge pages where the system offers them, and both run the
same loop (sharkfile.PoolBagsF32 is the fp32 twin of Table.PoolBags). Bags per
second of each, best of three alternating runs, and their ratio. The fp32
side is also run with a loop that prefetches the next group of rows instead
(sharkfile.PoolBagsF32Prefetch), faster for wide rows, and the compressed table
is measured against the faster of the two as well. Any gain comes from
moving fewer bytes, so it can only show on tables several times larger than
the CPU's last-level cache (make one with "shark example --big 8000000x64
-o DIR" and quantize it), and it grows with the width of a row: a narrow row
costs one cache miss whatever its tier. BENCHMARKS.md has the figures.`, stderr)
	table := fs.String("table", "", "the table to use (default: the largest)")
	bags := fs.Int("bags", 200000, "bags per run")
	bagSize := fs.Int("bag-size", 32, "rows per bag")
	zipf := fs.Float64("zipf", 1.05, "Zipf exponent of the ids (> 1)")
	workers := fs.Int("workers", 1, "goroutines looking up bags (0: every core)")
	mapped := fs.Bool("mmap", false, "read the compressed rows in place from the file's mapping instead of loading them into memory first")
	asJSON := fs.Bool("json", false, `print {"compressed_per_sec", "fp32_per_sec", "ratio", "fp32_prefetch_per_sec", "ratio_best_fp32", ...}`)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "lookup" || *bags < 1 || *bagSize < 1 || !(*zipf > 1) {
		return fmt.Errorf("%w: want lookup FILE.shark", errUsage)
	}
	prog := newProgress(stderr)
	res, err := compress.BenchLookup(pos[1], compress.LookupOptions{Table: *table, Bags: *bags, BagSize: *bagSize,
		Zipf: *zipf, Workers: *workers, Mapped: *mapped, Progress: prog.update})
	prog.done()
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "table %s: %d x %d, rows stored in %s (fp32 %s)\n", res.Table, res.Rows, res.Dim, compress.Size(res.CompressedBytes), compress.Size(res.FP32Bytes))
	fmt.Fprintf(stdout, "%d bags of %d Zipf(%.2f) ids on %d goroutine(s), kernels %s\n", res.Bags, res.BagSize, *zipf, res.Workers, res.Kernels)
	fmt.Fprintf(stdout, "compressed: %.0f bags/s   fp32: %.0f bags/s   ratio %.2fx\n", res.CompressedPerSec, res.FP32PerSec, res.Ratio)
	fmt.Fprintf(stdout, "fp32 with the prefetching loop: %.0f bags/s   ratio to fp32's faster loop %.2fx\n", res.FP32PrefetchPerSec, res.RatioBestFP32)
	return nil
}
