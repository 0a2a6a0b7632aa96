//go:build goexperiment.simd && amd64 && !purego

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// archsimd has no float16 type, so the F16C conversions are a few lines of
// assembly; the CPUID check is there too, as archsimd reports no F16C flag.

//go:noescape
func floatsToHalvesAsm(dst *uint16, src *float32, n int)

//go:noescape
func halvesToFloatsAsm(dst *float32, src *uint16, n int)

//go:noescape
func addHalvesAsm(dst *float32, src *byte, n int)

func cpuidF16C() bool

func hasF16C() bool { return archsimd.X86.AVX() && cpuidF16C() }

// floatsToHalvesF16C equals floatsToHalvesGeneric (VCVTPS2PH rounds to
// nearest even and quiets NaNs the same way).
func floatsToHalvesF16C(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	n := len(src) &^ 7
	if n > 0 {
		floatsToHalvesAsm(&dst[0], &src[0], n)
	}
	for i := n; i < len(src); i++ {
		dst[i] = FloatToHalf(src[i])
	}
}

// halvesToFloatsF16C equals halvesToFloatsGeneric.
func halvesToFloatsF16C(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	n := len(src) &^ 7
	if n > 0 {
		halvesToFloatsAsm(&dst[0], &src[0], n)
	}
	for i := n; i < len(src); i++ {
		dst[i] = HalfToFloat(src[i])
	}
}

// halfBytesToFloatsF16C equals halfBytesToFloatsGeneric (amd64 is
// little-endian, so the bytes are the halves in memory order).
func halfBytesToFloatsF16C(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	n := len(dst) &^ 7
	if n > 0 {
		halvesToFloatsAsm(&dst[0], (*uint16)(unsafe.Pointer(&src[0])), n)
	}
	for i := n; i < len(dst); i++ {
		dst[i] = HalfToFloat(uint16(src[2*i]) | uint16(src[2*i+1])<<8)
	}
}

// addRowF16F16C equals addRowF16Generic.
func addRowF16F16C(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	n := len(dst) &^ 7
	if n > 0 {
		addHalvesAsm(&dst[0], &src[0], n)
	}
	for i := n; i < len(dst); i++ {
		dst[i] += HalfToFloat(uint16(src[2*i]) | uint16(src[2*i+1])<<8)
	}
}

// floatsToHalfBytesF16C equals floatsToHalfBytesGeneric.
func floatsToHalfBytesF16C(dst []byte, src []float32) {
	dst = dst[:2*len(src)]
	n := len(src) &^ 7
	if n > 0 {
		floatsToHalvesAsm((*uint16)(unsafe.Pointer(&dst[0])), &src[0], n)
	}
	for i := n; i < len(src); i++ {
		h := FloatToHalf(src[i])
		dst[2*i], dst[2*i+1] = byte(h), byte(h>>8)
	}
}

// Go has no prefetch instruction outside its runtime, so the hint is a few
// lines of assembly too.
//
//go:noescape
func prefetchAsm(p *byte, n int)

func prefetchSSE(b []byte) {
	if len(b) > 0 {
		prefetchAsm(&b[0], len(b))
	}
}
