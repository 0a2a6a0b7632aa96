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
	// Sizes: measure at three working sets (Sizes in the result) instead
	// of the whole table alone.
	Sizes bool
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
	// With Sizes: the last-level cache's size and the three working sets.
	LLCBytes int64        `json:"llc_bytes,omitempty"`
	LLCFrom  string       `json:"llc_from,omitempty"`
	Sizes    []LookupSize `json:"sizes,omitempty"`
}

// LookupSize is one working set of a lookup benchmark: the ids are drawn
// from the table's first Rows rows.
type LookupSize struct {
	Name             string  `json:"name"`
	Rows             int     `json:"rows"`
	CompressedBytes  int64   `json:"compressed_bytes"` // of those rows
	FP32Bytes        int64   `json:"fp32_bytes"`
	Holds            bool    `json:"holds"` // the sizes are as the name says (a small table may not allow it)
	CompressedPerSec float64 `json:"compressed_per_sec"`
	FP32PerSec       float64 `json:"fp32_per_sec"`
	Ratio            float64 `json:"ratio"`
	RatioBestFP32    float64 `json:"ratio_best_fp32"`
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
	res, err := b.run()
	if err != nil || !o.Sizes {
		return res, err
	}
	res.LLCBytes, res.LLCFrom = lastLevelCache()
	for _, ws := range workingSets(res, res.LLCBytes) {
		b.ids = zipfIDs(ws.Rows, o)
		r, err := b.run()
		if err != nil {
			return nil, err
		}
		ws.CompressedPerSec, ws.FP32PerSec, ws.Ratio, ws.RatioBestFP32 = r.CompressedPerSec, r.FP32PerSec, r.Ratio, r.RatioBestFP32
		res.Sizes = append(res.Sizes, ws)
	}
	return res, nil
}

// workingSets are the three sizes that tell a compressed table's serving
// gain: both tables in the last-level cache (fp32 at half of it); the
// compressed one in it (three quarters) and fp32 not (twice it and more);
// both in DRAM (the whole table, compressed at four times the cache and
// more).
func workingSets(all *LookupResult, llc int64) []LookupSize {
	perRow := float64(all.CompressedBytes) / float64(all.Rows)
	fp32Row := float64(all.Dim * 4)
	size := func(name string, rows int, holds func(c, f float64) bool) LookupSize {
		rows = max(1, min(all.Rows, rows))
		c, f := perRow*float64(rows), fp32Row*float64(rows)
		return LookupSize{Name: name, Rows: rows, CompressedBytes: int64(c), FP32Bytes: int64(f), Holds: holds(c, f)}
	}
	l := float64(llc)
	return []LookupSize{
		size("both in the last-level cache", int(l/2/fp32Row), func(c, f float64) bool { return f <= l/2 }),
		size("compressed in the cache, fp32 not", int(0.75*l/perRow), func(c, f float64) bool { return c <= 0.75*l && f >= 2*l }),
		size("both in DRAM", all.Rows, func(c, f float64) bool { return c >= 4*l }),
	}
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
