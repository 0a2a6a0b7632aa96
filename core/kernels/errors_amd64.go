//go:build goexperiment.simd && amd64 && !purego

package kernels

import (
	"math"
	"simd/archsimd"
)

// rowErrorsAVX512 equals rowErrorsGeneric bit for bit: the same minimum
// and maximum (quantizeRowAVX512's), the fp16 round trip by roundHalf's
// arithmetic, each code and its decoded value by the same roundings as
// code16 and nbitAVX512, and each squared difference added to lane i%8 in
// the order of i, 16 values a step (the low eight, then the high eight).
// It finds a NaN or an infinity in the fp16 pass, and sums the squares
// there.
func rowErrorsAVX512(row []float32) (TierErrors, bool) {
	n := len(row)
	if n < 16 {
		return rowErrorsGeneric(row)
	}
	mn, mx := minMaxAVX512(row)
	b8, s8, i8, q8, _, _ := rowParams(8, mn, mx)
	b4, s4, i4, q4, _, _ := rowParams(4, mn, mx)
	// A pass per tier, over the row in the L1 cache: one pass for all
	// three keeps too many vectors live for the registers.
	// Each pass stores its sums and leaves the registers clean
	// (rows_avx2_amd64.go), as the next one's float arguments are moved by
	// legacy-SSE instructions.
	var e TierErrors
	var l16, l8, l4, lsq, m16, m8, m4 [8]float64
	if !halfErrors(row, &l16, &m16, &lsq) {
		return TierErrors{}, false
	}
	codecErrors(row, b8, s8, i8, q8, &l8, &m8)
	codecErrors(row, b4, s4, i4, q4, &l4, &m4)
	i := n &^ 15
	e.MaxAbs = [3]float64{max8(&m16), max8(&m8), max8(&m4)}
	for ; i < n; i++ {
		v := row[i]
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return TierErrors{}, false
		}
		x := float64(v)
		lsq[i%8] += float64(x * x)
		d16 := x - float64(roundHalf(v))
		d8 := x - float64(float32(s8*float32(quantizeOne(v, b8, i8, q8)))+b8)
		d4 := x - float64(float32(s4*float32(quantizeOne(v, b4, i4, q4)))+b4)
		l16[i%8] += float64(d16 * d16)
		l8[i%8] += float64(d8 * d8)
		l4[i%8] += float64(d4 * d4)
		e.MaxAbs[0] = maxAbsOf(e.MaxAbs[0], d16)
		e.MaxAbs[1] = maxAbsOf(e.MaxAbs[1], d8)
		e.MaxAbs[2] = maxAbsOf(e.MaxAbs[2], d4)
	}
	for k := range 8 {
		e.SSE[0] += l16[k]
		e.SSE[1] += l8[k]
		e.SSE[2] += l4[k]
		e.SumSquares += lsq[k]
	}
	return e, true
}

// halfErrors stores the fp16 round trip's squared differences in lanes
// (into l) and their largest magnitude (in the lanes of m), and the squares
// (into sq8), over the row's whole steps of 16; it returns false if one
// holds a NaN or an infinity. Each value is
// rounded as roundHalf rounds it, to nearest even: in place at bit 13 where
// it rounds to a normal half; as a multiple of 2^-24 (the subnormal halves'
// step; both scalings are exact) below 2^-14; and to infinity from 65520
// up. (The constants are locals: a struct of vectors is copied through
// memory at every use.)
func halfErrors(row []float32, l, m, sq8 *[8]float64) bool {
	var acc, top, sq archsimd.Float64x8
	b := archsimd.BroadcastUint32x16
	magnitude, signBit, low, one, keep := b(0x7fffffff), b(0x80000000), b(0xfff), b(1), b(0xffffe000)
	least, limit, inf, thirteen := b(113<<23), b(0x477ff000), b(0x7f800000), b(13)
	up, down := archsimd.BroadcastFloat32x16(0x1p24), archsimd.BroadcastFloat32x16(0x1p-24)
	absMask := archsimd.BroadcastUint64x8(1<<63 - 1)
	var big archsimd.Uint32x16 // the largest magnitude's bits seen
	for i := 0; i+16 <= len(row); i += 16 {
		v := archsimd.LoadFloat32x16((*[16]float32)(row[i : i+16]))
		u := v.AsUint32x16()
		m := u.And(magnitude)
		big = big.Max(m)
		lo, hi := v.GetLo().ConvertToFloat64(), v.GetHi().ConvertToFloat64()
		sq = sq.Add(lo.Mul(lo)).Add(hi.Mul(hi))
		sign := u.And(signBit)
		// A shift by a vector of counts, as in halfErrorsAVX2.
		normal := m.Add(low).Add(m.ShiftRight(thirteen).And(one)).And(keep).Or(sign)
		small := v.Mul(up).RoundToEvenScaled(0).Mul(down).AsUint32x16()
		r := normal.Merge(small, m.GreaterEqual(least)).Merge(sign.Or(inf), m.Less(limit))
		acc, top = addDiff(v, r.AsFloat32x16(), acc, top, absMask)
	}
	acc.Store(l)
	top.Store(m)
	sq.Store(sq8)
	// NaNs and infinities have the largest magnitudes' bits.
	finite := big.Less(inf).ToBits() == 0xffff
	archsimd.ClearAVXUpperBits()
	return finite
}

// codecErrors is halfErrors for an N-bit codec (into l and m): each value's code and its
// decoded value, scale*q + bias, by the roundings of code16 and
// nbitAVX512.
func codecErrors(row []float32, bias, scale, inv float32, maxq int32, l, m *[8]float64) {
	var acc, top archsimd.Float64x8
	vb, vs, vi := archsimd.BroadcastFloat32x16(bias), archsimd.BroadcastFloat32x16(scale), archsimd.BroadcastFloat32x16(inv)
	zero, vtop := archsimd.BroadcastInt32x16(0), archsimd.BroadcastInt32x16(maxq)
	absMask := archsimd.BroadcastUint64x8(1<<63 - 1)
	for i := 0; i+16 <= len(row); i += 16 {
		v := archsimd.LoadFloat32x16((*[16]float32)(row[i : i+16]))
		q := v.Sub(vb).Mul(vi).RoundToEvenScaled(0).ConvertToInt32().Max(zero).Min(vtop)
		acc, top = addDiff(v, q.ConvertToFloat32().Mul(vs).Add(vb), acc, top, absMask)
	}
	acc.Store(l)
	top.Store(m)
	archsimd.ClearAVXUpperBits()
}

// max8 is the largest of the lanes' maxima, which are never NaN: by
// comparisons, as the max built-in's care for NaNs and signed zeros costs
// a tenth of a row's time here.
func max8(m *[8]float64) float64 {
	x := m[0]
	for _, v := range m[1:] {
		if v > x {
			x = v
		}
	}
	return x
}

// addDiff adds the squared differences of v and its decoded values to
// acc, lane i%8, and their magnitudes to the running maximum: the low
// eight values, then the high eight.
func addDiff(v, back archsimd.Float32x16, acc, top archsimd.Float64x8, absMask archsimd.Uint64x8) (archsimd.Float64x8, archsimd.Float64x8) {
	d := v.GetLo().ConvertToFloat64().Sub(back.GetLo().ConvertToFloat64())
	acc = acc.Add(d.Mul(d))
	// A NaN difference (a row whose scale is infinite decodes to NaN) leaves
	// the running maximum as maxAbs leaves it: its lane counts as 0.
	top = d.AsUint64x8().And(absMask).AsFloat64x8().Masked(d.Equal(d)).Max(top)
	d = v.GetHi().ConvertToFloat64().Sub(back.GetHi().ConvertToFloat64())
	acc = acc.Add(d.Mul(d))
	top = d.AsUint64x8().And(absMask).AsFloat64x8().Masked(d.Equal(d)).Max(top)
	return acc, top
}

// minMaxAVX512 is rowMinMax of a row of at least 16 values, 16 lanes at a
// time, as quantizeRowAVX512 takes it.
func minMaxAVX512(src []float32) (float32, float32) {
	n := len(src)
	vmin := archsimd.LoadFloat32x16Slice(src)
	vmax := vmin
	i := 16
	for ; i+16 <= n; i += 16 {
		v := archsimd.LoadFloat32x16Slice(src[i:])
		vmin, vmax = vmin.Min(v), vmax.Max(v)
	}
	var lo, hi [8]float32
	vmin.GetLo().Min(vmin.GetHi()).Store(&lo)
	vmax.GetLo().Max(vmax.GetHi()).Store(&hi)
	archsimd.ClearAVXUpperBits()
	mn := min(min(min(lo[0], lo[1]), min(lo[2], lo[3])), min(min(lo[4], lo[5]), min(lo[6], lo[7])))
	mx := max(max(max(hi[0], hi[1]), max(hi[2], hi[3])), max(max(hi[4], hi[5]), max(hi[6], hi[7])))
	for ; i < n; i++ {
		mn, mx = min(mn, src[i]), max(mx, src[i])
	}
	if mn == 0 {
		mn = firstZero(src)
	}
	if mx == 0 {
		mx = firstZero(src)
	}
	return mn, mx
}

// rowNormAVX512 equals rowNormGeneric: the squares in the same lanes, 16
// values a step, and the largest magnitude's bits for a NaN or infinity.
func rowNormAVX512(row []float32) (float64, bool) {
	n := len(row)
	magnitude, inf := archsimd.BroadcastUint32x16(0x7fffffff), archsimd.BroadcastUint32x16(0x7f800000)
	var sq archsimd.Float64x8
	var big archsimd.Uint32x16
	i := 0
	for ; i+16 <= n; i += 16 {
		v := archsimd.LoadFloat32x16((*[16]float32)(row[i : i+16]))
		big = big.Max(v.AsUint32x16().And(magnitude))
		lo, hi := v.GetLo().ConvertToFloat64(), v.GetHi().ConvertToFloat64()
		sq = sq.Add(lo.Mul(lo)).Add(hi.Mul(hi))
	}
	if big.Less(inf).ToBits() != 0xffff {
		archsimd.ClearAVXUpperBits()
		return 0, false
	}
	var l [8]float64
	sq.Store(&l)
	archsimd.ClearAVXUpperBits()
	for ; i < n; i++ {
		v := row[i]
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return 0, false
		}
		x := float64(v)
		l[i%8] += float64(x * x)
	}
	s := 0.0
	for _, x := range l {
		s += x
	}
	return s, true
}

// tierErrorAVX512 equals tierErrorGeneric: rowErrorsAVX512's pass of the
// one tier.
func tierErrorAVX512(k int, row []float32) (float64, float64) {
	n := len(row)
	if n < 16 {
		return tierErrorGeneric(k, row)
	}
	var l, m, sq [8]float64
	var back func(v float32) float32
	if k == 0 {
		halfErrors(row, &l, &m, &sq)
		back = roundHalf
	} else {
		bits := 8 >> (k - 1)
		mn, mx := minMaxAVX512(row)
		b, s, inv, q, _, _ := rowParams(bits, mn, mx)
		codecErrors(row, b, s, inv, q, &l, &m)
		back = func(v float32) float32 { return float32(s*float32(quantizeOne(v, b, inv, q))) + b }
	}
	maxAbs := max8(&m)
	for i := n &^ 15; i < n; i++ {
		d := float64(row[i]) - float64(back(row[i]))
		l[i%8] += float64(d * d)
		maxAbs = maxAbsOf(maxAbs, d)
	}
	sse := 0.0
	for _, x := range l {
		sse += x
	}
	return sse, maxAbs
}
