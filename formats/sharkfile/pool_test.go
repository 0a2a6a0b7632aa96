package sharkfile

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"shark/core"
	"shark/formats"
)

// PoolBagsF32 equals the plain loop of its doc comment for any batch,
// including empty bags, bags longer than a group and the mean.
func TestPoolBagsF32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, dim := range []int{1, 7, 64} {
		rows := 500
		table := make([]float32, rows*dim)
		for i := range table {
			table[i] = float32(r.NormFloat64())
		}
		for trial := 0; trial < 30; trial++ {
			nb := r.IntN(6)
			offsets := []int{0}
			var ids []int
			for b := 0; b < nb; b++ {
				k := r.IntN(3 * poolGroup)
				if r.IntN(4) == 0 {
					k = 0
				}
				for range k {
					ids = append(ids, r.IntN(rows))
				}
				offsets = append(offsets, len(ids))
			}
			mean := trial%2 == 1
			got := make([]float32, nb*dim)
			for i := range got {
				got[i] = 99 // must be overwritten
			}
			if err := PoolBagsF32(table, dim, ids, offsets, mean, got); err != nil {
				t.Fatal(err)
			}
			// The prefetching loop adds the same rows in the same order.
			pf := make([]float32, nb*dim)
			for i := range pf {
				pf[i] = 99
			}
			if err := PoolBagsF32Prefetch(table, dim, ids, offsets, mean, pf); err != nil {
				t.Fatal(err)
			}
			for i := range pf {
				if math.Float32bits(pf[i]) != math.Float32bits(got[i]) {
					t.Fatalf("dim %d: prefetching loop value %d is %v, the touching loop's %v", dim, i, pf[i], got[i])
				}
			}
			for b := 0; b < nb; b++ {
				want := make([]float32, dim)
				bag := ids[offsets[b]:offsets[b+1]]
				for _, id := range bag {
					for i := range want {
						want[i] += table[id*dim+i]
					}
				}
				if mean && len(bag) > 0 {
					for i := range want {
						want[i] *= 1 / float32(len(bag))
					}
				}
				for i := range want {
					if d := math.Abs(float64(got[b*dim+i] - want[i])); d > 1e-4 {
						t.Fatalf("dim %d bag %d: got %v, want %v", dim, b, got[b*dim:(b+1)*dim], want)
					}
				}
			}
		}
	}
}

func TestPoolBagsBadInput(t *testing.T) {
	table := make([]float32, 10*4)
	out := make([]float32, 8)
	for name, c := range map[string]struct{ ids, offsets []int }{
		"out of range":    {[]int{10}, []int{0, 1}},
		"negative id":     {[]int{-1}, []int{0, 1}},
		"offsets short":   {[]int{1, 2}, []int{0, 1}},
		"offsets start":   {[]int{1, 2}, []int{1, 2}},
		"offsets falling": {[]int{1, 2, 3}, []int{0, 3, 2, 3}},
		"dst too small":   {[]int{1, 2, 3}, []int{0, 1, 2, 3}},
	} {
		if err := PoolBagsF32(table, 4, c.ids, c.offsets, false, out); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("%s: got %v, want core.ErrInvalid", name, err)
		}
		if err := PoolBagsF32Prefetch(table, 4, c.ids, c.offsets, false, out); !errors.Is(err, core.ErrInvalid) {
			t.Errorf("%s (prefetching loop): got %v, want core.ErrInvalid", name, err)
		}
	}
	if err := PoolBagsF32(table, 4, nil, nil, false, nil); err != nil {
		t.Errorf("no bags: %v", err)
	}
}

// Pool equals reading each row and adding them in order, mapped or not.
func TestPool(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) { testPool(t, l) })
	}
}

func testPool(t *testing.T, l layout) {
	data, cases, _ := buildLayout(t, 5, l)
	path := t.TempDir() + "/p.shark"
	os.WriteFile(path, data, 0o644)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plain, _ := NewReader(bytes.NewReader(data), int64(len(data)))
	r := rand.New(rand.NewPCG(6, 6))
	for ti, c := range cases {
		loaded, _ := NewReader(bytes.NewReader(data), int64(len(data)))
		if err := loaded.Tables()[ti].LoadRows(); err != nil {
			t.Fatal(err)
		}
		for _, rd := range []*Reader{f.Reader, plain, loaded} {
			tbl := rd.Tables()[ti]
			for trial := 0; trial < 50; trial++ {
				ids := make([]int, r.IntN(3*poolGroup))
				for i := range ids {
					ids[i] = r.IntN(c.tb.R)
				}
				want := make([]float32, c.tb.D)
				row := make([]float32, c.tb.D)
				for _, id := range ids {
					tbl.Row(id, row)
					for j := range want {
						want[j] += row[j]
					}
				}
				got := make([]float32, c.tb.D)
				if err := tbl.Pool(ids, false, got); err != nil {
					t.Fatal(err)
				}
				for j := range got {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("table %d: pooled %v, row by row %v", ti, got, want)
					}
				}
			}
			if err := tbl.Pool([]int{c.tb.R}, false, make([]float32, c.tb.D)); err == nil {
				t.Fatal("out-of-range id pooled")
			}
		}
	}
}

// PoolBags of a batch equals Pool of each bag, bit for bit, with the table
// mapped, read through ReadAt or loaded, for sums and means; empty bags give
// zeros. Close frees loaded rows.
func TestPoolBags(t *testing.T) {
	for _, l := range []layout{narrowLayout, allTiers} {
		t.Run(l.name, func(t *testing.T) { testPoolBags(t, l) })
	}
}

// TestPoolBagsAhead runs TestPoolBags with the loaded tables' prefetching
// loop (poolAhead) at several distances, and with the touching loop,
// whatever the kernel set (the prefetch is a no-op in the portable one,
// but the loop is the same).
func TestPoolBagsAhead(t *testing.T) {
	defer func(f func() bool, a int) { loadedPrefetch, aheadRows = f, a }(loadedPrefetch, aheadRows)
	for _, ahead := range []int{0, 1, 5, 16, 32, 100} {
		loadedPrefetch, aheadRows = func() bool { return ahead > 0 }, ahead
		for _, l := range []layout{narrowLayout, allTiers} {
			t.Run(fmt.Sprintf("%s/ahead%d", l.name, ahead), func(t *testing.T) { testPoolBags(t, l) })
		}
	}
}

func testPoolBags(t *testing.T, l layout) {
	data, cases, _ := buildLayout(t, 8, l)
	path := t.TempDir() + "/p.shark"
	os.WriteFile(path, data, 0o644)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := NewReader(bytes.NewReader(data), int64(len(data)))
	loaded, _ := Open(path)
	for _, tb := range loaded.Tables() {
		if err := tb.LoadRows(); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(8, 8))
	for ti, c := range cases {
		for _, rd := range []*Reader{f.Reader, plain, loaded.Reader} {
			tbl := rd.Tables()[ti]
			for trial := 0; trial < 20; trial++ {
				offsets := []int{0}
				var ids []int
				for b := r.IntN(5); b > 0; b-- {
					k := r.IntN(3 * poolGroup)
					if r.IntN(5) == 0 {
						k = 0
					}
					for ; k > 0; k-- {
						ids = append(ids, r.IntN(c.tb.R))
					}
					offsets = append(offsets, len(ids))
				}
				mean := trial%2 == 0
				d := c.tb.D
				got := make([]float32, (len(offsets)-1)*d)
				if err := tbl.PoolBags(ids, offsets, mean, got); err != nil {
					t.Fatal(err)
				}
				for b := 0; b+1 < len(offsets); b++ {
					want := make([]float32, d)
					if err := tbl.Pool(ids[offsets[b]:offsets[b+1]], mean, want); err != nil {
						t.Fatal(err)
					}
					for j := range want {
						if math.Float32bits(got[b*d+j]) != math.Float32bits(want[j]) {
							t.Fatalf("table %d bag %d: batch %v, alone %v", ti, b, got[b*d:(b+1)*d], want)
						}
					}
				}
			}
			if err := tbl.PoolBags([]int{0, 1}, []int{0, 1}, false, make([]float32, 4*c.tb.D)); !errors.Is(err, core.ErrInvalid) {
				t.Fatalf("offsets not ending at len(ids): %v", err)
			}
			if err := tbl.PoolBags([]int{-1}, []int{0, 1}, false, make([]float32, c.tb.D)); !errors.Is(err, core.ErrInvalid) {
				t.Fatalf("negative id: %v", err)
			}
		}
	}
	// Concurrent lookups on the loaded tables (run under -race in CI).
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rr := rand.New(rand.NewPCG(uint64(g), 1))
			for ti, c := range cases {
				tbl := loaded.Tables()[ti]
				ids := make([]int, 100)
				for i := range ids {
					ids[i] = rr.IntN(c.tb.R)
				}
				a := make([]float32, 2*c.tb.D)
				b := make([]float32, 2*c.tb.D)
				tbl.PoolBags(ids, []int{0, 37, 100}, false, a)
				tbl.PoolBags(ids, []int{0, 37, 100}, false, b)
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
						t.Errorf("table %d: concurrent lookups differ", ti)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	f.Close()
	if err := loaded.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tb := range loaded.Tables() {
		for _, b := range tb.loaded {
			if b.Bytes != nil {
				t.Fatal("Close left loaded rows")
			}
		}
	}
}

// BenchmarkPoolBags measures embedding-bag lookups (batches of 256 bags of
// 32 Zipf(1.05) ids) from a compressed table loaded into memory against
// PoolBagsF32 on its fp32 copy, on a table that fits the cache and on
// one several times larger. Rows are ranked by popularity and the most
// popular get the finer tiers, as a budget from access counts gives them.
// Compare the two sub-benchmarks' ns/op for the lookup ratio.
func BenchmarkPoolBags(b *testing.B) {
	for _, rows := range []int{4096, 1 << 21} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) { benchPoolBags(b, rows) })
	}
}

func benchPoolBags(b *testing.B, rows int) {
	{
		const dim, bags, bagSize = 64, 256, 32
		scatter := func(rank uint64) int { return int(rank * 2654435761 % uint64(rows)) }
		tb := &core.Table{R: rows, D: dim, Data: make([]float32, rows*dim)}
		r := rand.New(rand.NewPCG(1, 1))
		for i := range tb.Data {
			tb.Data[i] = float32(r.NormFloat64())
		}
		tiers := make([]core.Tier, rows)
		for rank := range rows {
			t := core.INT4
			switch f := float64(rank) / float64(rows); {
			case f < 0.0004:
				t = core.FP32
			case f < 0.35:
				t = core.FP16
			case f < 0.62:
				t = core.INT8
			}
			tiers[scatter(uint64(rank))] = t
		}
		var buf bytes.Buffer
		w, _ := NewWriter(&buf)
		if err := w.WriteTable("t", tb, tiers, TableInfo{SourceDType: formats.F32}, nil); err != nil {
			b.Fatal(err)
		}
		w.Close()
		rd, err := NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			b.Fatal(err)
		}
		tbl := rd.Tables()[0]
		if err := tbl.LoadRows(); err != nil {
			b.Fatal(err)
		}
		buf = bytes.Buffer{}
		z := rand.NewZipf(r, 1.05, 1, uint64(rows-1))
		ids := make([]int, 64*bags*bagSize)
		for i := range ids {
			ids[i] = scatter(z.Uint64())
		}
		offsets := make([]int, bags+1)
		for i := range offsets {
			offsets[i] = i * bagSize
		}
		out := make([]float32, bags*dim)
		batch := func(i int) []int { i %= 64; return ids[i*bags*bagSize : (i+1)*bags*bagSize] }
		b.Run("compressed", func(b *testing.B) {
			i := 0
			for b.Loop() {
				if err := tbl.PoolBags(batch(i), offsets, false, out); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("fp32", func(b *testing.B) {
			i := 0
			for b.Loop() {
				if err := PoolBagsF32(tb.Data, dim, batch(i), offsets, false, out); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
