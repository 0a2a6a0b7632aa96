package formats

import (
	"encoding/binary"
	"math"

	"shark/core/kernels"
)

// EncodeFloats writes src as little-endian elements of the float dtype d,
// each rounded to the nearest value d holds (ties to even; NaNs stay NaN),
// appending to dst: float64 holds every float32 exactly, float16 and
// bfloat16 round. It reports false for a dtype that is not a float.
func EncodeFloats(dst []byte, d DType, src []float32) ([]byte, bool) {
	switch d {
	case F32:
		return EncodeFloat32(dst, src), true
	case F64:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(float64(v)))
		}
	case F16:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint16(dst, kernels.FloatToHalf(v))
		}
	case BF16:
		for _, v := range src {
			dst = binary.LittleEndian.AppendUint16(dst, FloatToBF16(v))
		}
	default:
		return dst, false
	}
	return dst, true
}

// FloatToBF16 rounds f to the nearest bfloat16 (ties to even), as
// PyTorch's float32-to-bfloat16 cast does; a NaN stays a (quiet) NaN.
func FloatToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if f != f {
		return uint16(b>>16) | 0x40
	}
	// Adding 0x7fff plus the kept part's lowest bit rounds ties to even;
	// a carry into the exponent is the right rounding, up to infinity.
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}
