package core

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"shark/core/kernels"
)

// Tier is the storage precision of one row.
type Tier uint8

const (
	FP32 Tier = iota
	FP16
	INT8
	INT4
	NumTiers = 4
)

var tierNames = [NumTiers]string{"fp32", "fp16", "int8", "int4"}

func (t Tier) String() string {
	if int(t) < NumTiers {
		return tierNames[t]
	}
	return fmt.Sprintf("tier(%d)", uint8(t))
}

// ParseTier accepts a tier name as printed by String.
func ParseTier(s string) (Tier, error) {
	for i, n := range tierNames {
		if strings.EqualFold(s, n) {
			return Tier(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown tier %q (want fp32, fp16, int8 or int4)", ErrInvalid, s)
}

// rowBytesAll is RowBytes of every tier, without its divisions: the
// solver's inner loop asks for all four once per row and pass.
func rowBytesAll(dim int) [NumTiers]int {
	return [NumTiers]int{FP32: 4 * dim, FP16: 2 * dim, INT8: dim + 4, INT4: (dim+1)>>1 + 4}
}

// RowBytes is the encoded size of one row of dim values in tier t.
func (t Tier) RowBytes(dim int) int {
	switch t {
	case FP32:
		return 4 * dim
	case FP16:
		return 2 * dim
	case INT8:
		return kernels.RowBytes(8, dim)
	case INT4:
		return kernels.RowBytes(4, dim)
	}
	panic("core: invalid tier") // programming error: tiers come from this package
}

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
	}
}

// RowError is the reconstruction error of one row in each tier.
type RowError struct {
	SSE    [NumTiers]float64 // sum of squared differences
	MaxAbs [NumTiers]float64
}

// MeasureRow encodes row in every tier and measures what comes back. A row
// with a NaN or an infinity can only be stored exactly: its lossy tiers get
// an infinite error so that no assignment picks them.
func MeasureRow(row []float32, scratch []byte, back []float32) RowError {
	var e RowError
	finite := true
	for _, v := range row {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 { // NaN or ±Inf
			finite = false
			break
		}
	}
	for t := FP16; t < NumTiers; t++ {
		if !finite {
			e.SSE[t], e.MaxAbs[t] = math.Inf(1), math.Inf(1)
			continue
		}
		b := scratch[:t.RowBytes(len(row))]
		EncodeRow(t, b, row)
		DecodeRow(t, back[:len(row)], b)
		e.SSE[t], e.MaxAbs[t] = kernels.SumSquaredDiff(row, back[:len(row)])
	}
	return e
}
