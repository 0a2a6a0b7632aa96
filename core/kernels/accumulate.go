package kernels

import (
	"encoding/binary"
	"math"
)

// Accumulating decoders for pooled lookups: each adds one encoded row to
// dst, fusing the decode with the sum so a row is touched once. Each equals
// decoding the row into a buffer and then adding it element by element.

// AddRowF32Generic adds a row of little-endian float32 bytes to dst:
//
//	for i := range dst { dst[i] += float32frombits(le32(src[4*i:])) }
func AddRowF32Generic(dst []float32, src []byte) {
	src = src[:4*len(dst)]
	for i := range dst {
		dst[i] += math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

// AddRowF16Generic adds a row of little-endian binary16 bytes to dst:
//
//	for i := range dst { dst[i] += HalfToFloat(le16(src[2*i:])) }
func AddRowF16Generic(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	t := halfToFloat
	for i := range dst {
		dst[i] += t[uint16(src[2*i])|uint16(src[2*i+1])<<8]
	}
}

// AddRowNBitGeneric adds a fused N-bit row to dst:
//
//	for i := range dst { dst[i] += float32(scale*float32(q[i])) + bias }
func AddRowNBitGeneric(bits int, dst []float32, src []byte) {
	scale, bias := ScaleBias(bits, len(dst), src)
	if bits == 8 {
		for i := range dst {
			dst[i] += float32(scale*float32(src[i])) + bias
		}
		return
	}
	per := 8 / bits
	mask := byte(1)<<bits - 1
	for i := range dst {
		q := (src[i/per] >> (uint(i%per) * uint(bits))) & mask
		dst[i] += float32(scale*float32(q)) + bias
	}
}

// PrefetchGeneric is Prefetch where there is no instruction for it: a hint
// may do nothing (a load instead would stall, which a prefetch is there to
// avoid).
func PrefetchGeneric([]byte) {}

// Prefetch asks for the cache lines of b without waiting for them. It
// changes no result. Compressed lookups do not use it, as it did not pay
// there (BENCHMARKS.md); core.PoolBagsF32Prefetch, the fp32 loop that is
// faster for wide rows, and BenchmarkLookupParts do.
func Prefetch(b []byte) { prefetch(b) }

func AddRowF32(dst []float32, src []byte)            { addRowF32(dst, src) }
func AddRowF16(dst []float32, src []byte)            { addRowF16(dst, src) }
func AddRowNBit(bits int, dst []float32, src []byte) { addRowNBit(bits, dst, src) }

var (
	addRowF32  = AddRowF32Generic
	addRowF16  = AddRowF16Generic
	addRowNBit = AddRowNBitGeneric
	prefetch   = PrefetchGeneric
)
