package kernels

import "math"

// TierErrors is a row's reconstruction error in each lossy tier, in the
// order fp16, int8, int4: the sum of squared differences and the largest
// absolute difference; and the row's own sum of squares (for its norm).
type TierErrors struct {
	SSE, MaxAbs [3]float64
	SumSquares  float64
}

// rowErrorsGeneric measures a non-empty row in the three lossy tiers in one
// pass over it, equal bit for bit to encoding and decoding it in each and
// comparing, and sums its squares in the same eight lanes:
//
//	for k, codec := range {fp16, 8-bit rowwise, 4-bit rowwise} {
//		encode(codec, buf, row); decode(codec, back, buf)
//		e.SSE[k], e.MaxAbs[k] = sumSquaredDiffGeneric(row, back)
//	}
//	e.SumSquares, _ = sumSquaredDiffGeneric(row, zeros)
//
// The 8- and 4-bit codecs share the row's minimum and maximum, and every
// value is loaded once. It returns false, and no errors, for a row holding
// a NaN or an infinity, which no lossy tier can store.
func rowErrorsGeneric(row []float32) (TierErrors, bool) {
	mn, mx, ok := finiteMinMax(row)
	if !ok {
		return TierErrors{}, false
	}
	b8, s8, i8, q8, _, _ := rowParams(8, mn, mx)
	b4, s4, i4, q4, _, _ := rowParams(4, mn, mx)
	var l16, l8, l4, sq [8]float64
	var e TierErrors
	for i, v := range row {
		x := float64(v)
		k := i & 7 // lane i%8, without a signed modulo or a bounds check
		sq[k] += float64(x * x)
		d16 := x - float64(roundHalf(v))
		d8 := x - float64(float32(s8*float32(quantizeOne(v, b8, i8, q8)))+b8)
		d4 := x - float64(float32(s4*float32(quantizeOne(v, b4, i4, q4)))+b4)
		l16[k] += float64(d16 * d16) // the conversions forbid fused multiply-adds
		l8[k] += float64(d8 * d8)
		l4[k] += float64(d4 * d4)
		e.MaxAbs[0] = maxAbsOf(e.MaxAbs[0], d16)
		e.MaxAbs[1] = maxAbsOf(e.MaxAbs[1], d8)
		e.MaxAbs[2] = maxAbsOf(e.MaxAbs[2], d4)
	}
	for k := range 8 {
		e.SSE[0] += l16[k]
		e.SSE[1] += l8[k]
		e.SSE[2] += l4[k]
		e.SumSquares += sq[k]
	}
	return e, true
}

// maxAbsOf is sumSquaredDiffGeneric's running maximum of |d| (a NaN d
// leaves it). math.Abs clears the sign bit, with no branch: a branch on the
// sign of a difference is mispredicted half the time.
func maxAbsOf(m, d float64) float64 {
	if d = math.Abs(d); d > m {
		return d
	}
	return m
}

// roundHalf is HalfToFloat(FloatToHalf(f)): f rounded to the nearest
// binary16 value, to even. Values that round to a normal half are rounded
// in place at bit 13; the rest (zeros, subnormal halves, overflow to
// infinity) take the table.
func roundHalf(f float32) float32 {
	b := math.Float32bits(f)
	// 113<<23 is 2^-14, the least normal half; from 65520 up, values round
	// to 65536, past the largest half, and become infinite.
	if m := b & 0x7fffffff; m >= 113<<23 && m < 0x477ff000 {
		m += 0xfff + (m>>13)&1
		return math.Float32frombits(b&0x80000000 | m&^0x1fff)
	}
	return HalfToFloat(FloatToHalf(f))
}

// RowErrors measures a non-empty row in the three lossy tiers with the
// kernel in use; false for a row holding a NaN or an infinity.
func RowErrors(row []float32) (TierErrors, bool) { return rowErrors(row) }

var rowErrors = rowErrorsGeneric

// rowNormGeneric is a row's sum of squares as rowErrorsGeneric sums it, and
// false for a row holding a NaN or an infinity: a row's priority when only
// its norm is wanted.
func rowNormGeneric(row []float32) (float64, bool) {
	var sq [8]float64
	for i, v := range row {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return 0, false
		}
		x := float64(v)
		sq[i&7] += float64(x * x)
	}
	s := 0.0
	for _, l := range sq {
		s += l
	}
	return s, true
}

// tierErrorGeneric is rowErrorsGeneric's error of one lossy tier alone
// (k: 0 fp16, 1 int8, 2 int4, 3 int2: the codec of 8>>(k-1) bits) for a
// finite, non-empty row: what a writer that knows a row's tier measures of
// it. For k = 3 it is the 2-bit codec's encode, decode and compare:
//
//	quantizeRowGeneric(2, buf, row); dequantizeRowGeneric(2, back, buf)
//	sse, maxAbs = sumSquaredDiffGeneric(row, back)
func tierErrorGeneric(k int, row []float32) (sse, maxAbs float64) {
	var l [8]float64
	// A loop per tier, each with its decoding in line (a function value
	// called per value cost a third of the time).
	if k == 0 {
		for i, v := range row {
			d := float64(v) - float64(roundHalf(v))
			l[i&7] += float64(d * d)
			maxAbs = maxAbsOf(maxAbs, d)
		}
	} else {
		bits := 8 >> (k - 1)
		mn, mx := rowMinMax(row)
		b, s, inv, q, _, _ := rowParams(bits, mn, mx)
		for i, v := range row {
			d := float64(v) - float64(float32(s*float32(quantizeOne(v, b, inv, q)))+b)
			l[i&7] += float64(d * d)
			maxAbs = maxAbsOf(maxAbs, d)
		}
	}
	for _, x := range l {
		sse += x
	}
	return sse, maxAbs
}

// RowNorm is rowNormGeneric with the kernel in use.
func RowNorm(row []float32) (float64, bool) { return rowNorm(row) }

// TierError is tierErrorGeneric with the kernel in use: k is 0 fp16,
// 1 int8, 2 int4, 3 int2.
func TierError(k int, row []float32) (sse, maxAbs float64) { return tierError(k, row) }

// TierErrors4 is TierErrors with the 2-bit tier after the others: SSE and
// MaxAbs in the order fp16, int8, int4, int2 (TierError's k).
type TierErrors4 struct {
	SSE, MaxAbs [4]float64
	SumSquares  float64
}

// RowErrors4 measures a non-empty row in the four lossy tiers with the
// kernels in use: RowErrors, and TierError(3, row) for the 2-bit tier, bit
// for bit; false for a row holding a NaN or an infinity. (A separate type,
// so RowErrors's callers keep their three tiers.)
func RowErrors4(row []float32) (TierErrors4, bool) { return rowErrors4(row) }

var rowErrors4 = rowErrors4Generic

// rowErrors4Generic is rowErrorsGeneric with the 2-bit tier in the same
// pass (its code and decoded value as tierErrorGeneric's), so equal to
// rowErrors4Composed bit for bit: a fourth tier costs the portable loop
// a third more, where a second pass cost it half again.
func rowErrors4Generic(row []float32) (TierErrors4, bool) {
	mn, mx, ok := finiteMinMax(row)
	if !ok {
		return TierErrors4{}, false
	}
	b8, s8, i8, q8, _, _ := rowParams(8, mn, mx)
	b4, s4, i4, q4, _, _ := rowParams(4, mn, mx)
	b2, s2, i2, q2, _, _ := rowParams(2, mn, mx)
	var l16, l8, l4, l2, sq [8]float64
	var e TierErrors4
	for i, v := range row {
		x := float64(v)
		k := i & 7
		sq[k] += float64(x * x)
		d16 := x - float64(roundHalf(v))
		d8 := x - float64(float32(s8*float32(quantizeOne(v, b8, i8, q8)))+b8)
		d4 := x - float64(float32(s4*float32(quantizeOne(v, b4, i4, q4)))+b4)
		d2 := x - float64(float32(s2*float32(quantizeOne(v, b2, i2, q2)))+b2)
		l16[k] += float64(d16 * d16)
		l8[k] += float64(d8 * d8)
		l4[k] += float64(d4 * d4)
		l2[k] += float64(d2 * d2)
		e.MaxAbs[0] = maxAbsOf(e.MaxAbs[0], d16)
		e.MaxAbs[1] = maxAbsOf(e.MaxAbs[1], d8)
		e.MaxAbs[2] = maxAbsOf(e.MaxAbs[2], d4)
		e.MaxAbs[3] = maxAbsOf(e.MaxAbs[3], d2)
	}
	for k := range 8 {
		e.SSE[0] += l16[k]
		e.SSE[1] += l8[k]
		e.SSE[2] += l4[k]
		e.SSE[3] += l2[k]
		e.SumSquares += sq[k]
	}
	return e, true
}

var (
	rowNorm   = rowNormGeneric
	tierError = tierErrorGeneric
)

// finiteMinMax is rowMinMax of a non-empty row and true, or false if the
// row holds a NaN or an infinity:
//
//	for _, v := range row {
//		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
//			return 0, 0, false
//		}
//	}
//	mn, mx := rowMinMax(row)
//	return mn, mx, true
//
// It compares the values' bits as integers ordered as the floats are (-0
// below +0, which rowMinMax's zero rule then overrides), four lanes at a
// time, so each step is a conditional move rather than a float min's NaN
// handling, and it tests every exponent in the same walk.
func finiteMinMax(row []float32) (mn, mx float32, ok bool) {
	l0 := orderedBits(row[0])
	l1, l2, l3, h0, h1, h2, h3 := l0, l0, l0, l0, l0, l0, l0
	var exp uint32 // bit 31 set once some value's exponent is all ones
	i := 0
	for ; i+4 <= len(row); i += 4 {
		s := row[i : i+4 : i+4]
		b0, b1, b2, b3 := math.Float32bits(s[0]), math.Float32bits(s[1]), math.Float32bits(s[2]), math.Float32bits(s[3])
		exp |= (b0&0x7f800000 + 0x00800000) | (b1&0x7f800000 + 0x00800000) | (b2&0x7f800000 + 0x00800000) | (b3&0x7f800000 + 0x00800000)
		o0, o1, o2, o3 := ordered(b0), ordered(b1), ordered(b2), ordered(b3)
		l0, l1, l2, l3 = min(l0, o0), min(l1, o1), min(l2, o2), min(l3, o3)
		h0, h1, h2, h3 = max(h0, o0), max(h1, o1), max(h2, o2), max(h3, o3)
	}
	for ; i < len(row); i++ {
		b := math.Float32bits(row[i])
		exp |= b&0x7f800000 + 0x00800000
		l0, h0 = min(l0, ordered(b)), max(h0, ordered(b))
	}
	if exp&0x80000000 != 0 {
		return 0, 0, false
	}
	mn = fromOrdered(min(min(l0, l1), min(l2, l3)))
	mx = fromOrdered(max(max(h0, h1), max(h2, h3)))
	if mn == 0 {
		mn = firstZero(row)
	}
	if mx == 0 {
		mx = firstZero(row)
	}
	return mn, mx, true
}

// ordered maps a float32's bits to an int32 that orders as the floats do
// (NaNs aside): negative floats' magnitude bits are flipped.
func ordered(b uint32) int32 { return int32(b) ^ (int32(b)>>31)&0x7fffffff }

func orderedBits(v float32) int32 { return ordered(math.Float32bits(v)) }

// fromOrdered is orderedBits's inverse.
func fromOrdered(o int32) float32 {
	return math.Float32frombits(uint32(o ^ (o>>31)&0x7fffffff))
}
