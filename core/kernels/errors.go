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
//
// Lane k's sums (values k, k+8, ...) are taken one lane after the other,
// each in registers, and added to the totals in lane order, as
// sumSquaredDiffGeneric adds its lanes; the fp16 rounding and the codes
// are computed without a branch or a call (roundHalfFinite, decodeFinite).
func rowErrorsGeneric(row []float32) (TierErrors, bool) {
	mn, mx, ok := finiteMinMax(row)
	if !ok {
		return TierErrors{}, false
	}
	b8, s8, i8, q8, _, _ := rowParams(8, mn, mx)
	b4, s4, i4, q4, _, _ := rowParams(4, mn, mx)
	var e TierErrors
	// The largest magnitudes' bits: a non-negative float64's bits order as
	// the floats do, so the maximum is an integer one (conditional moves,
	// in integer registers, which leaves the float ones to the sums).
	var m16, m8, m4 uint64
	for k := range min(8, len(row)) {
		var l16, l8, l4, sq float64
		for j := k; j < len(row); j += 8 {
			v := row[j]
			x := float64(v)
			sq += float64(x * x)
			d16 := x - float64(roundHalfFinite(v))
			d8 := x - float64(decodeFinite(v, b8, s8, i8, q8))
			d4 := x - float64(decodeFinite(v, b4, s4, i4, q4))
			l16 += float64(d16 * d16) // the conversions forbid fused multiply-adds
			l8 += float64(d8 * d8)
			l4 += float64(d4 * d4)
			m16 = max(m16, math.Float64bits(d16)&^(1<<63))
			m8 = max(m8, math.Float64bits(d8)&^(1<<63))
			m4 = max(m4, math.Float64bits(d4)&^(1<<63))
		}
		e.SSE[0] += l16
		e.SSE[1] += l8
		e.SSE[2] += l4
		e.SumSquares += sq
	}
	// A finite row's fp16 differences are never NaN; a codec's are all NaN
	// or none (decodeFinite), and NaNs are no maximum, as maxAbsOf skips
	// them.
	if !codecFits(b8, s8) {
		m8 = 0
	}
	if !codecFits(b4, s4) {
		m4 = 0
	}
	e.MaxAbs = [3]float64{math.Float64frombits(m16), math.Float64frombits(m8), math.Float64frombits(m4)}
	return e, true
}

// codecFits reports whether a codec's bias and scale are finite, so that
// it decodes a finite row to finite values; otherwise it decodes every
// value to NaN.
func codecFits(bias, scale float32) bool {
	const exp = 0x7f800000
	return math.Float32bits(bias)&exp != exp && math.Float32bits(scale)&exp != exp
}

// decodeFinite is float32(scale*float32(quantizeOne(v, bias, inv, maxq))) +
// bias, a value of a finite row decoded with the row's parameters, its
// code codeFinite's. A codec whose
// scale or bias is infinite decodes every value to NaN either way: an
// infinite bias comes with an infinite scale of the other sign (Inf*q+bias
// and Inf*0 are NaN for every code), and a finite bias with an infinite
// scale makes x 0 (inv is 0), whose code 0 decodes to Inf*0.
func decodeFinite(v, bias, scale, inv float32, maxq int32) float32 {
	return float32(scale*float32(codeFinite(v, bias, inv, maxq))) + bias
}

// roundHalfFinite is roundHalf of a finite value, without a branch or a
// call: in place at bit 13 for a normal half, and for a smaller magnitude
// m, (m + 0.5) - 0.5, whose sum's last place is 2^-24, the spacing of the
// subnormal halves, its last bit the multiple's parity (so it rounds to
// even); from 65520 on, an infinity.
func roundHalfFinite(f float32) float32 {
	b := math.Float32bits(f)
	m := b & 0x7fffffff
	r := (m + 0xfff + (m>>13)&1) &^ 0x1fff
	small := math.Float32bits(float32(math.Float32frombits(m)+0.5) - 0.5)
	if m < 113<<23 {
		r = small
	}
	if m >= 0x477ff000 {
		r = 0x7f800000
	}
	return math.Float32frombits(b&0x80000000 | r)
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
	// Lane k's sum (values k, k+8, ...) in a register, the lanes added in
	// order; a value's exponent, all ones for a NaN or an infinity, carries
	// into bit 31 of exp when 1 is added at its lowest bit.
	var exp uint32
	s := 0.0
	for k := range min(8, len(row)) {
		l := 0.0
		for j := k; j < len(row); j += 8 {
			v := row[j]
			exp |= math.Float32bits(v)&0x7f800000 + 0x00800000
			x := float64(v)
			l += float64(x * x)
		}
		s += l
	}
	if exp&0x80000000 != 0 {
		return 0, false
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
	// Lane by lane as rowErrorsGeneric, without a branch or a call a value,
	// the largest magnitude kept as bits in an integer register.
	var m uint64
	if k == 0 {
		var exp uint32
		for lane := range min(8, len(row)) {
			l := 0.0
			for j := lane; j < len(row); j += 8 {
				v := row[j]
				exp |= math.Float32bits(v)&0x7f800000 + 0x00800000
				d := float64(v) - float64(roundHalfFinite(v))
				l += float64(d * d)
				m = max(m, math.Float64bits(d)&^(1<<63))
			}
			sse += l
		}
		if exp&0x80000000 != 0 {
			return tierErrorNonFinite(k, row)
		}
		return sse, math.Float64frombits(m)
	}
	mn, mx, ok := finiteMinMax(row)
	if !ok {
		return tierErrorNonFinite(k, row)
	}
	b, s, inv, q, _, _ := rowParams(8>>(k-1), mn, mx)
	return codecLaneErrors(row, b, s, inv, q)
}

// codecLaneErrors is tierErrorGeneric's error of a finite row in a codec
// of the given parameters: lane by lane, in registers.
func codecLaneErrors(row []float32, b, s, inv float32, q int32) (sse, maxAbs float64) {
	var m uint64
	for lane := range min(8, len(row)) {
		l := 0.0
		for j := lane; j < len(row); j += 8 {
			v := row[j]
			d := float64(v) - float64(decodeFinite(v, b, s, inv, q))
			l += float64(d * d)
			m = max(m, math.Float64bits(d)&^(1<<63))
		}
		sse += l
	}
	if !codecFits(b, s) { // every difference NaN: no maximum, as maxAbsOf skips NaNs
		m = 0
	}
	return sse, math.Float64frombits(m)
}

// tierErrorNonFinite is tierErrorGeneric of a row holding a NaN or an
// infinity, which its callers do not give it, measured as it was before
// the lanes were summed in registers: lane i%8 of each value in order, its
// codes by quantizeOne, NaN differences skipped by the maximum.
func tierErrorNonFinite(k int, row []float32) (sse, maxAbs float64) {
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
// It keeps three extremes of the values' bits, two lanes each, each step a
// compare and a conditional move rather than a float min's NaN handling:
// the largest and smallest as unsigned integers and the largest as signed.
// A negative value's bits are above every non-negative one's unsigned, and
// larger the larger its magnitude; signed, below every non-negative one's.
// So the minimum is the largest unsigned if that is negative, else the
// smallest unsigned; the maximum is the largest signed if that is not
// negative, else (every value negative) the smallest unsigned. A NaN or an
// infinity, with all exponent bits set, is the largest signed (positive)
// or unsigned (negative) and shows there. -0 sorts below +0, and
// rowMinMax's zero rule then overrides the sign.
func finiteMinMax(row []float32) (mn, mx float32, ok bool) {
	b := math.Float32bits(row[0])
	uhi0, ulo0, shi0 := b, b, int32(b)
	uhi1, ulo1, shi1 := uhi0, ulo0, shi0
	s := row
	for ; len(s) >= 4; s = s[4:] { // the loop's test is the bounds check
		b0, b1, b2, b3 := math.Float32bits(s[0]), math.Float32bits(s[1]), math.Float32bits(s[2]), math.Float32bits(s[3])
		uhi0, ulo0, shi0 = max(uhi0, b0, b2), min(ulo0, b0, b2), max(shi0, int32(b0), int32(b2))
		uhi1, ulo1, shi1 = max(uhi1, b1, b3), min(ulo1, b1, b3), max(shi1, int32(b1), int32(b3))
	}
	for _, v := range s {
		b := math.Float32bits(v)
		uhi0, ulo0, shi0 = max(uhi0, b), min(ulo0, b), max(shi0, int32(b))
	}
	uhi, ulo, shi := max(uhi0, uhi1), min(ulo0, ulo1), max(shi0, shi1)
	if shi >= 0x7f800000 || uhi >= 0xff800000 {
		return 0, 0, false
	}
	lo, hi := ulo, uint32(shi)
	if int32(uhi) < 0 {
		lo = uhi
	}
	if shi < 0 {
		hi = ulo
	}
	mn, mx = math.Float32frombits(lo), math.Float32frombits(hi)
	if mn == 0 {
		mn = firstZero(row)
	}
	if mx == 0 {
		mx = firstZero(row)
	}
	return mn, mx, true
}
