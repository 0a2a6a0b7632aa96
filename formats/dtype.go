package formats

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"shark/core/kernels"
)

// DType names an element type as safetensors spells it.
type DType string

const (
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	F64  DType = "F64"
	I8   DType = "I8"
	U8   DType = "U8"
	I16  DType = "I16"
	I32  DType = "I32"
	I64  DType = "I64"
	// BOOL is one byte, 0 or 1.
	BOOL DType = "BOOL"
)

// Size is the element size in bytes, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F32, I32:
		return 4
	case F16, BF16, I16:
		return 2
	case F64, I64:
		return 8
	case I8, U8, BOOL:
		return 1
	}
	return 0
}

// IsFloat reports a floating-point dtype.
func (d DType) IsFloat() bool { return d == F32 || d == F16 || d == BF16 || d == F64 }

// ShapeBytes returns the element count and byte size of a shape, or an error
// if a dimension is negative or the product overflows int64.
func ShapeBytes(shape []int64, d DType) (elems, nbytes int64, err error) {
	elems = 1
	for _, s := range shape {
		if s < 0 {
			return 0, 0, fmt.Errorf("negative dimension %d in shape %v", s, shape)
		}
		hi, lo := bits.Mul64(uint64(elems), uint64(s))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, 0, fmt.Errorf("shape %v overflows", shape)
		}
		elems = int64(lo)
	}
	sz := int64(d.Size())
	if sz == 0 {
		return 0, 0, fmt.Errorf("unknown dtype %q", d)
	}
	if elems > math.MaxInt64/sz {
		return 0, 0, fmt.Errorf("shape %v of %s overflows", shape, d)
	}
	return elems, elems * sz, nil
}

// DecodeFloat32 converts little-endian raw elements of dtype d to float32,
// appending to dst. len(raw) must be a multiple of d.Size().
func DecodeFloat32(dst []float32, d DType, raw []byte) []float32 {
	n := len(raw) / d.Size()
	// The two usual dtypes get loops of their own: a switch per element
	// cost as much as reading the file.
	switch d {
	case F32:
		dst = slices.Grow(dst, n)
		out := dst[len(dst) : len(dst)+n]
		raw = raw[:4*n]
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return dst[:len(dst)+n]
	case F16:
		dst = slices.Grow(dst, n)
		kernels.HalfBytesToFloats(dst[len(dst):len(dst)+n], raw[:2*n])
		return dst[:len(dst)+n]
	}
	for i := 0; i < n; i++ {
		var v float32
		switch d {
		case F32:
			v = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		case F16:
			v = kernels.HalfToFloat(binary.LittleEndian.Uint16(raw[2*i:]))
		case BF16:
			v = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
		case F64:
			v = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		case I8:
			v = float32(int8(raw[i]))
		case U8, BOOL:
			v = float32(raw[i])
		case I16:
			v = float32(int16(binary.LittleEndian.Uint16(raw[2*i:])))
		case I32:
			v = float32(int32(binary.LittleEndian.Uint32(raw[4*i:])))
		case I64:
			v = float32(int64(binary.LittleEndian.Uint64(raw[8*i:])))
		}
		dst = append(dst, v)
	}
	return dst
}

// DecodeFloat64 is DecodeFloat32 with float64 results (exact for counts).
func DecodeFloat64(dst []float64, d DType, raw []byte) []float64 {
	n := len(raw) / d.Size()
	for i := 0; i < n; i++ {
		var v float64
		switch d {
		case F64:
			v = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		case I32:
			v = float64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
		case I64:
			v = float64(int64(binary.LittleEndian.Uint64(raw[8*i:])))
		default:
			var one [1]float32
			v = float64(DecodeFloat32(one[:0], d, raw[i*d.Size():(i+1)*d.Size()])[0])
		}
		dst = append(dst, v)
	}
	return dst
}

// EncodeFloat32 writes src as little-endian float32 bytes.
func EncodeFloat32(dst []byte, src []float32) []byte {
	for _, v := range src {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
	}
	return dst
}
