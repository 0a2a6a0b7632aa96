//go:build goexperiment.simd && amd64 && !purego

package kernels

import (
	"math"
	"simd/archsimd"
	"unsafe"
)

// lanes8 is the eight float64 lane sums of the portable loops, lanes 0-3
// and 4-7 in two vectors.
type lanes8 struct{ lo, hi archsimd.Float64x4 }

func (l lanes8) store(dst *[8]float64) {
	l.lo.Store((*[4]float64)(dst[:4]))
	l.hi.Store((*[4]float64)(dst[4:]))
}

// rowErrorsAVX2 equals rowErrorsGeneric bit for bit, as rowErrorsAVX512
// does, 8 values a step: each squared difference added to lane i%8 in the
// order of i.
func rowErrorsAVX2(row []float32) (TierErrors, bool) {
	n := len(row)
	if n < 8 {
		return rowErrorsGeneric(row)
	}
	mn, mx := minMaxAVX2(row)
	b8, s8, i8, q8, _, _ := rowParams(8, mn, mx)
	b4, s4, i4, q4, _, _ := rowParams(4, mn, mx)
	// A pass per tier, over the row in the L1 cache, as in the AVX-512
	// kernel: the 16 registers hold one tier's constants and sums. Each
	// pass stores its sums and leaves the registers clean, as the next
	// one's float arguments are moved by legacy-SSE instructions.
	var e TierErrors
	var l16, l8, l4, lsq [8]float64
	var m16, m8, m4 [4]float64
	if !halfErrorsAVX2(row, &l16, &m16, &lsq) {
		return TierErrors{}, false
	}
	codecErrorsAVX2(row, b8, s8, i8, q8, &l8, &m8)
	codecErrorsAVX2(row, b4, s4, i4, q4, &l4, &m4)
	e.MaxAbs = [3]float64{max4(&m16), max4(&m8), max4(&m4)}
	for i := n &^ 7; i < n; i++ {
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

// halfErrorsAVX2 is halfErrors (errors_amd64.go) 8 values a step: the fp16
// round trip's squared differences in lanes (into l) and their largest
// magnitude (in the lanes of m), and the squares (into sq), over the
// row's whole steps of 8; false if one holds a NaN or an infinity.
func halfErrorsAVX2(row []float32, l *[8]float64, m *[4]float64, sq8 *[8]float64) bool {
	var acc, sq lanes8
	var top archsimd.Float64x4
	b := archsimd.BroadcastUint32x8
	magnitude, signBit, low, one, keep := b(0x7fffffff), b(0x80000000), b(0xfff), b(1), b(0xffffe000)
	least, limit, inf, thirteen := b(113<<23), b(0x477ff000), b(0x7f800000), b(13)
	up, down := archsimd.BroadcastFloat32x8(0x1p24), archsimd.BroadcastFloat32x8(0x1p-24)
	absMask := archsimd.BroadcastUint64x4(1<<63 - 1)
	var big archsimd.Uint32x8 // the largest magnitude's bits seen
	p := unsafe.SliceData(row)
	for i := 0; i+8 <= len(row); i += 8 {
		v := archsimd.LoadFloat32x8(f8(p, i))
		u := v.AsUint32x8()
		m := u.And(magnitude)
		big = big.Max(m)
		lo, hi := v.GetLo().ConvertToFloat64(), v.GetHi().ConvertToFloat64()
		sq.lo, sq.hi = sq.lo.Add(lo.Mul(lo)), sq.hi.Add(hi.Mul(hi))
		sign := u.And(signBit)
		// A shift by a vector of counts: ShiftAllRight(13) compiles to a
		// legacy-SSE MOVQ of the count, which pays the transition of
		// BenchmarkVectorToScalar on every step.
		normal := m.Add(low).Add(m.ShiftRight(thirteen).And(one)).And(keep).Or(sign)
		small := v.Mul(up).RoundToEven().Mul(down).AsUint32x8()
		r := normal.Merge(small, m.GreaterEqual(least)).Merge(sign.Or(inf), m.Less(limit))
		acc, top = addDiff8(v, r.AsFloat32x8(), acc, top, absMask)
	}
	acc.store(l)
	top.Store(m)
	sq.store(sq8)
	// NaNs and infinities have the largest magnitudes' bits.
	finite := big.Less(inf).ToBits() == 0xff
	archsimd.ClearAVXUpperBits()
	return finite
}

// codecErrorsAVX2 is halfErrorsAVX2 for an N-bit codec: each value's code
// and its decoded value, scale*q + bias, by the roundings of code8 and
// nbitAVX2.
func codecErrorsAVX2(row []float32, bias, scale, inv float32, maxq int32, l *[8]float64, m *[4]float64) {
	var acc lanes8
	var top archsimd.Float64x4
	vb, vs, vi := archsimd.BroadcastFloat32x8(bias), archsimd.BroadcastFloat32x8(scale), archsimd.BroadcastFloat32x8(inv)
	zero, vtop := archsimd.BroadcastInt32x8(0), archsimd.BroadcastInt32x8(maxq)
	absMask := archsimd.BroadcastUint64x4(1<<63 - 1)
	p := unsafe.SliceData(row)
	for i := 0; i+8 <= len(row); i += 8 {
		v := archsimd.LoadFloat32x8(f8(p, i))
		q := v.Sub(vb).Mul(vi).RoundToEven().ConvertToInt32().Max(zero).Min(vtop)
		acc, top = addDiffNoNaN(v, q.ConvertToFloat32().Mul(vs).Add(vb), acc, top, absMask)
	}
	acc.store(l)
	top.Store(m)
	archsimd.ClearAVXUpperBits()
	if !codecFits(bias, scale) {
		// Every value decodes to NaN (see decodeFinite): no maximum, as
		// maxAbsOf skips NaNs, where addDiffNoNaN's lanes hold NaNs.
		*m = [4]float64{}
	}
}

// addDiff8 adds the squared differences of v and its decoded values to
// acc, value l to lane l, and their magnitudes to the running maximum.
func addDiff8(v, back archsimd.Float32x8, acc lanes8, top archsimd.Float64x4, absMask archsimd.Uint64x4) (lanes8, archsimd.Float64x4) {
	d := v.GetLo().ConvertToFloat64().Sub(back.GetLo().ConvertToFloat64())
	acc.lo = acc.lo.Add(d.Mul(d))
	// A NaN difference (a row whose scale is infinite decodes to NaN) counts
	// as 0 for the maximum, as maxAbsOf leaves it.
	top = d.AsUint64x4().And(absMask).AsFloat64x4().Masked(d.Equal(d)).Max(top)
	d = v.GetHi().ConvertToFloat64().Sub(back.GetHi().ConvertToFloat64())
	acc.hi = acc.hi.Add(d.Mul(d))
	top = d.AsUint64x4().And(absMask).AsFloat64x4().Masked(d.Equal(d)).Max(top)
	return acc, top
}

// rowNormAVX2 equals rowNormGeneric: the squares in the same lanes, 8
// values a step, and the largest magnitude's bits for a NaN or infinity.
func rowNormAVX2(row []float32) (float64, bool) {
	n := len(row)
	magnitude, inf := archsimd.BroadcastUint32x8(0x7fffffff), archsimd.BroadcastUint32x8(0x7f800000)
	var sq lanes8
	var big archsimd.Uint32x8
	p, i := unsafe.SliceData(row), 0
	for ; i+8 <= n; i += 8 {
		v := archsimd.LoadFloat32x8(f8(p, i))
		big = big.Max(v.AsUint32x8().And(magnitude))
		lo, hi := v.GetLo().ConvertToFloat64(), v.GetHi().ConvertToFloat64()
		sq.lo, sq.hi = sq.lo.Add(lo.Mul(lo)), sq.hi.Add(hi.Mul(hi))
	}
	// Magnitudes are below 2^31: a signed compare is AVX2's own.
	if big.AsInt32x8().Less(inf.AsInt32x8()).ToBits() != 0xff {
		archsimd.ClearAVXUpperBits()
		return 0, false
	}
	var l [8]float64
	sq.store(&l)
	archsimd.ClearAVXUpperBits()
	for ; i < n; i++ {
		v := row[i]
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return 0, false
		}
		x := float64(v)
		l[i%8] += float64(x * x)
	}
	// The lanes added in order, as the generic loop's sum += x does.
	return 0.0 + l[0] + l[1] + l[2] + l[3] + l[4] + l[5] + l[6] + l[7], true
}

// tierErrorAVX2 equals tierErrorGeneric: rowErrorsAVX2's pass of the one
// tier.
func tierErrorAVX2(k int, row []float32) (float64, float64) {
	n := len(row)
	if n < 8 {
		return tierErrorGeneric(k, row)
	}
	var l, sq [8]float64
	var m [4]float64
	var back func(v float32) float32
	if k == 0 {
		halfErrorsAVX2(row, &l, &m, &sq)
		back = roundHalf
	} else {
		bits := 8 >> (k - 1)
		mn, mx := minMaxAVX2(row)
		b, s, inv, q, _, _ := rowParams(bits, mn, mx)
		codecErrorsAVX2(row, b, s, inv, q, &l, &m)
		back = func(v float32) float32 { return float32(s*float32(quantizeOne(v, b, inv, q))) + b }
	}
	maxAbs := max4(&m)
	for i := n &^ 7; i < n; i++ {
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
