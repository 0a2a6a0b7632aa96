package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"shark/core"
	"shark/internal/hugemem"
	"shark/core/kernels"
	"shark/core/par"
	"shark/compress"
	"shark/formats/sharkfile"
)

type lookupResult struct {
	Table            string  `json:"table"`
	Rows             int     `json:"rows"`
	Dim              int     `json:"dim"`
	CompressedBytes  int64   `json:"compressed_bytes"`
	FP32Bytes        int64   `json:"fp32_bytes"`
	Bags             int     `json:"bags"`
	BagSize          int     `json:"bag_size"`
	Workers          int     `json:"workers"`
	CompressedPerSec float64 `json:"compressed_per_sec"`
	FP32PerSec       float64 `json:"fp32_per_sec"`
	Ratio            float64 `json:"ratio"`
	// fp32 in its other loop (core.PoolBagsF32Prefetch), and the ratio
	// against the faster of fp32's two loops.
	FP32PrefetchPerSec float64 `json:"fp32_prefetch_per_sec"`
	RatioBestFP32      float64 `json:"ratio_best_fp32"`
	Kernels            string  `json:"kernels"`
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "lookup FILE.shark [--table NAME] [--bags N] [--bag-size K] [--zipf S] [--json]", `
Serving benchmark: embedding-bag lookups (the sum of K rows per bag, ids drawn
from a Zipf law and scattered over the table), in batches of 256 bags, from
the compressed table loaded into memory (or, with --mmap, read in place from
the file's mapping) and dequantized on the fly, and from its fp32 equivalent
in memory (built first by dequantizing every row). Loaded rows and the fp32
copy both sit on huge pages where the system offers them, and both run the
same loop (core.PoolBagsF32 is the fp32 twin of Table.PoolBags). Bags per
second of each, best of three alternating runs, and their ratio. The fp32
side is also run with a loop that prefetches the next group of rows instead
(core.PoolBagsF32Prefetch), faster for wide rows, and the compressed table
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
	f, err := sharkfile.Open(pos[1])
	if err != nil {
		return err
	}
	defer f.Close()
	var tbl *sharkfile.Table
	for _, t := range f.Tables() {
		if (*table == "" && (tbl == nil || t.Rows()*t.Dim() > tbl.Rows()*tbl.Dim())) || t.Name() == *table {
			tbl = t
		}
	}
	if tbl == nil {
		return fmt.Errorf("%s has no compressed table %q", pos[1], *table)
	}
	rows, dim := tbl.Rows(), tbl.Dim()
	prog := newProgress(stderr)
	if err := tbl.VerifyRows(); err != nil {
		return err
	}
	if !*mapped {
		// Like the fp32 copy, the compressed rows then live on the heap.
		if err := tbl.LoadRows(); err != nil {
			return err
		}
	}
	// The fp32 equivalent, in memory of the same kind as the loaded rows
	// (huge pages where the system has them), so that only the bytes differ.
	fp32mem := hugemem.Alloc(4 * rows * dim)
	defer fp32mem.Free()
	fp32 := fp32mem.Float32s()
	for r := 0; r < rows; r++ {
		if err := tbl.Row(r, fp32[r*dim:(r+1)*dim]); err != nil {
			return err
		}
		if r%65536 == 0 {
			prog.update("dequantizing the fp32 copy", int64(r), int64(rows))
		}
	}
	prog.done()
	rng := rand.New(rand.NewPCG(7, 7))
	z := rand.NewZipf(rng, *zipf, 1, uint64(rows-1))
	ids := make([]int, *bags**bagSize)
	for i := range ids {
		ids[i] = compress.ZipfRow(z.Uint64(), rows)
	}
	w := *workers
	if w <= 0 {
		w = par.Workers()
	}
	// A batch of bags per call, as a serving system looks them up.
	const shard = 256
	offsets := make([]int, shard+1)
	for i := range offsets {
		offsets[i] = i * *bagSize
	}
	nsh := (*bags + shard - 1) / shard
	runCompressed := func() (time.Duration, error) {
		errs := make([]error, nsh)
		t0 := time.Now()
		par.For(nsh, w, func(k int) {
			lo, hi := k*shard, min(*bags, (k+1)*shard)
			out := make([]float32, (hi-lo)*dim)
			errs[k] = tbl.PoolBags(ids[lo**bagSize:hi**bagSize], offsets[:hi-lo+1], false, out)
		})
		d := time.Since(t0)
		for _, e := range errs {
			if e != nil {
				return 0, e
			}
		}
		return d, nil
	}
	runFP32 := func(pool func(table []float32, dim int, ids, offsets []int, mean bool, dst []float32) error) time.Duration {
		t0 := time.Now()
		par.For(nsh, w, func(k int) {
			lo, hi := k*shard, min(*bags, (k+1)*shard)
			out := make([]float32, (hi-lo)*dim)
			_ = pool(fp32, dim, ids[lo**bagSize:hi**bagSize], offsets[:hi-lo+1], false, out)
		})
		return time.Since(t0)
	}
	best := func(a, b time.Duration) time.Duration {
		if a == 0 || b < a {
			return b
		}
		return a
	}
	// fp32 twice: built like PoolBags (touch a group, then add it), so that
	// the ratio measures the bytes moved, not a difference in the loop; and
	// with the loop that is faster for wide rows (prefetch the next group).
	var bc, bf, bp time.Duration
	for i := 0; i < 3; i++ {
		prog.update("lookups (runs)", int64(i), 3)
		d, err := runCompressed()
		if err != nil {
			return err
		}
		bc = best(bc, d)
		bf = best(bf, runFP32(core.PoolBagsF32))
		bp = best(bp, runFP32(core.PoolBagsF32Prefetch))
	}
	prog.done()
	var stored int64
	for _, b := range tbl.Entry().Rows {
		stored += b.Len
	}
	res := lookupResult{Table: tbl.Name(), Rows: rows, Dim: dim, CompressedBytes: stored, FP32Bytes: int64(rows) * int64(dim) * 4,
		Bags: *bags, BagSize: *bagSize, Workers: w, Kernels: kernels.Impl(),
		CompressedPerSec: float64(*bags) / bc.Seconds(), FP32PerSec: float64(*bags) / bf.Seconds(),
		FP32PrefetchPerSec: float64(*bags) / bp.Seconds()}
	res.Ratio = res.CompressedPerSec / res.FP32PerSec
	res.RatioBestFP32 = res.CompressedPerSec / max(res.FP32PerSec, res.FP32PrefetchPerSec)
	if *asJSON {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "table %s: %d x %d, rows stored in %s (fp32 %s)\n", res.Table, rows, dim, humanBytes(stored), humanBytes(res.FP32Bytes))
	fmt.Fprintf(stdout, "%d bags of %d Zipf(%.2f) ids on %d goroutine(s), kernels %s\n", *bags, *bagSize, *zipf, w, res.Kernels)
	fmt.Fprintf(stdout, "compressed: %.0f bags/s   fp32: %.0f bags/s   ratio %.2fx\n", res.CompressedPerSec, res.FP32PerSec, res.Ratio)
	fmt.Fprintf(stdout, "fp32 with the prefetching loop: %.0f bags/s   ratio to fp32's faster loop %.2fx\n", res.FP32PrefetchPerSec, res.RatioBestFP32)
	return nil
}
