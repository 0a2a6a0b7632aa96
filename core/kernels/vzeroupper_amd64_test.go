//go:build goexperiment.simd && amd64 && !purego

package kernels

import (
	"simd/archsimd"
	"testing"
)

// BenchmarkVectorToScalar is why every SIMD kernel clears the vector
// registers' upper halves before scalar float code: a 256-bit store, then
// one scalar float add, with and without VZEROUPPER between them.
func BenchmarkVectorToScalar(b *testing.B) {
	src := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	var sink float32
	for _, clear := range []bool{false, true} {
		name := map[bool]string{false: "dirty", true: "vzeroupper"}[clear]
		b.Run(name, func(b *testing.B) {
			v := archsimd.LoadFloat32x8Slice(src)
			var a [8]float32
			for b.Loop() {
				v.Store(&a)
				if clear {
					archsimd.ClearAVXUpperBits()
				}
				sink += a[1]
			}
		})
	}
	_ = sink
}
