package core

import (
	"encoding/binary"
	"math"

	"shark/core/kernels"
)

// EncodeRow writes src in tier t to dst[:t.RowBytes(len(src))].
func EncodeRow(t Tier, dst []byte, src []float32) {
	switch t {
	case FP32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
	case FP16:
		kernels.FloatsToHalfBytes(dst, src)
	case INT8:
		kernels.QuantizeRow(8, dst, src)
	case INT4:
		kernels.QuantizeRow(4, dst, src)
	case INT2:
		kernels.QuantizeRow(2, dst, src)
	}
}

// EncodeRows writes the rows of src (rows of dim values) named by idx, in
// that order, into consecutive rows of tier t in dst; the same bytes as
//
//	for i, r := range idx {
//		EncodeRow(t, dst[i*rb:(i+1)*rb], src[r*dim:(r+1)*dim])
//	}
//
// with rb = t.RowBytes(dim). The quantized tiers take their rows many at a
// time (kernels.QuantizeRows).
func EncodeRows(t Tier, dst []byte, src []float32, dim int, idx []int) {
	switch t {
	case INT8:
		kernels.QuantizeRows(8, dim, dst, src, idx)
	case INT4:
		kernels.QuantizeRows(4, dim, dst, src, idx)
	case INT2:
		kernels.QuantizeRows(2, dim, dst, src, idx)
	default:
		rb := t.RowBytes(dim)
		for i, r := range idx {
			EncodeRow(t, dst[i*rb:(i+1)*rb], src[r*dim:(r+1)*dim])
		}
	}
}

// DecodeRow reads one row of tier t from src into dst (len(dst) = dim).
func DecodeRow(t Tier, dst []float32, src []byte) {
	switch t {
	case FP32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case FP16:
		kernels.HalfBytesToFloats(dst, src)
	case INT8:
		kernels.DequantizeRow(8, dst, src)
	case INT4:
		kernels.DequantizeRow(4, dst, src)
	case INT2:
		kernels.DequantizeRow(2, dst, src)
	}
}
