//go:build goexperiment.simd && amd64 && !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"
)

// half8.round equals roundHalf on every finite value class: random bits,
// and every value within 64 ulps of each boundary it tests (the least
// normal half, the overflow limit, ties at bit 13 and 2^-25).
func TestHalf8Round(t *testing.T) {
	if !archsimd.X86.AVX2() {
		t.Skip("no AVX2")
	}
	var vals []float32
	r := rand.New(rand.NewPCG(8, 1))
	for range 1 << 18 {
		if f := math.Float32frombits(r.Uint32()); f-f == 0 {
			vals = append(vals, f)
		}
	}
	for _, c := range []uint32{0, 113 << 23, 0x477ff000, 143 << 23, 0x7f7fffff, 102 << 23, 0x38800fff, 0x38801000, 0x3f801000} {
		for d := -64; d <= 64; d++ {
			if b := int64(c) + int64(d); b >= 0 && b < 0x7f800000 {
				vals = append(vals, math.Float32frombits(uint32(b)), -math.Float32frombits(uint32(b)))
			}
		}
	}
	for len(vals)%8 != 0 {
		vals = append(vals, 1)
	}
	h := newHalf8()
	got := make([]float32, len(vals))
	for i := 0; i < len(vals); i += 8 {
		h.round(archsimd.LoadFloat32x8((*[8]float32)(vals[i : i+8]))).Store((*[8]float32)(got[i : i+8]))
	}
	archsimd.ClearAVXUpperBits()
	for i, v := range vals {
		if math.Float32bits(got[i]) != math.Float32bits(roundHalf(v)) {
			t.Fatalf("round(%g = %#x) = %#x, roundHalf %#x", v, math.Float32bits(v), math.Float32bits(got[i]), math.Float32bits(roundHalf(v)))
		}
	}
}
