package kernels

import "math"

// QuantizeRowError quantizes src into dst as QuantizeRow(bits, dst, src)
// does (bits 8 or 4) and returns TierError(k, src) of that tier (k is 1
// for 8 bits, 2 for 4): the error of the row as written, for a finite row
// (the only kind a lossy tier takes: the codes and error of a row holding
// a NaN or an infinity depend on the kernel set). A writer that records
// each row's error then walks the row once where the kernel set has a
// kernel for both (AVX2, which the avx512 set uses too): the row's
// minimum, maximum and parameters found once, each code computed once for
// the byte and for the error.
func QuantizeRowError(bits int, dst []byte, src []float32) (sse, maxAbs float64) {
	return quantizeRowError(bits, dst, src)
}

var quantizeRowError = quantizeRowErrorGeneric

// quantizeRowErrorGeneric is quantizeRowErrorComposed with the portable
// kernels (quantizeRowGeneric, then tierErrorGeneric), the row's minimum,
// maximum and parameters found once; rows those kernels take another way
// (empty, not finite, a bias past binary16) are left to them.
func quantizeRowErrorGeneric(bits int, dst []byte, src []float32) (float64, float64) {
	mn, mx, ok := finiteMinMax(src)
	if len(src) == 0 || !ok || (bits != 8 && bits != 4) {
		quantizeRowGeneric(bits, dst, src)
		return tierErrorGeneric(tierOfBits(bits), src)
	}
	n := len(src)
	per := 8 / bits
	nb := (n + per - 1) / per
	dst = dst[:nb+4]
	b, s, inv, q, hs, hb := rowParams(bits, mn, mx)
	if math.Float32bits(b)&0x7f800000 == 0x7f800000 {
		quantizeRowGeneric(bits, dst, src)
		return tierErrorGeneric(tierOfBits(bits), src)
	}
	putScaleBias(dst[nb:], hs, hb)
	codesFinite(bits, dst[:nb], src, b, inv, q)
	return codecLaneErrors(src, b, s, inv, q)
}

// tierOfBits is TierError's k of the rowwise codec of bits 8 or 4.
func tierOfBits(bits int) int {
	if bits == 8 {
		return 1
	}
	return 2
}
