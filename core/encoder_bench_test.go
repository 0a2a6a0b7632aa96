package core

import (
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"shark/core/par"
)

// BenchmarkEncodeTiers measures quantizing an fp32 table into the mixed
// tiers in memory, against copying the same bytes: 2^20 rows of 64 (256
// MiB) with 1% fp32, 30% fp16, 30% int8 and 39% int4 rows, as
// BenchmarkWriteTable in formats/sharkfile, into per-tier buffers faulted
// in beforehand. MB/s is of fp32 input. Sub-benchmarks:
//
//	batched  TierEncoder.Encode (each part's rows a tier at a time)
//	rowwise  EncodeRow on each row in row order, parts of 256 rows over
//	         the cores (the writer's loop before TierEncoder)
//	copy     copy() of the 256 MiB, split over the cores
//	copy1    the same copy in one goroutine
//
// SHARK_ENC_ROWS sets another number of rows: 4096 (1 MiB) fits the cache.
func BenchmarkEncodeTiers(b *testing.B) {
	rows, dim := 1<<20, 64
	if v, err := strconv.Atoi(os.Getenv("SHARK_ENC_ROWS")); err == nil {
		rows = v
	}
	r := rand.New(rand.NewPCG(1, 1))
	tb := &Table{R: rows, D: dim, Data: make([]float32, rows*dim)}
	for i := range tb.Data {
		tb.Data[i] = float32(r.NormFloat64())
	}
	tiers := make([]Tier, rows)
	for i := range tiers {
		switch x := r.IntN(100); {
		case x < 1:
			tiers[i] = FP32
		case x < 31:
			tiers[i] = FP16
		case x < 61:
			tiers[i] = INT8
		default:
			tiers[i] = INT4
		}
	}
	n := Counts(tiers)
	var out [NumTiers][]byte
	var rb [NumTiers]int
	for t := range out {
		rb[t] = Tier(t).RowBytes(dim)
		out[t] = make([]byte, n[t]*rb[t])
		for i := range out[t] {
			out[t][i] = 1 // fault every page in before timing
		}
	}
	b.Run("batched", func(b *testing.B) {
		b.SetBytes(int64(4 * len(tb.Data)))
		e := NewTierEncoder(dim)
		for b.Loop() {
			e.Encode(&out, tb.Data, tiers)
		}
	})
	b.Run("rowwise", func(b *testing.B) {
		b.SetBytes(int64(4 * len(tb.Data)))
		pos := make([]int, rows)
		var c [NumTiers]int
		for i, t := range tiers {
			pos[i] = c[t] * rb[t]
			c[t]++
		}
		const part = 256
		for b.Loop() {
			par.For(rows/part, 0, func(k int) {
				for i := k * part; i < (k+1)*part; i++ {
					t := tiers[i]
					EncodeRow(t, out[t][pos[i]:pos[i]+rb[t]], tb.Data[i*dim:(i+1)*dim])
				}
			})
		}
	})
	dst := make([]float32, len(tb.Data))
	for i := range dst {
		dst[i] = 1
	}
	b.Run("copy", func(b *testing.B) {
		b.SetBytes(int64(4 * len(tb.Data)))
		w := runtime.GOMAXPROCS(0)
		m := len(dst)
		for b.Loop() {
			var wg sync.WaitGroup
			for k := range w {
				wg.Go(func() { copy(dst[k*m/w:(k+1)*m/w], tb.Data[k*m/w:(k+1)*m/w]) })
			}
			wg.Wait()
		}
	})
	b.Run("copy1", func(b *testing.B) {
		b.SetBytes(int64(4 * len(tb.Data)))
		for b.Loop() {
			copy(dst, tb.Data)
		}
	})
}
