package kernels

import (
	"encoding/binary"
	"math"
)

// Accumulating decoders for pooled lookups: each adds one encoded row to
// dst, fusing the decode with the sum so a row is touched once. Each equals
// decoding the row into a buffer and then adding it element by element.

// addRowF32Generic adds a row of little-endian float32 bytes to dst:
//
//	for i := range dst { dst[i] += float32frombits(le32(src[4*i:])) }
func addRowF32Generic(dst []float32, src []byte) {
	src = src[:4*len(dst)]
	for i := range dst {
		dst[i] += math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

// addRowF16Generic adds a row of little-endian binary16 bytes to dst:
//
//	for i := range dst { dst[i] += HalfToFloat(le16(src[2*i:])) }
func addRowF16Generic(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	t := halfToFloat
	for i := range dst {
		dst[i] += t[uint16(src[2*i])|uint16(src[2*i+1])<<8]
	}
}

// addRowNBitGeneric adds a fused N-bit row to dst:
//
//	for i := range dst { dst[i] += float32(scale*float32(q[i])) + bias }
func addRowNBitGeneric(bits int, dst []float32, src []byte) {
	scale, bias := ScaleBias(bits, len(dst), src)
	// 8 and 4 bits without the division by a variable code count a byte.
	switch bits {
	case 8:
		for i, q := range src[:len(dst)] {
			dst[i] += float32(scale*float32(q)) + bias
		}
		return
	case 4:
		even := dst[:len(dst)&^1]
		for i := 0; i+1 < len(even); i += 2 {
			b := src[i>>1]
			even[i] += float32(scale*float32(b&15)) + bias
			even[i+1] += float32(scale*float32(b>>4)) + bias
		}
		if n := len(dst); n%2 == 1 {
			dst[n-1] += float32(scale*float32(src[n/2]&15)) + bias
		}
		return
	case 2:
		// The four decoded values, bit for bit (dequantizeRowGeneric).
		lut := [4]float32{float32(scale*0) + bias, float32(scale*1) + bias, float32(scale*2) + bias, float32(scale*3) + bias}
		whole := dst[:len(dst)&^3]
		for i := 0; i+3 < len(whole); i += 4 {
			b := src[i>>2]
			whole[i] += lut[b&3]
			whole[i+1] += lut[b>>2&3]
			whole[i+2] += lut[b>>4&3]
			whole[i+3] += lut[b>>6]
		}
		for i := len(whole); i < len(dst); i++ {
			dst[i] += lut[src[i>>2]>>(2*(i&3))&3]
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

// AddRowNBitTorch adds a fused 4- or 2-bit row to dst in the order of
// roundings of PyTorch's embedding_bag_4bit_rowwise_offsets and
// embedding_bag_2bit_rowwise_offsets (sum mode, no weights):
//
//	for i := range dst { dst[i] = (dst[i] + bias) + scale*q[i] }
//
// PyTorch computes fma(scale, q, dst + bias); scale*q is exact (an fp16
// scale times a code below 16), so the fused multiply-add is these two
// rounded sums. Pooling a bag with it from zeros gives the operator's
// output bit for bit; AddRowNBit (decode the row, then add it) can differ
// from it in the last bit of a sum of several rows.
func AddRowNBitTorch(bits int, dst []float32, src []byte) {
	scale, bias := ScaleBias(bits, len(dst), src)
	per := 8 / bits
	mask := byte(1)<<bits - 1
	var sq [16]float32 // scale*q for each code, as the loop would compute it
	for q := range int(mask) + 1 {
		sq[q] = float32(scale * float32(q))
	}
	for i := range dst {
		dst[i] = float32(dst[i]+bias) + sq[(src[i/per]>>(uint(i%per)*uint(bits)))&mask]
	}
}

// prefetchGeneric is Prefetch where there is no instruction for it: a hint
// may do nothing (a load instead would stall, which a prefetch is there to
// avoid).
func prefetchGeneric([]byte) {}

// Prefetch asks for the cache lines of b without waiting for them. It
// changes no result. sharkfile.PoolBagsF32Prefetch, the fp32 loop for wide
// rows, and BenchmarkLookupParts use it.
func Prefetch(b []byte) { prefetch(b) }

// Prefetches reports whether Prefetch asks the memory for anything in the
// kernel set in use. Where it does nothing (the portable set), a loop that
// must overlap its cache misses has to load instead.
func Prefetches() bool { return prefetching }

func AddRowF32(dst []float32, src []byte)            { addRowF32(dst, src) }
func AddRowF16(dst []float32, src []byte)            { addRowF16(dst, src) }
func AddRowNBit(bits int, dst []float32, src []byte) { addRowNBit(bits, dst, src) }

var (
	addRowF32  = addRowF32Generic
	addRowF16  = addRowF16Generic
	addRowNBit = addRowNBitGeneric
	prefetch   = prefetchGeneric
	// prefetching is set where prefetch is an instruction (Prefetches).
	prefetching = false
)
