package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/x448/float16"
)

func sameHalf(a, b uint16) bool {
	// Both NaN counts as equal: payload quieting differs between
	// implementations and is not part of our contract.
	isNaN := func(h uint16) bool { return h&0x7c00 == 0x7c00 && h&0x3ff != 0 }
	if isNaN(a) || isNaN(b) {
		return isNaN(a) && isNaN(b) && a&0x8000 == b&0x8000
	}
	return a == b
}

func TestHalfToFloatAllHalves(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		got := HalfToFloat(uint16(h))
		want := float16.Frombits(uint16(h)).Float32()
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("half %#04x: got %v (%#x) want %v (%#x)", h, got, math.Float32bits(got), want, math.Float32bits(want))
		}
		// Every non-NaN half survives the round trip exactly.
		if got == got {
			if back := FloatToHalf(got); back != uint16(h) {
				t.Fatalf("half %#04x -> %v -> %#04x", h, got, back)
			}
		}
	}
}

func TestFloatToHalfMatchesX448(t *testing.T) {
	n := 4_000_000
	if testing.Short() {
		n = 200_000
	}
	r := rand.New(rand.NewPCG(1, 2))
	check := func(f float32) {
		got := FloatToHalf(f)
		want := float16.Fromfloat32(f).Bits()
		if !sameHalf(got, want) {
			t.Fatalf("%v (%#08x): got %#04x want %#04x", f, math.Float32bits(f), got, want)
		}
	}
	for i := 0; i < n; i++ {
		check(math.Float32frombits(r.Uint32())) // every exponent, NaNs included
		// Values in and near the half range, where rounding decides.
		check(float32(r.NormFloat64() * math.Ldexp(1, r.IntN(40)-24)))
	}
	// Exact ties at every exponent, both parities, and the subnormal edge.
	for e := -30; e <= 17; e++ {
		for m := 0; m < 2048; m++ {
			f := float32(math.Ldexp(float64(2048+m)+0.5, e))
			check(f)
			check(-f)
		}
	}
	for _, f := range []float32{0, negZero, 65504, 65519.99, 65520, 1e-8, 2.98e-8, 2.99e-8, 5.96e-8, float32(math.Inf(1)), float32(math.Inf(-1))} {
		check(f)
	}
}

// negZero is -0: the literal -0.0 is +0 in Go.
var negZero = float32(math.Copysign(0, -1))

func TestBulkHalfConversions(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 300; n++ {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(r.NormFloat64() * 10)
		}
		// NaN-free guard words around dst catch writes past the end.
		buf := make([]uint16, n+2)
		buf[0], buf[n+1] = 0xdead, 0xbeef
		FloatsToHalves(buf[1:n+1], src)
		if buf[0] != 0xdead || buf[n+1] != 0xbeef {
			t.Fatalf("n=%d: guard overwritten", n)
		}
		back := make([]float32, n)
		HalvesToFloats(back, buf[1:n+1])
		for i := range src {
			if buf[1+i] != FloatToHalf(src[i]) || back[i] != HalfToFloat(buf[1+i]) {
				t.Fatalf("n=%d i=%d mismatch", n, i)
			}
		}
	}
}

func BenchmarkFloatsToHalves(b *testing.B) {
	src := make([]float32, 4096)
	for i := range src {
		src[i] = float32(i) * 0.37
	}
	dst := make([]uint16, len(src))
	b.Run("kernel", func(b *testing.B) {
		b.SetBytes(int64(4 * len(src)))
		for b.Loop() {
			FloatsToHalves(dst, src)
		}
	})
	b.Run("x448", func(b *testing.B) {
		b.SetBytes(int64(4 * len(src)))
		for b.Loop() {
			for i, f := range src {
				dst[i] = float16.Fromfloat32(f).Bits()
			}
		}
	})
}

func BenchmarkHalvesToFloats(b *testing.B) {
	src := make([]uint16, 4096)
	for i := range src {
		src[i] = uint16(i * 7)
	}
	dst := make([]float32, len(src))
	b.Run("kernel", func(b *testing.B) {
		b.SetBytes(int64(2 * len(src)))
		for b.Loop() {
			HalvesToFloats(dst, src)
		}
	})
	b.Run("x448", func(b *testing.B) {
		b.SetBytes(int64(2 * len(src)))
		for b.Loop() {
			for i, h := range src {
				dst[i] = float16.Frombits(h).Float32()
			}
		}
	})
}
