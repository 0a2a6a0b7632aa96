package kernels

// The block ("shared scale") tiers store a row's codes only, laid out as
// the N-bit rowwise row's codes; the fp16 scale and bias belong to a block
// of rows and are computed, as the rowwise codec computes a row's, from
// the minimum and maximum over the block's rows. Portable code: a block
// row is a row of a small table's tail, where the rowwise kernels' speed
// is not at stake.

// BlockParams is the fp16 scale and bias (their bits) that the bits-bit
// rowwise codec writes for a row of minimum mn and maximum mx (both
// finite): what every row of a block of that minimum and maximum shares.
func BlockParams(bits int, mn, mx float32) (scale, bias uint16) {
	_, _, _, _, hs, hb := rowParams(bits, mn, mx)
	return hs, hb
}

// EmptyBlockParams is the parameters of a block without a row to measure
// them by: those the rowwise codec writes for an empty row (scale 1, bias
// 0).
func EmptyBlockParams() (scale, bias uint16) { return FloatToHalf(1), 0 }

// HeldMinMax is the minimum and maximum of a row (as the rowwise codec
// takes them) and true when every lossy tier holds it: every value finite
// and rounding to a finite binary16. The extremes bound every value, and
// rounding is monotone, so theirs decide. Then every N-bit scale, at most
// 2*65504/3, is finite too. False for an empty row.
func HeldMinMax(row []float32) (mn, mx float32, ok bool) {
	if len(row) == 0 {
		return 0, 0, false
	}
	mn, mx, ok = finiteMinMax(row)
	if !ok || FloatToHalf(mn)&0x7c00 == 0x7c00 || FloatToHalf(mx)&0x7c00 == 0x7c00 {
		return 0, 0, false
	}
	return mn, mx, true
}

// codecOf is the quantizer's bias, inverse scale and largest code for the
// stored scale and bias bits, as rowParams hands them to quantizeOne (its
// scale is never 0 and its inverse finite; a scale read from elsewhere
// that is gets rowParams's substitute, 1).
func codecOf(bits int, scale, bias uint16) (b, inv float32, maxq int32) {
	s := HalfToFloat(scale)
	inv = 1 / s
	if s == 0 || inv-inv != 0 {
		inv = 1
	}
	return HalfToFloat(bias), inv, int32(1)<<bits - 1
}

// QuantizeCodes writes the codes of a finite row under the given scale and
// bias into dst[:RowBytes(bits, len(src))-4]: the codes QuantizeRow writes
// for a row whose own parameters these are, packed the same way (low bits
// first, the last byte's unused slots zero).
func QuantizeCodes(bits int, dst []byte, src []float32, scale, bias uint16) {
	b, inv, maxq := codecOf(bits, scale, bias)
	per := 8 / bits
	nb := (len(src) + per - 1) / per
	dst = dst[:nb]
	clear(dst)
	for i, v := range src {
		dst[i/per] |= byte(quantizeOne(v, b, inv, maxq)) << (uint(i%per) * uint(bits))
	}
}

// DequantizeCodes decodes a block row's codes with its block's scale and
// bias into dst (len(dst) values): DequantizeRow of the rowwise row made of
// the codes followed by the scale and the bias, bit for bit.
func DequantizeCodes(bits int, dst []float32, codes []byte, scale, bias uint16) {
	s, b := halfArith(scale), halfArith(bias)
	per := 8 / bits
	mask := byte(1)<<bits - 1
	for i := range dst {
		q := (codes[i/per] >> (uint(i%per) * uint(bits))) & mask
		dst[i] = float32(s*float32(q)) + b
	}
}

// BlockTierError is the error of a finite, non-empty row in a block tier
// of the given parameters: QuantizeCodes, DequantizeCodes and
// SumSquaredDiff, bit for bit (the squares summed in its eight lanes), in
// one pass; and whether every decoded value is 0.
func BlockTierError(bits int, row []float32, scale, bias uint16) (sse, maxAbs float64, zero bool) {
	b, inv, maxq := codecOf(bits, scale, bias)
	s, db := halfArith(scale), halfArith(bias)
	var l [8]float64
	zero = true
	for i, v := range row {
		back := float32(s*float32(quantizeOne(v, b, inv, maxq))) + db
		zero = zero && back == 0
		d := float64(v) - float64(back)
		l[i&7] += float64(d * d) // the conversion forbids a fused multiply-add
		maxAbs = maxAbsOf(maxAbs, d)
	}
	for _, x := range l {
		sse += x
	}
	return sse, maxAbs, zero
}
