package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"

	"github.com/x448/float16"
)

// Differential tests: the kernels in use (SIMD when built with
// GOEXPERIMENT=simd on a capable CPU) against the portable ones, at every
// length from 0 to 300 and some large ones, with guard bands around every
// output that must stay untouched.

func lengths() []int {
	var ls []int
	for n := 0; n <= 300; n++ {
		ls = append(ls, n)
	}
	return append(ls, 1000, 4099, 65536+7)
}

func randRow(r *rand.Rand, n int) []float32 {
	s := math.Ldexp(1, r.IntN(24)-12)
	off := r.NormFloat64() * s * float64(r.IntN(2))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(off + r.NormFloat64()*s)
	}
	if n > 0 && r.IntN(10) == 0 {
		for i := range x {
			x[i] = x[0] // constant row
		}
	}
	return x
}

const guard = 16

func TestSIMDMatchesPortable(t *testing.T) { eachSet(t, sIMDMatchesPortable) }

func sIMDMatchesPortable(t *testing.T) {
	t.Logf("kernels in use: %s", Impl())
	r := rand.New(rand.NewPCG(9, 9))
	for _, n := range lengths() {
		src := randRow(r, n)
		for _, bits := range []int{8, 4, 2} {
			nb := RowBytes(bits, n)
			got := make([]byte, nb+2*guard)
			want := make([]byte, nb+2*guard)
			for i := range got {
				got[i], want[i] = 0xa7, 0xa7
			}
			QuantizeRow(bits, got[guard:guard+nb], src)
			quantizeRowGeneric(bits, want[guard:guard+nb], src)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("quantize bits=%d n=%d: byte %d (guard %d) differs: %#x vs %#x", bits, n, i-guard, guard, got[i], want[i])
				}
			}
			gf := nanGuarded(n)
			wf := nanGuarded(n)
			DequantizeRow(bits, gf[guard:guard+n], want[guard:guard+nb])
			dequantizeRowGeneric(bits, wf[guard:guard+n], want[guard:guard+nb])
			checkGuards(t, gf, n)
			for i := range gf[guard : guard+n] {
				if math.Float32bits(gf[guard+i]) != math.Float32bits(wf[guard+i]) {
					t.Fatalf("dequantize bits=%d n=%d: value %d differs", bits, n, i)
				}
			}
		}
		// float16 both ways.
		h := make([]uint16, n+2*guard)
		hw := make([]uint16, n)
		for i := range h {
			h[i] = 0xdead
		}
		FloatsToHalves(h[guard:guard+n], src)
		floatsToHalvesGeneric(hw, src)
		for i := range h {
			if (i < guard || i >= guard+n) && h[i] != 0xdead {
				t.Fatalf("fp16 n=%d: guard overwritten", n)
			}
		}
		for i := range hw {
			if h[guard+i] != hw[i] {
				t.Fatalf("fp16 n=%d: value %d differs", n, i)
			}
		}
		hb := make([]byte, 2*n)
		for i, v := range hw {
			hb[2*i], hb[2*i+1] = byte(v), byte(v>>8)
		}
		hbg := make([]byte, 2*n+2*guard)
		FloatsToHalfBytes(hbg[guard:guard+2*n], src)
		for i := range hbg {
			if i < guard || i >= guard+2*n {
				if hbg[i] != 0 {
					t.Fatalf("fp16 bytes n=%d: guard overwritten", n)
				}
			} else if hbg[i] != hb[i-guard] {
				t.Fatalf("fp16 bytes n=%d: byte %d differs", n, i-guard)
			}
		}
		fb := nanGuarded(n)
		HalfBytesToFloats(fb[guard:guard+n], hb)
		checkGuards(t, fb, n)
		for i := range hw {
			if math.Float32bits(fb[guard+i]) != math.Float32bits(HalfToFloat(hw[i])) {
				t.Fatalf("fp16 bytes->fp32 n=%d: value %d differs", n, i)
			}
		}
		back := nanGuarded(n)
		HalvesToFloats(back[guard:guard+n], hw)
		checkGuards(t, back, n)
		for i := range hw {
			if back[guard+i] != HalfToFloat(hw[i]) {
				t.Fatalf("fp16->fp32 n=%d: value %d differs", n, i)
			}
		}
		// Accumulating decoders equal decode-then-add, for every tier.
		acc := randRow(r, n)
		enc := make([]byte, 4*n+4)
		for ti, f := range []func(dst []float32, src []byte){
			AddRowF32, AddRowF16, func(d []float32, s []byte) { AddRowNBit(8, d, s) }, func(d []float32, s []byte) { AddRowNBit(4, d, s) },
			func(d []float32, s []byte) { AddRowNBit(2, d, s) }} {
			var raw []byte
			dec := make([]float32, n)
			switch ti {
			case 0:
				raw = enc[:4*n]
				for i, v := range src {
					binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
				}
				copy(dec, src)
			case 1:
				raw = hb
				halvesToFloatsGeneric(dec, hw)
			default:
				bits := []int{8, 4, 2}[ti-2]
				raw = enc[:RowBytes(bits, n)]
				quantizeRowGeneric(bits, raw, src)
				dequantizeRowGeneric(bits, dec, raw)
			}
			got := nanGuarded(n)
			copy(got[guard:], acc)
			f(got[guard:guard+n], raw)
			checkGuards(t, got, n)
			for i := range dec {
				if want := acc[i] + dec[i]; math.Float32bits(got[guard+i]) != math.Float32bits(want) {
					t.Fatalf("accumulate tier %d n=%d: value %d is %v, want %v", ti, n, i, got[guard+i], want)
				}
			}
		}
		// axpy exactly, dot within a bounded error.
		y := randRow(r, n)
		yg := nanGuarded(n)
		copy(yg[guard:], y)
		yw := append([]float32{}, y...)
		Axpy(0.37, src, yg[guard:guard+n])
		axpyGeneric(0.37, src, yw)
		checkGuards(t, yg, n)
		for i := range yw {
			if math.Float32bits(yg[guard+i]) != math.Float32bits(yw[i]) {
				t.Fatalf("axpy n=%d: value %d differs", n, i)
			}
		}
		d, dw := Dot(src, y), dotGeneric(src, y)
		var mag float64
		for i := range src {
			mag += math.Abs(float64(src[i]) * float64(y[i]))
		}
		if math.Abs(float64(d)-float64(dw)) > 4*float64(n+1)*0x1p-24*mag {
			t.Fatalf("dot n=%d: %v vs %v (sum of |terms| %v)", n, d, dw, mag)
		}
	}
}

func nanGuarded(n int) []float32 {
	x := make([]float32, n+2*guard)
	for i := range x {
		x[i] = float32(math.NaN())
	}
	return x
}

func checkGuards(t *testing.T, x []float32, n int) {
	t.Helper()
	for i := range x {
		if (i < guard || i >= guard+n) && !math.IsNaN(float64(x[i])) {
			t.Fatalf("n=%d: guard %d overwritten", n, i)
		}
	}
}

// Every one of the 65,536 halves, and tens of millions of floats, against
// x448/float16, through the bulk kernels in use.
func TestBulkHalvesAgainstX448(t *testing.T) {
	// The AVX2 and AVX-512 sets share their F16C kernels: each pair of
	// kernels is tested once.
	seen := map[[2]uintptr]bool{}
	eachSet(t, func(t *testing.T) {
		k := [2]uintptr{reflect.ValueOf(floatsToHalves).Pointer(), reflect.ValueOf(halvesToFloats).Pointer()}
		if seen[k] {
			t.Skip("the fp16 kernels of a set tested before")
		}
		seen[k] = true
		bulkHalvesAgainstX448(t)
	})
}

func bulkHalvesAgainstX448(t *testing.T) {
	all := make([]uint16, 1<<16)
	for i := range all {
		all[i] = uint16(i)
	}
	f := make([]float32, len(all))
	HalvesToFloats(f, all)
	for i, h := range all {
		w := float16.Frombits(h).Float32()
		if math.Float32bits(f[i]) != math.Float32bits(w) && !(f[i] != f[i] && w != w) {
			t.Fatalf("half %#x: %v want %v", h, f[i], w)
		}
	}
	n := 20_000_000
	if testing.Short() {
		n = 1_000_000
	}
	r := rand.New(rand.NewPCG(4, 4))
	const chunk = 1 << 16
	src := make([]float32, chunk)
	dst := make([]uint16, chunk)
	for done := 0; done < n; done += chunk {
		for i := range src {
			if i%2 == 0 {
				src[i] = math.Float32frombits(r.Uint32())
			} else {
				src[i] = float32(r.NormFloat64() * math.Ldexp(1, r.IntN(40)-24))
			}
		}
		FloatsToHalves(dst, src)
		for i, v := range src {
			if w := float16.Fromfloat32(v).Bits(); !sameHalf(dst[i], w) {
				t.Fatalf("%v (%#x): %#x want %#x", v, math.Float32bits(v), dst[i], w)
			}
		}
	}
}

// TestAllFloats checks every one of the 2^32 float32 values against
// x448/float16. It takes minutes; run it with SHARK_LONG=1.
func TestAllFloats(t *testing.T) {
	if os.Getenv("SHARK_LONG") == "" {
		t.Skip("set SHARK_LONG=1 to convert all 2^32 floats")
	}
	const chunk = 1 << 20
	src := make([]float32, chunk)
	dst := make([]uint16, chunk)
	for base := uint64(0); base < 1<<32; base += chunk {
		for i := range src {
			src[i] = math.Float32frombits(uint32(base) + uint32(i))
		}
		FloatsToHalves(dst, src)
		for i, v := range src {
			if w := float16.Fromfloat32(v).Bits(); !sameHalf(dst[i], w) {
				t.Fatalf("%#x: %#x want %#x", math.Float32bits(v), dst[i], w)
			}
		}
	}
}

// SumSquaredDiff equals the portable lane-ordered sum bit for bit, NaN,
// infinite and signed-zero differences included: tier choices rest on it.
func TestSumSquaredDiffMatchesPortable(t *testing.T) { eachSet(t, sumSquaredDiffMatchesPortable) }

func sumSquaredDiffMatchesPortable(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 65504, -1e-40}
	for _, n := range lengths() {
		for trial := 0; trial < 3; trial++ {
			a := randRow(r, n)
			b := make([]float32, n)
			for i := range b {
				b[i] = a[i] + float32(r.NormFloat64()*1e-3)
				if trial == 2 && r.IntN(7) == 0 {
					b[i] = specials[r.IntN(len(specials))]
				}
			}
			gs, gm := SumSquaredDiff(a, b)
			ws, wm := sumSquaredDiffGeneric(a, b)
			if math.Float64bits(gs) != math.Float64bits(ws) || math.Float64bits(gm) != math.Float64bits(wm) {
				t.Fatalf("n=%d trial %d: got %v %v, portable %v %v", n, trial, gs, gm, ws, wm)
			}
		}
	}
}

// A row whose minimum is zero and holds both +0 and -0: the portable scan
// keeps the first zero as the bias, and so must every kernel, or the bias's
// sign bit would depend on the lanes (it did in the AVX-512 kernel).
func TestQuantizeZeroMinSign(t *testing.T) { eachSet(t, quantizeZeroMinSign) }

func quantizeZeroMinSign(t *testing.T) {
	negz := float32(math.Copysign(0, -1))
	for _, n := range []int{16, 33, 64, 128} {
		for pos := range n {
			for _, first := range []float32{0, negz} {
				src := make([]float32, n)
				for i := range src {
					src[i] = float32(i%7) + 1
				}
				src[pos] = first
				src[(pos+17)%n] = -first
				for _, bits := range []int{8, 4, 2} {
					nb := RowBytes(bits, n)
					got, want := make([]byte, nb), make([]byte, nb)
					QuantizeRow(bits, got, src)
					quantizeRowGeneric(bits, want, src)
					if string(got) != string(want) {
						t.Fatalf("n=%d bits=%d zero %v at %d: tail % x, want % x", n, bits, first, pos, got[nb-4:], want[nb-4:])
					}
				}
			}
		}
	}
}

// QuantizeRows in use against the portable per-row loop: many row counts
// (so groups of 16 and the rows after them), the widths the batched kernel
// takes and ones it leaves to the row kernel, rows named in any order and
// more than once, and rows whose parameters leave the common case (zero or
// tiny minimum, constant rows, values near the largest half, ranges whose
// scale rounds to a subnormal half), with guard bands around the output.
func TestQuantizeRowsMatchesPortable(t *testing.T) { eachSet(t, quantizeRowsMatchesPortable) }

func quantizeRowsMatchesPortable(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 17))
	special := func(x []float32) {
		switch r.IntN(8) {
		case 0:
			for i := range x {
				x[i] = float32(r.IntN(3)) // min 0, both signs of zero
				if r.IntN(2) == 0 {
					x[i] = -x[i]
				}
			}
			for i := range x {
				if x[i] < 0 {
					x[i] = -x[i]
				}
			}
		case 1:
			for i := range x {
				x[i] = float32(r.NormFloat64() * 1e-6) // subnormal halves
			}
		case 2:
			for i := range x {
				x[i] = 65500 + float32(r.IntN(40)) // bias rounds past the largest half
			}
		case 3:
			for i := range x {
				x[i] = float32(r.NormFloat64()*1e-5) + 3 // scale below the smallest normal half
			}
		case 4:
			for i := range x {
				x[i] = float32(r.NormFloat64() * 3e4) // scale near the largest half
			}
		}
	}
	// Every width the batched kernel takes up to 304 (multiples of 16),
	// and some it leaves to the one-row kernel.
	dims := []int{1, 8, 17, 33, 100}
	for d := 16; d <= 304; d += 16 {
		dims = append(dims, d)
	}
	for _, dim := range dims {
		for _, rows := range []int{0, 1, 15, 16, 17, 31, 32, 33, 100} {
			src := make([]float32, 0, 40*dim)
			for range 40 {
				row := randRow(r, dim)
				if r.IntN(3) == 0 {
					special(row)
				}
				src = append(src, row...)
			}
			idx := make([]int, rows)
			for i := range idx {
				idx[i] = r.IntN(40)
			}
			for _, bits := range []int{8, 4, 2} {
				n := rows * RowBytes(bits, dim)
				got, want := make([]byte, n+2*guard), make([]byte, n+2*guard)
				for i := range got {
					got[i], want[i] = 0xa7, 0xa7
				}
				QuantizeRows(bits, dim, got[guard:guard+n], src, idx)
				quantizeRowsGeneric(bits, dim, want[guard:guard+n], src, idx)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("dim=%d rows=%d bits=%d: byte %d (guard %d) is %#x, want %#x", dim, rows, bits, i-guard, guard, got[i], want[i])
					}
				}
			}
		}
	}
}
