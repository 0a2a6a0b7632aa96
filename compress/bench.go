package compress

import (
	"fmt"
	"math/rand/v2"
	"time"

	"shark/core/kernels"
	"shark/core/par"
	"shark/formats/sharkfile"
	"shark/internal/hugemem"
)

// LookupOptions configure BenchLookup.
type LookupOptions struct {
	Table   string  // the table to use ("": the largest)
	Bags    int     // bags per run
	BagSize int     // rows per bag
	Zipf    float64 // exponent of the ids' Zipf law, > 1
	Workers int     // goroutines looking up bags (0: every core)
	Mapped  bool    // read the compressed rows in place from the file's mapping
	// Progress, if set, is told stage names and counts done.
	Progress func(stage string, done, total int64)
}

// LookupResult is BenchLookup's measurement.
type LookupResult struct {
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
	// fp32 in its other loop (sharkfile.PoolBagsF32Prefetch), and the ratio
	// against the faster of fp32's two loops.
	FP32PrefetchPerSec float64 `json:"fp32_prefetch_per_sec"`
	RatioBestFP32      float64 `json:"ratio_best_fp32"`
	Kernels            string  `json:"kernels"`
}

// lookupBatch is the bags looked up per call, as a serving system batches.
const lookupBatch = 256

// BenchLookup measures embedding-bag lookups from a compressed table of the
// .shark file at path against its fp32 equivalent in memory of the same
// kind (huge pages where the system has them), both run by the same loop,
// and against fp32 in the prefetching loop: bags per second, best of three
// alternating runs.
func BenchLookup(path string, o LookupOptions) (*LookupResult, error) {
	f, err := sharkfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tbl, err := pickTable(f, o.Table)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := tbl.VerifyRows(); err != nil {
		return nil, err
	}
	if !o.Mapped {
		if err := tbl.LoadRows(); err != nil {
			return nil, err
		}
	}
	fp32mem, err := dequantized(tbl, o.Progress)
	if err != nil {
		return nil, err
	}
	defer fp32mem.Free()
	b := &lookupBench{tbl: tbl, fp32: fp32mem.Float32s(), o: o, ids: zipfIDs(tbl.Rows(), o)}
	if b.o.Workers <= 0 {
		b.o.Workers = par.Workers()
	}
	return b.run()
}

// pickTable is the named table, or the largest.
func pickTable(f *sharkfile.File, name string) (*sharkfile.Table, error) {
	var tbl *sharkfile.Table
	for _, t := range f.Tables() {
		if (name == "" && (tbl == nil || t.Rows()*t.Dim() > tbl.Rows()*tbl.Dim())) || t.Name() == name {
			tbl = t
		}
	}
	if tbl == nil {
		return nil, fmt.Errorf("no compressed table %q", name)
	}
	return tbl, nil
}

// dequantized is the table's fp32 equivalent, every row dequantized.
func dequantized(tbl *sharkfile.Table, progress func(string, int64, int64)) (*hugemem.Buffer, error) {
	rows, dim := tbl.Rows(), tbl.Dim()
	mem := hugemem.Alloc(4 * rows * dim)
	fp32 := mem.Float32s()
	for r := 0; r < rows; r++ {
		if err := tbl.Row(r, fp32[r*dim:(r+1)*dim]); err != nil {
			mem.Free()
			return nil, err
		}
		if r%65536 == 0 && progress != nil {
			progress("dequantizing the fp32 copy", int64(r), int64(rows))
		}
	}
	return mem, nil
}

// zipfIDs draws the bags' ids from a Zipf law scattered over the table.
func zipfIDs(rows int, o LookupOptions) []int {
	rng := rand.New(rand.NewPCG(7, 7))
	z := rand.NewZipf(rng, o.Zipf, 1, uint64(rows-1))
	ids := make([]int, o.Bags*o.BagSize)
	for i := range ids {
		ids[i] = ZipfRow(z.Uint64(), rows)
	}
	return ids
}

type lookupBench struct {
	tbl  *sharkfile.Table
	fp32 []float32
	o    LookupOptions
	ids  []int
}

// batches runs lookup over every batch of bags on the workers and times it.
func (b *lookupBench) batches(lookup func(ids, offsets []int, out []float32) error) (time.Duration, error) {
	offsets := make([]int, lookupBatch+1)
	for i := range offsets {
		offsets[i] = i * b.o.BagSize
	}
	dim, k := b.tbl.Dim(), b.o.BagSize
	nsh := (b.o.Bags + lookupBatch - 1) / lookupBatch
	errs := make([]error, nsh)
	t0 := time.Now()
	par.For(nsh, b.o.Workers, func(s int) {
		lo, hi := s*lookupBatch, min(b.o.Bags, (s+1)*lookupBatch)
		out := make([]float32, (hi-lo)*dim)
		errs[s] = lookup(b.ids[lo*k:hi*k], offsets[:hi-lo+1], out)
	})
	d := time.Since(t0)
	for _, e := range errs {
		if e != nil {
			return 0, e
		}
	}
	return d, nil
}

// run alternates the three loops three times and keeps each one's best.
func (b *lookupBench) run() (*LookupResult, error) {
	dim := b.tbl.Dim()
	loops := []func(ids, offsets []int, out []float32) error{
		func(ids, offsets []int, out []float32) error { return b.tbl.PoolBags(ids, offsets, false, out) },
		func(ids, offsets []int, out []float32) error {
			return sharkfile.PoolBagsF32(b.fp32, dim, ids, offsets, false, out)
		},
		func(ids, offsets []int, out []float32) error {
			return sharkfile.PoolBagsF32Prefetch(b.fp32, dim, ids, offsets, false, out)
		},
	}
	var best [3]time.Duration
	for i := range 3 {
		if b.o.Progress != nil {
			b.o.Progress("lookups (runs)", int64(i), 3)
		}
		for j, loop := range loops {
			d, err := b.batches(loop)
			if err != nil {
				return nil, err
			}
			if best[j] == 0 || d < best[j] {
				best[j] = d
			}
		}
	}
	var stored int64
	for _, blk := range b.tbl.Entry().Rows {
		stored += blk.Len
	}
	perSec := func(d time.Duration) float64 { return float64(b.o.Bags) / d.Seconds() }
	res := &LookupResult{Table: b.tbl.Name(), Rows: b.tbl.Rows(), Dim: dim, CompressedBytes: stored,
		FP32Bytes: int64(b.tbl.Rows()) * int64(dim) * 4, Bags: b.o.Bags, BagSize: b.o.BagSize, Workers: b.o.Workers,
		Kernels: kernels.Impl(), CompressedPerSec: perSec(best[0]), FP32PerSec: perSec(best[1]), FP32PrefetchPerSec: perSec(best[2])}
	res.Ratio = res.CompressedPerSec / res.FP32PerSec
	res.RatioBestFP32 = res.CompressedPerSec / max(res.FP32PerSec, res.FP32PrefetchPerSec)
	return res, nil
}
