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
	a16, t16, sq, finite := halfErrors(row)
	if !finite {
		return TierErrors{}, false
	}
	a8, t8 := codecErrors(row, b8, s8, i8, q8)
	a4, t4 := codecErrors(row, b4, s4, i4, q4)
	i := n &^ 15
	var e TierErrors
	var l16, l8, l4, lsq, m [8]float64
	sq.Store(&lsq)
	a16.Store(&l16)
	a8.Store(&l8)
	a4.Store(&l4)
	t16.Store(&m)
	e.MaxAbs[0] = max8(&m)
	t8.Store(&m)
	e.MaxAbs[1] = max8(&m)
	t4.Store(&m)
	e.MaxAbs[2] = max8(&m)
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

// halfErrors is the fp16 round trip's squared differences and largest
// magnitude in lanes, over the row's whole steps of 16. Each value is
// rounded as roundHalf rounds it, to nearest even: in place at bit 13 where
// it rounds to a normal half; as a multiple of 2^-24 (the subnormal halves'
// step; both scalings are exact) below 2^-14; and to infinity from 65520
// up. (The constants are locals: a struct of vectors is copied through
// memory at every use.)
func halfErrors(row []float32) (acc, top, sq archsimd.Float64x8, finite bool) {
	b := archsimd.BroadcastUint32x16
	magnitude, signBit, low, one, keep := b(0x7fffffff), b(0x80000000), b(0xfff), b(1), b(0xffffe000)
	least, limit, inf := b(113<<23), b(0x477ff000), b(0x7f800000)
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
		normal := m.Add(low).Add(m.ShiftAllRight(13).And(one)).And(keep).Or(sign)
		small := v.Mul(up).RoundToEvenScaled(0).Mul(down).AsUint32x16()
		r := normal.Merge(small, m.GreaterEqual(least)).Merge(sign.Or(inf), m.Less(limit))
		acc, top = addDiff(v, r.AsFloat32x16(), acc, top, absMask)
	}
	// NaNs and infinities have the largest magnitudes' bits.
	return acc, top, sq, big.Less(inf).ToBits() == 0xffff
}

// codecErrors is halfErrors for an N-bit codec: each value's code and its
// decoded value, scale*q + bias, by the roundings of code16 and
// nbitAVX512.
func codecErrors(row []float32, bias, scale, inv float32, maxq int32) (acc, top archsimd.Float64x8) {
	vb, vs, vi := archsimd.BroadcastFloat32x16(bias), archsimd.BroadcastFloat32x16(scale), archsimd.BroadcastFloat32x16(inv)
	zero, vtop := archsimd.BroadcastInt32x16(0), archsimd.BroadcastInt32x16(maxq)
	absMask := archsimd.BroadcastUint64x8(1<<63 - 1)
	for i := 0; i+16 <= len(row); i += 16 {
		v := archsimd.LoadFloat32x16((*[16]float32)(row[i : i+16]))
		q := v.Sub(vb).Mul(vi).RoundToEvenScaled(0).ConvertToInt32().Max(zero).Min(vtop)
		acc, top = addDiff(v, q.ConvertToFloat32().Mul(vs).Add(vb), acc, top, absMask)
	}
	return acc, top
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
	l8, h8 := vmin.GetLo().Min(vmin.GetHi()), vmax.GetLo().Max(vmax.GetHi())
	l4, h4 := l8.GetLo().Min(l8.GetHi()), h8.GetLo().Max(h8.GetHi())
	mn := min(min(l4.GetElem(0), l4.GetElem(1)), min(l4.GetElem(2), l4.GetElem(3)))
	mx := max(max(h4.GetElem(0), h4.GetElem(1)), max(h4.GetElem(2), h4.GetElem(3)))
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
		return 0, false
	}
	var l [8]float64
	sq.Store(&l)
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
	var acc, top archsimd.Float64x8
	var back func(v float32) float32
	if k == 0 {
		acc, top, _, _ = halfErrors(row)
		back = roundHalf
	} else {
		bits := 8 >> (k - 1)
		mn, mx := minMaxAVX512(row)
		b, s, inv, q, _, _ := rowParams(bits, mn, mx)
		acc, top = codecErrors(row, b, s, inv, q)
		back = func(v float32) float32 { return float32(s*float32(quantizeOne(v, b, inv, q))) + b }
	}
	var l, m [8]float64
	acc.Store(&l)
	top.Store(&m)
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
