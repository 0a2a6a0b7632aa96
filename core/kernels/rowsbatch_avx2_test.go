//go:build goexperiment.simd && amd64 && !purego

package kernels

import (
	"math"
	"simd/archsimd"
	"testing"
)

// half8.round equals roundHalf on halfTestValues.
func TestHalf8Round(t *testing.T) {
	if !archsimd.X86.AVX2() {
		t.Skip("no AVX2")
	}
	vals := halfTestValues()
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
