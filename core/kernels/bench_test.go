package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/x448/float16"
)

// Each benchmark runs the kernel in use ("simd" when the build and CPU have
// one), the portable kernel, and a baseline (x448/float16 per value, or the
// plain loop) at sizes from 1 to 500k values; ns/op divided by n is ns per
// value. Compare with benchstat.

var benchSizes = []int{1, 16, 256, 4096, 65536, 500000}

func variants(b *testing.B, n int, simd, portable, baseline func()) {
	run := func(name string, f func(), force bool) {
		if f == nil {
			return
		}
		b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
			ForcePortable(force)
			defer ForcePortable(false)
			b.SetBytes(int64(4 * n))
			for b.Loop() {
				f()
			}
		})
	}
	if Impl() != "portable" {
		run("simd", simd, false)
	}
	run("portable", portable, true)
	run("baseline", baseline, true)
}

func BenchmarkF32toF16(b *testing.B) {
	for _, n := range benchSizes {
		src := randRow(rand.New(rand.NewPCG(1, 1)), n)
		dst := make([]uint16, n)
		k := func() { FloatsToHalves(dst, src) }
		variants(b, n, k, k, func() {
			for i, v := range src {
				dst[i] = float16.Fromfloat32(v).Bits()
			}
		})
	}
}

func BenchmarkF16toF32(b *testing.B) {
	for _, n := range benchSizes {
		h := make([]uint16, n)
		for i := range h {
			h[i] = uint16(i * 7919)
		}
		dst := make([]float32, n)
		k := func() { HalvesToFloats(dst, h) }
		variants(b, n, k, k, func() {
			for i, v := range h {
				dst[i] = float16.Frombits(v).Float32()
			}
		})
	}
}

// Rows of 64 values, the usual embedding width; n is the total values.
func benchRows(b *testing.B, bits int, dequant bool) {
	for _, n := range benchSizes {
		if n < 64 {
			continue
		}
		src := randRow(rand.New(rand.NewPCG(2, 2)), n)
		rb := RowBytes(bits, 64)
		enc := make([]byte, n/64*rb)
		for r := 0; r < n/64; r++ {
			quantizeRowGeneric(bits, enc[r*rb:], src[r*64:(r+1)*64])
		}
		out := make([]float32, n)
		var k func()
		if dequant {
			k = func() {
				for r := 0; r < n/64; r++ {
					DequantizeRow(bits, out[r*64:(r+1)*64], enc[r*rb:(r+1)*rb])
				}
			}
		} else {
			k = func() {
				for r := 0; r < n/64; r++ {
					QuantizeRow(bits, enc[r*rb:(r+1)*rb], src[r*64:(r+1)*64])
				}
			}
		}
		variants(b, n, k, k, nil)
	}
}

// The batched quantizer on every row of the same arrays as benchRows; its
// "simd" against BenchmarkQuantizeInt8's (and Int4's) is the gain of
// computing 16 rows' parameters together.
func benchRowsBatch(b *testing.B, bits int) {
	for _, n := range benchSizes {
		if n < 64 {
			continue
		}
		src := randRow(rand.New(rand.NewPCG(2, 2)), n)
		enc := make([]byte, n/64*RowBytes(bits, 64))
		idx := make([]int, n/64)
		for i := range idx {
			idx[i] = i
		}
		k := func() { QuantizeRows(bits, 64, enc, src, idx) }
		variants(b, n, k, k, nil)
	}
}

func BenchmarkQuantizeRowsInt8(b *testing.B) { benchRowsBatch(b, 8) }
func BenchmarkQuantizeRowsInt4(b *testing.B) { benchRowsBatch(b, 4) }

func BenchmarkQuantizeInt8(b *testing.B)   { benchRows(b, 8, false) }
func BenchmarkQuantizeInt4(b *testing.B)   { benchRows(b, 4, false) }
func BenchmarkQuantizeInt2(b *testing.B)   { benchRows(b, 2, false) }
func BenchmarkDequantizeInt8(b *testing.B) { benchRows(b, 8, true) }
func BenchmarkDequantizeInt4(b *testing.B) { benchRows(b, 4, true) }
func BenchmarkDequantizeInt2(b *testing.B) { benchRows(b, 2, true) }

func BenchmarkDot(b *testing.B) {
	for _, n := range benchSizes {
		x, y := randRow(rand.New(rand.NewPCG(3, 3)), n), randRow(rand.New(rand.NewPCG(4, 4)), n)
		var s float32
		k := func() { s += Dot(x, y) }
		variants(b, n, k, k, nil)
		_ = s
	}
}

func BenchmarkAxpy(b *testing.B) {
	for _, n := range benchSizes {
		x, y := randRow(rand.New(rand.NewPCG(3, 3)), n), randRow(rand.New(rand.NewPCG(4, 4)), n)
		k := func() { Axpy(1e-9, x, y) }
		variants(b, n, k, k, nil)
	}
}

// BenchmarkSumSquaredDiff: the error sum of measuring a row in a tier.
func BenchmarkSumSquaredDiff(b *testing.B) {
	for _, n := range benchSizes {
		x, y := randRow(rand.New(rand.NewPCG(3, 3)), n), randRow(rand.New(rand.NewPCG(4, 4)), n)
		var s float64
		k := func() { v, _ := SumSquaredDiff(x, y); s += v }
		variants(b, n, k, k, nil)
		_ = s
	}
}

// BenchmarkMemcpy is the bandwidth limit the encoders are measured against.
func BenchmarkMemcpy(b *testing.B) {
	for _, n := range []int{65536, 500000, 64 << 20} {
		src := make([]float32, n)
		dst := make([]float32, n)
		for i := range src {
			src[i], dst[i] = 1, 1 // fault every page in before timing
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(4 * n))
			for b.Loop() {
				copy(dst, src)
			}
		})
		if n < 1<<20 {
			continue
		}
		// The same copy split over GOMAXPROCS goroutines (-cpu 1,2): the
		// bandwidth limit of the parallel writer.
		b.Run(fmt.Sprintf("n=%d/parallel", n), func(b *testing.B) {
			b.SetBytes(int64(4 * n))
			w := runtime.GOMAXPROCS(0)
			for b.Loop() {
				var wg sync.WaitGroup
				for k := range w {
					wg.Go(func() { copy(dst[k*n/w:(k+1)*n/w], src[k*n/w:(k+1)*n/w]) })
				}
				wg.Wait()
			}
		})
	}
}

// BenchmarkAddRow measures the accumulating decoders of pooled lookups on
// rows of 64 values (n values in all), each row added to one 64-wide sum.
func BenchmarkAddRow(b *testing.B) {
	const n, dim = 500000, 64
	src := randRow(rand.New(rand.NewPCG(4, 4)), n)
	sum := make([]float32, dim)
	for _, c := range []struct {
		name string
		rb   int
		enc  func(dst []byte, row []float32)
		add  func(dst []float32, src []byte)
	}{
		{"fp32", 4 * dim, func(d []byte, r []float32) {
			for i, v := range r {
				binary.LittleEndian.PutUint32(d[4*i:], math.Float32bits(v))
			}
		}, AddRowF32},
		{"fp16", 2 * dim, func(d []byte, r []float32) { FloatsToHalfBytes(d, r) }, AddRowF16},
		{"int8", RowBytes(8, dim), func(d []byte, r []float32) { quantizeRowGeneric(8, d, r) }, func(s []float32, e []byte) { AddRowNBit(8, s, e) }},
		{"int4", RowBytes(4, dim), func(d []byte, r []float32) { quantizeRowGeneric(4, d, r) }, func(s []float32, e []byte) { AddRowNBit(4, s, e) }},
		{"int2", RowBytes(2, dim), func(d []byte, r []float32) { quantizeRowGeneric(2, d, r) }, func(s []float32, e []byte) { AddRowNBit(2, s, e) }},
	} {
		enc := make([]byte, n/dim*c.rb)
		for r := 0; r < n/dim; r++ {
			c.enc(enc[r*c.rb:(r+1)*c.rb], src[r*dim:(r+1)*dim])
		}
		k := func() {
			for r := 0; r < n/dim; r++ {
				c.add(sum, enc[r*c.rb:(r+1)*c.rb])
			}
		}
		b.Run(c.name, func(b *testing.B) { variants(b, n, k, k, nil) })
	}
}

// benchRowKernel runs f on every 64-value row of n values: the kernels a
// writer runs once a row.
func benchRowKernel(b *testing.B, f func(row []float32)) {
	for _, n := range benchSizes {
		if n < 64 {
			continue
		}
		src := randRow(rand.New(rand.NewPCG(2, 2)), n)
		k := func() {
			for r := 0; r < n/64; r++ {
				f(src[r*64 : (r+1)*64])
			}
		}
		variants(b, n, k, k, nil)
	}
}

// BenchmarkRowErrors: a row measured in every lossy tier, what a budget
// plan runs on every row.
func BenchmarkRowErrors(b *testing.B) { benchRowKernel(b, func(r []float32) { RowErrors(r) }) }

// BenchmarkRowErrors4: the same with the 2-bit tier.
func BenchmarkRowErrors4(b *testing.B) { benchRowKernel(b, func(r []float32) { RowErrors4(r) }) }

// BenchmarkRowNorm and BenchmarkTierError: what a fixed-fraction plan runs.
func BenchmarkRowNorm(b *testing.B) { benchRowKernel(b, func(r []float32) { RowNorm(r) }) }

func BenchmarkTierError(b *testing.B) {
	for k, name := range []string{"fp16", "int8", "int4", "int2"} {
		b.Run(name, func(b *testing.B) { benchRowKernel(b, func(r []float32) { TierError(k, r) }) })
	}
}

// BenchmarkRowsErrors: a measuring chunk (2,048 rows of 64 values, as
// core.MeasureChunk) through RowsErrors, in each kernel set.
func BenchmarkRowsErrors(b *testing.B) {
	const n, dim = 2048, 64
	src := randRow(rand.New(rand.NewPCG(2, 2)), n*dim)
	out, ok := make([]TierErrors, n), make([]bool, n)
	defer ForcePortable(false)
	for _, s := range Sets() {
		if err := Force(s); err != nil {
			b.Fatal(err)
		}
		b.Run(s, func(b *testing.B) {
			b.SetBytes(n * dim * 4)
			for b.Loop() {
				RowsErrors(src, dim, out, ok)
			}
		})
	}
}
