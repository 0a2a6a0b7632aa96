package sharkfile

import (
	"math/rand/v2"
	"os"
	"testing"
	"unsafe"

	"shark/core"
	"shark/core/kernels"
	"shark/internal/hugemem"
)

// BenchmarkLookupParts splits a lookup's cost on a real compressed file
// (SHARK_LOOKUP_FILE, e.g. the 8,000,000 x 64 table of BENCHMARKS.md) into
// its memory part and the rest. Each sub-benchmark handles 2^20 Zipf(1.05)
// ids in groups of poolGroup and reports ns per row:
//
//	compressed-touch         index loads one group ahead, then the rows touched
//	compressed-touch-noindex the rows touched, with every index entry loaded beforehand
//	fp32-touch               the fp32 copy's rows touched
//	compressed-prefetch, fp32-prefetch  the whole lookup with software prefetch
//	                         (kernels.Prefetch) of the next group instead of touches
//	compressed-pool, fp32-pool  the whole lookup (PoolBags, PoolBagsF32)
func BenchmarkLookupParts(b *testing.B) {
	path := os.Getenv("SHARK_LOOKUP_FILE")
	if path == "" {
		b.Skip("set SHARK_LOOKUP_FILE to a .shark file with a large table")
	}
	f, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var tbl *Table
	for _, t := range f.Tables() {
		if tbl == nil || t.Rows()*t.Dim() > tbl.Rows()*tbl.Dim() {
			tbl = t
		}
	}
	if tbl == nil || tbl.LoadRows() != nil || tbl.slots == nil {
		b.Fatal("no table with a serving index")
	}
	rows, dim := tbl.Rows(), tbl.Dim()
	hb := hugemem.Alloc(4 * rows * dim)
	defer hb.Free()
	fp32 := hb.Float32s()
	for r := 0; r < rows; r++ {
		if err := tbl.Row(r, fp32[r*dim:(r+1)*dim]); err != nil {
			b.Fatal(err)
		}
	}
	z := rand.NewZipf(rand.New(rand.NewPCG(7, 7)), 1.05, 1, uint64(rows-1))
	ids := make([]int, 1<<20)
	slots := make([]uint32, len(ids))
	for i := range ids {
		ids[i] = int(z.Uint64() * 2654435761 % uint64(rows))
		slots[i] = tbl.slots[ids[i]]
	}
	const G = poolGroup
	var rb [core.NumTiers]int
	for t := range rb {
		rb[t] = core.Tier(t).RowBytes(dim)
	}
	row := func(s uint32) []byte {
		t, rank := s>>30, int(s&(1<<30-1))
		return tbl.mem[t][rank*rb[t] : rank*rb[t]+rb[t]]
	}
	var sink byte
	out := make([]float32, dim)
	run := func(name string, f func()) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ids)), "ns/row")
		})
	}
	run("compressed-touch", func() {
		var raws [G][]byte
		var cur, next [G]uint32
		for j, id := range ids[:G] {
			cur[j] = tbl.slots[id]
		}
		for g := 0; g < len(ids); g += G {
			for j, s := range cur {
				raws[j] = row(s)
			}
			for j, id := range ids[g+G : min(g+2*G, len(ids))] {
				next[j] = tbl.slots[id]
			}
			sink ^= touch(raws[:])
			cur = next
		}
	})
	run("compressed-touch-noindex", func() {
		var raws [G][]byte
		for g := 0; g < len(ids); g += G {
			for j, s := range slots[g : g+G] {
				raws[j] = row(s)
			}
			sink ^= touch(raws[:])
		}
	})
	run("fp32-touch", func() {
		var raws [G][]byte
		for g := 0; g < len(ids); g += G {
			for j, id := range ids[g : g+G] {
				raws[j] = unsafe.Slice((*byte)(unsafe.Pointer(&fp32[id*dim])), 4*dim)
			}
			sink ^= touch(raws[:])
		}
	})
	run("compressed-prefetch", func() {
		var cur, nxt [G][]byte
		var ct, nt [G]uint32
		var sl [G]uint32
		for j, id := range ids[:G] {
			ct[j] = tbl.slots[id]
			cur[j] = row(ct[j])
		}
		for j, id := range ids[G : 2*G] {
			sl[j] = tbl.slots[id]
		}
		for g := 0; g < len(ids); g += G {
			if g+G < len(ids) {
				for j := range nxt {
					nt[j] = sl[j]
					nxt[j] = row(nt[j])
					kernels.Prefetch(nxt[j])
				}
				if g+3*G <= len(ids) {
					for j, id := range ids[g+2*G : g+3*G] {
						sl[j] = tbl.slots[id]
					}
				}
			}
			for j, raw := range cur {
				switch core.Tier(ct[j] >> 30) {
				case core.FP32:
					kernels.AddRowF32(out, raw)
				case core.FP16:
					kernels.AddRowF16(out, raw)
				case core.INT8:
					kernels.AddRowNBit(8, out, raw)
				default:
					kernels.AddRowNBit(4, out, raw)
				}
			}
			cur, ct = nxt, nt
		}
	})
	run("fp32-prefetch", func() {
		var cur, nxt [G]int
		copy(cur[:], ids[:G])
		for g := 0; g < len(ids); g += G {
			if g+G < len(ids) {
				copy(nxt[:], ids[g+G:g+2*G])
				for _, id := range nxt {
					kernels.Prefetch(unsafe.Slice((*byte)(unsafe.Pointer(&fp32[id*dim])), 4*dim))
				}
			}
			for _, id := range cur {
				kernels.Axpy(1, fp32[id*dim:(id+1)*dim], out)
			}
			cur = nxt
		}
	})
	whole := []int{0, len(ids)}
	run("compressed-pool", func() { tbl.PoolBags(ids, whole, false, out) })
	run("fp32-pool", func() { PoolBagsF32(fp32, dim, ids, whole, false, out) })
	touchSink.Store(uint32(sink))
}
