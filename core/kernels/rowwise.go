package kernels

import "math"

// RowBytes is the size of one row of dim values encoded with FBGEMM's fused
// N-bit rowwise codec: ceil(dim*bits/8) code bytes followed by an fp16 scale
// and an fp16 bias, both little-endian, at the END of the row.
func RowBytes(bits, dim int) int {
	per := 8 / bits
	return (dim+per-1)/per + 4
}

// quantizeRowGeneric encodes src with the fused N-bit rowwise codec
// (bits = 8, 4 or 2) into dst[:RowBytes(bits, len(src))], producing
// the same bytes as FBGEMM's FloatToFusedNBitRowwiseQuantizedSBHalf reference
// (and, for 4 and 2 bits, PyTorch's embedding_bag_4bit_prepack and
// embedding_bag_2bit_prepack, FBGEMM's or their own fallback loop):
//
//	bias  = fp16(min(src))             // min is then taken as float32(bias)
//	scale = fp16((max - bias) / (2^bits - 1)), or 1 if the range is 0,
//	        or 1 if the rounded scale is 0 or its inverse overflows
//	q[i]  = clamp(rint((src[i] - bias) * (1/scale)), 0, 2^bits - 1)
//	codes packed from the low bits up (low nibble first; 2-bit codes at
//	bits 0-1, 2-3, 4-5, 6-7), the last byte's unused slots zero,
//	then scale, then bias.
//
// src must be finite (callers keep non-finite rows at fp32).
func quantizeRowGeneric(bits int, dst []byte, src []float32) {
	n := len(src)
	per := 8 / bits
	nb := (n + per - 1) / per
	dst = dst[:nb+4]
	if n == 0 {
		putScaleBias(dst[nb:], FloatToHalf(1), 0)
		return
	}
	mn, mx, ok := finiteMinMax(src) // its integer steps cost half rowMinMax's
	if !ok {
		mn, mx = rowMinMax(src)
	}
	mn, _, inv, maxq, hs, hb := rowParams(bits, mn, mx)
	putScaleBias(dst[nb:], hs, hb)
	if (bits == 8 || bits == 4) && math.Float32bits(mn)&0x7f800000 != 0x7f800000 {
		codesFinite(bits, dst[:nb], src, mn, inv, maxq)
		return
	}
	switch bits {
	case 8:
		for i, v := range src {
			dst[i] = byte(quantizeOne(v, mn, inv, maxq))
		}
	case 4:
		for i := 0; i+1 < n; i += 2 {
			dst[i/2] = byte(quantizeOne(src[i], mn, inv, maxq)) | byte(quantizeOne(src[i+1], mn, inv, maxq))<<4
		}
		if n%2 == 1 {
			dst[n/2] = byte(quantizeOne(src[n-1], mn, inv, maxq))
		}
	case 2:
		for i := 0; i+3 < n; i += 4 {
			dst[i/4] = byte(quantizeOne(src[i], mn, inv, maxq)) | byte(quantizeOne(src[i+1], mn, inv, maxq))<<2 |
				byte(quantizeOne(src[i+2], mn, inv, maxq))<<4 | byte(quantizeOne(src[i+3], mn, inv, maxq))<<6
		}
		if r := n % 4; r != 0 {
			// The last byte's unused code slots stay zero, as FBGEMM's and
			// PyTorch's reference loops leave them.
			var b byte
			for j, v := range src[n-r:] {
				b |= byte(quantizeOne(v, mn, inv, maxq)) << (2 * j)
			}
			dst[n/4] = b
		}
	default:
		clear(dst[:nb])
		for i, v := range src {
			dst[i/per] |= byte(quantizeOne(v, mn, inv, maxq)) << (uint(i%per) * uint(bits))
		}
	}
}

// codesFinite writes the 8- or 4-bit codes of src with a finite bias
// (codeFinite's codes) into dst, as quantizeRowGeneric packs them.
func codesFinite(bits int, dst []byte, src []float32, bias, inv float32, maxq int32) {
	if bits == 8 {
		dst = dst[:len(src)]
		for i, v := range src {
			dst[i] = byte(codeFinite(v, bias, inv, maxq))
		}
		return
	}
	dst = dst[:(len(src)+1)/2]
	s := src
	for i := 0; len(s) >= 2; i, s = i+1, s[2:] {
		dst[i] = byte(codeFinite(s[0], bias, inv, maxq)) | byte(codeFinite(s[1], bias, inv, maxq))<<4
	}
	if len(s) == 1 {
		dst[len(dst)-1] = byte(codeFinite(s[0], bias, inv, maxq))
	}
}

// codeFinite is quantizeOne(v, bias, inv, maxq) for a finite v and bias,
// without a branch: rounded, then clamped as integers (conditional moves).
// Rounding first gives quantizeOne's code, as below 0 and at or past maxq
// it moves no value across either bound. With a finite bias (at most
// 2^16) and inverse scale (at most 2^24, or 0 for an infinite scale),
// |(v-bias)*inv| is below 2^29, so the conversion is exact on every
// platform.
func codeFinite(v, bias, inv float32, maxq int32) int32 {
	x := float32(float32(v-bias) * inv)
	return min(max(int32(float32(float32(x+0x1p23)-0x1p23)), 0), maxq)
}

// rowMinMax returns the minimum and maximum of a finite, non-empty row,
// equal to those of the plain scan
//
//	mn, mx := src[0], src[0]
//	for _, v := range src[1:] {
//		if v < mn { mn = v }
//		if v > mx { mx = v }
//	}
//
// in four lanes with the min and max built-ins, which compile to no branch:
// the scan's compares are mispredicted at every new minimum or maximum. A
// zero result
// is the row's first zero, as the scan keeps it.
func rowMinMax(src []float32) (mn, mx float32) {
	mn, mx = src[0], src[0]
	tail := src[1:]
	if len(src) >= 8 {
		m0, m1, m2, m3 := src[0], src[1], src[2], src[3]
		x0, x1, x2, x3 := m0, m1, m2, m3
		i := 4
		for ; i+4 <= len(src); i += 4 {
			s := src[i : i+4 : i+4]
			m0, m1, m2, m3 = min(m0, s[0]), min(m1, s[1]), min(m2, s[2]), min(m3, s[3])
			x0, x1, x2, x3 = max(x0, s[0]), max(x1, s[1]), max(x2, s[2]), max(x3, s[3])
		}
		mn, mx = min(min(m0, m1), min(m2, m3)), max(max(x0, x1), max(x2, x3))
		tail = src[i:]
	}
	for _, v := range tail {
		if v < mn {
			mn = v
		}
		if v > mx {
			mx = v
		}
	}
	if mn == 0 {
		mn = firstZero(src)
	}
	if mx == 0 {
		mx = firstZero(src)
	}
	return mn, mx
}

// firstZero is the zero (+0 or -0) that quantizeRowGeneric's scan keeps as
// the minimum of a row whose minimum is zero: the first one, as its strict
// comparison never swaps one zero for the other. Kernels that take the
// minimum lane by lane must use it, or the bias's sign bit depends on the
// lanes.
func firstZero(src []float32) float32 {
	for _, v := range src {
		if v == 0 {
			return v
		}
	}
	return 0
}

// quantizeOne is clamp(rint((v - bias) * inv), 0, maxq), rounding half to
// even: in [0, maxq) adding and subtracting 2^23 in float32 rounds exactly
// that way, without a call to math.RoundToEven. float32() around each step
// forbids fused multiply-add, which FBGEMM's reference does not use.
func quantizeOne(v, bias, inv float32, maxq int32) int32 {
	x := float32(float32(v-bias) * inv)
	switch {
	case !(x > 0): // also NaN
		return 0
	case x >= float32(maxq):
		return maxq
	}
	return int32(float32(float32(x+0x1p23) - 0x1p23))
}

// rowParams computes FBGEMM's row parameters from the row's min and max:
// the bias (min rounded to fp16, as float32), the scale (rounded to fp16,
// 1 where FBGEMM substitutes it), its inverse, and the largest code; and
// the binary16 bits of scale and bias, for the row's tail.
func rowParams(bits int, mn, mx float32) (bias, scale, inv float32, maxq int32, hs, hb uint16) {
	// Rounding to binary16 is written out here for normal halves (the usual
	// case), in place at bit 13 to nearest even, as a call costs as much as
	// the rest of the parameters.
	if m := math.Float32bits(mn) & 0x7fffffff; m >= 113<<23 && m < 143<<23 {
		m += 0xfff + (m>>13)&1
		bias = math.Float32frombits(math.Float32bits(mn)&0x80000000 | m&^0x1fff)
	} else {
		bias = roundHalfSlow(mn)
	}
	rng := mx - bias
	maxq = int32(1)<<bits - 1
	scale = 1
	if rng != 0 {
		scale = rng / float32(maxq)
	}
	if m := math.Float32bits(scale) & 0x7fffffff; m >= 113<<23 && m < 143<<23 {
		m += 0xfff + (m>>13)&1
		scale = math.Float32frombits(math.Float32bits(scale)&0x80000000 | m&^0x1fff)
	} else {
		scale = roundHalfSlow(scale)
	}
	if scale == 0 {
		scale = 1
	}
	inv = 1 / scale
	if math.Float32bits(inv)&0x7fffffff == 0x7f800000 { // ±Inf
		scale, inv = 1, 1
	}
	hs, hb = halfBitsFast(scale), halfBitsFast(bias)
	if hs == 0 {
		hs = FloatToHalf(scale)
	}
	if hb == 0 && math.Float32bits(bias) != 0 {
		hb = FloatToHalf(bias)
	}
	return bias, scale, inv, maxq, hs, hb
}

// halfBitsFast is halfBits for a normal half, and 0 otherwise.
func halfBitsFast(f float32) uint16 {
	b := math.Float32bits(f)
	if m := b & 0x7fffffff; m >= 113<<23 && m < 143<<23 {
		return uint16(b>>16)&0x8000 | uint16((m>>13)-(112<<10))
	}
	return 0
}

// roundHalfSlow rounds f to the nearest binary16 value, as a float32, for
// the values rowParams's inlined path (normal halves) does not take.
func roundHalfSlow(f float32) float32 { return HalfToFloat(FloatToHalf(f)) }

// halfArith is HalfToFloat without the table for normal values: per row
// of a lookup, two loads from a 256 KiB table cost more than the bits.
func halfArith(h uint16) float32 {
	if e := h >> 10 & 0x1f; e != 0 && e != 0x1f {
		return math.Float32frombits(uint32(h&0x8000)<<16 | (uint32(e)+112)<<23 | uint32(h&0x3ff)<<13)
	}
	return halfToFloat[h]
}

func putScaleBias(b []byte, scale, bias uint16) {
	b[0], b[1] = byte(scale), byte(scale>>8)
	b[2], b[3] = byte(bias), byte(bias>>8)
}

// ScaleBias returns the float32 scale and bias stored at the end of an
// encoded row of dim values.
func ScaleBias(bits, dim int, row []byte) (scale, bias float32) {
	nb := RowBytes(bits, dim) - 4
	s := uint16(row[nb]) | uint16(row[nb+1])<<8
	b := uint16(row[nb+2]) | uint16(row[nb+3])<<8
	return halfArith(s), halfArith(b)
}

// dequantizeRowGeneric decodes one fused N-bit row into dst (len(dst) values).
// It must equal FBGEMM's reference:
//
//	for i := range dst { dst[i] = scale*float32(q[i]) + bias }
func dequantizeRowGeneric(bits int, dst []float32, src []byte) {
	scale, bias := ScaleBias(bits, len(dst), src)
	// 8 and 4 bits without the division by a variable code count a byte.
	switch bits {
	case 8:
		for i, q := range src[:len(dst)] {
			dst[i] = float32(scale*float32(q)) + bias
		}
		return
	case 4:
		even := dst[:len(dst)&^1]
		for i := 0; i+1 < len(even); i += 2 {
			b := src[i>>1]
			even[i] = float32(scale*float32(b&15)) + bias
			even[i+1] = float32(scale*float32(b>>4)) + bias
		}
		if n := len(dst); n%2 == 1 {
			dst[n-1] = float32(scale*float32(src[n/2]&15)) + bias
		}
		return
	case 2:
		// Each code decodes to one of four values, each computed as the
		// loop below computes it (scale*0 too: it is NaN for an infinite
		// scale, and +0 + -0 is +0), so bit for bit the same.
		lut := [4]float32{float32(scale*0) + bias, float32(scale*1) + bias, float32(scale*2) + bias, float32(scale*3) + bias}
		whole := dst[:len(dst)&^3]
		for i := 0; i+3 < len(whole); i += 4 {
			b := src[i>>2]
			whole[i], whole[i+1], whole[i+2], whole[i+3] = lut[b&3], lut[b>>2&3], lut[b>>4&3], lut[b>>6]
		}
		for i := len(whole); i < len(dst); i++ {
			dst[i] = lut[src[i>>2]>>(2*(i&3))&3]
		}
		return
	}
	per := 8 / bits
	mask := byte(1)<<bits - 1
	for i := range dst {
		q := (src[i/per] >> (uint(i%per) * uint(bits))) & mask
		dst[i] = float32(scale*float32(q)) + bias
	}
}

// QuantizeRow and DequantizeRow dispatch to the fastest kernel available.
func QuantizeRow(bits int, dst []byte, src []float32)   { quantizeRow(bits, dst, src) }
func DequantizeRow(bits int, dst []float32, src []byte) { dequantizeRow(bits, dst, src) }

var (
	quantizeRow   = quantizeRowGeneric
	dequantizeRow = dequantizeRowGeneric
)

// quantizeRowsGeneric encodes the rows of src (rows of dim values) named by
// idx, in that order, into consecutive encoded rows of dst:
//
//	rb := RowBytes(bits, dim)
//	for i, r := range idx {
//		quantizeRowGeneric(bits, dst[i*rb:(i+1)*rb], src[r*dim:(r+1)*dim])
//	}
//
// It is the writer's unit of work: the rows of one tier within a window of
// the source. Taking many rows at once lets a kernel compute the rows' scale
// and bias side by side.
func quantizeRowsGeneric(bits, dim int, dst []byte, src []float32, idx []int) {
	rb := RowBytes(bits, dim)
	for i, r := range idx {
		quantizeRowGeneric(bits, dst[i*rb:(i+1)*rb], src[r*dim:(r+1)*dim])
	}
}

// RowQuantizer encodes rows of one N-bit tier handed to it one at a time,
// as quantizeRowGeneric would; a kernel may hold rows back to encode many
// at once, so a row's bytes are written by the time Flush returns, and dst
// and src must not change until then. A RowQuantizer is for one goroutine.
type RowQuantizer interface {
	Add(dst []byte, src []float32)
	Flush()
}

// NewRowQuantizer returns the fastest RowQuantizer available for rows of
// dim values in bits (8, 4 or 2).
func NewRowQuantizer(bits, dim int) RowQuantizer { return newRowQuantizer(bits, dim) }

var newRowQuantizer = newRowQuantizerGeneric

func newRowQuantizerGeneric(bits, _ int) RowQuantizer { return rowKernel{bits, quantizeRowGeneric} }

// rowKernel is a RowQuantizer that encodes each row as it comes.
type rowKernel struct {
	bits int
	f    func(bits int, dst []byte, src []float32)
}

func (k rowKernel) Add(dst []byte, src []float32) { k.f(k.bits, dst, src) }
func (k rowKernel) Flush()                        {}

// QuantizeRows is quantizeRowsGeneric through the fastest RowQuantizer
// available.
func QuantizeRows(bits, dim int, dst []byte, src []float32, idx []int) {
	rb := RowBytes(bits, dim)
	q := newRowQuantizer(bits, dim)
	for i, r := range idx {
		q.Add(dst[i*rb:(i+1)*rb], src[r*dim:(r+1)*dim])
	}
	q.Flush()
}
