//go:build goexperiment.simd && amd64 && !purego

package kernels

import (
	"reflect"
	"testing"
)

// checkKernels fails unless the kernels in use are those of set s: every
// dispatch point against the function that set installs.
func checkKernels(t *testing.T, s string) {
	t.Helper()
	type point struct {
		name     string
		got      any
		portable any
		avx2     any
		avx512   any
	}
	points := []point{
		{"rowErrors", rowErrors, rowErrorsGeneric, rowErrorsAVX2, rowErrorsAVX512},
		{"rowNorm", rowNorm, rowNormGeneric, rowNormAVX2, rowNormAVX512},
		{"tierError", tierError, tierErrorGeneric, tierErrorAVX2, tierErrorAVX512},
		{"rowErrors4", rowErrors4, rowErrors4Generic, rowErrors4Composed, rowErrors4Composed},
		{"rowsErrorsKernel", rowsErrorsKernel, rowsErrorsLoop, rowsErrorsAVX2, rowsErrorsAVX2},
		{"quantizeRow", quantizeRow, quantizeRowGeneric, quantizeRowAVX2, quantizeRowAVX512},
		{"dequantizeRow", dequantizeRow, dequantizeRowGeneric, dequantizeRowAVX2, dequantizeRowAVX512},
		{"addRowNBit", addRowNBit, addRowNBitGeneric, addRowNBitAVX2, addRowNBitAVX512},
		{"sumSquaredDiff", sumSquaredDiff, sumSquaredDiffGeneric, sumSquaredDiffAVX2, sumSquaredDiffAVX512},
		{"newRowQuantizer", newRowQuantizer, newRowQuantizerGeneric, newRowQuantizerAVX2, newRowQuantizerAVX512},
		{"dot", dot, dotGeneric, dotAVX2, dotAVX2},
		{"axpy", axpy, axpyGeneric, axpyAVX2, axpyAVX2},
		{"addRowF32", addRowF32, addRowF32Generic, addRowF32AVX2, addRowF32AVX2},
		{"prefetch", prefetch, prefetchGeneric, prefetchSSE, prefetchSSE},
		{"quantizeRowError", quantizeRowError, quantizeRowErrorGeneric, quantizeRowErrorAVX2, quantizeRowErrorAVX2},
	}
	if hasF16C() {
		points = append(points,
			point{"floatsToHalves", floatsToHalves, floatsToHalvesGeneric, floatsToHalvesF16C, floatsToHalvesF16C},
			point{"addRowF16", addRowF16, addRowF16Generic, addRowF16F16C, addRowF16F16C})
	}
	for _, p := range points {
		want := map[string]any{SetPortable: p.portable, SetAVX2: p.avx2, SetAVX512: p.avx512}[s]
		if reflect.ValueOf(p.got).Pointer() != reflect.ValueOf(want).Pointer() {
			t.Errorf("set %s: %s is not that set's kernel", s, p.name)
		}
	}
	if Prefetches() != (s != SetPortable) {
		t.Errorf("set %s: Prefetches() = %v with prefetch %v", s, Prefetches(), s != SetPortable)
	}
}
