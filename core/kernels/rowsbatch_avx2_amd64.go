//go:build goexperiment.simd && amd64 && !purego

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// rowsErrorsAVX2 is RowsErrors with the AVX2 kernels, bit for bit
// rowErrorsAVX2 of each row, 8 rows a block. The values of a row still go
// 8 to a vector, value i in lane i%8, as rowErrorsGeneric sums them; what
// the block shares is everything done once a row: the minimum and maximum
// reduced and the parameters of both codecs worked out for 8 rows in the
// lanes of one vector (rowErrorsAVX2 spent more instructions on these
// and on its scalar min/max than on the row's 64 values), constants
// broadcast once a block, and no scalar float code until the block's
// vector work is done (scalar SSE after vector code costs a transition:
// see rows_avx2_amd64.go).
func rowsErrorsAVX2(rows []float32, dim int, out []TierErrors, ok []bool) {
	if dim < 8 {
		for i := range out {
			out[i], ok[i] = rowErrorsAVX2(rows[i*dim : (i+1)*dim])
		}
		return
	}
	var b errBlock
	for lo := 0; lo < len(out); lo += 8 {
		n := min(8, len(out)-lo)
		b.measure(rows[lo*dim:(lo+n)*dim], dim, out[lo:lo+n], ok[lo:lo+n])
	}
}

// errBlock is the working memory of one block of up to 8 rows.
type errBlock struct {
	// Each row's minimum and maximum, stored 8 lanes at a time at its own
	// index (a row's store overwrites the later rows' slots, which their
	// own stores then fill): lane r of mn[:8] is row r's.
	mn, mx [16]float32
	big    [16]uint32 // the largest magnitude's bits: NaNs and infinities above 0x7f7fffff
	// The codecs' bias, scale and inverse scale, a row a lane: int8, int4;
	// their bits, so that a row's are broadcast from integer registers (a
	// float one is loaded by a legacy-SSE instruction).
	par [2][3][8]uint32
	// bad: bit r set where row r's codec has an infinite scale or bias,
	// every decoded value NaN (so its largest error is 0, as maxAbsOf
	// skips NaNs).
	bad [2]uint8
	// Each row's lane sums and lane maxima: fp16, int8, int4, squares.
	sum [8][4][8]float64
	top [8][3][4]float64
	// Each row's sums (fp16, int8, int4, squares) and maxima (fp16, int8,
	// int4, and a 0).
	res [8][2][4]float64
}

// The 8-lane permutations that fold a vector onto itself in three steps.
var (
	swapHalves = [8]uint32{4, 5, 6, 7, 0, 1, 2, 3}
	swapPairs  = [8]uint32{2, 3, 0, 1, 6, 7, 4, 5}
	swapOnes   = [8]uint32{1, 0, 3, 2, 5, 4, 7, 6}
)

// measure measures the n rows of dim (at least 8) values in rows.
func (b *errBlock) measure(rows []float32, dim int, out []TierErrors, ok []bool) {
	n := len(out)
	b.minMax(rows, dim, n)
	if z := b.params(); z != 0 {
		b.zeroFix(rows, dim, n, z)
	}
	fin := b.finite(n)
	b.halfPass(rows, dim, fin)
	b.codecsPass(rows, dim, fin)
	b.totals(fin)
	archsimd.ClearAVXUpperBits()
	for r := range n {
		ok[r] = fin&(1<<r) != 0
		if ok[r] {
			out[r] = b.total(r)
		} else {
			out[r] = TierErrors{}
		}
	}
}

// minMax stores each row's minimum, maximum and largest magnitude's bits
// in lane r of b.mn, b.mx and b.big. A row's last step of 8 overlaps the
// one before where dim is no multiple of 8, as a value seen twice changes
// no minimum.
func (b *errBlock) minMax(rows []float32, dim, n int) {
	p1, p2, p3 := archsimd.LoadUint32x8(&swapHalves), archsimd.LoadUint32x8(&swapPairs), archsimd.LoadUint32x8(&swapOnes)
	magnitude := archsimd.BroadcastUint32x8(0x7fffffff)
	for r := range n {
		row := rows[r*dim : (r+1)*dim]
		lo := archsimd.LoadFloat32x8((*[8]float32)(row[dim-8:]))
		hi := lo
		big := lo.AsUint32x8().And(magnitude)
		p := unsafe.SliceData(row)
		for i := 0; i+8 <= dim; i += 8 {
			v := archsimd.LoadFloat32x8(f8(p, i))
			lo, hi = lo.Min(v), hi.Max(v)
			big = big.Max(v.AsUint32x8().And(magnitude))
		}
		lo, hi, big = lo.Min(lo.Permute(p1)), hi.Max(hi.Permute(p1)), big.Max(big.Permute(p1))
		lo, hi, big = lo.Min(lo.Permute(p2)), hi.Max(hi.Permute(p2)), big.Max(big.Permute(p2))
		lo, hi, big = lo.Min(lo.Permute(p3)), hi.Max(hi.Permute(p3)), big.Max(big.Permute(p3))
		lo.Store((*[8]float32)(b.mn[r : r+8]))
		hi.Store((*[8]float32)(b.mx[r : r+8]))
		big.Store((*[8]uint32)(b.big[r : r+8]))
	}
}

// finite is a bit a row, set where the row holds no NaN or infinity.
func (b *errBlock) finite(n int) uint8 {
	big := archsimd.LoadUint32x8((*[8]uint32)(b.big[:8]))
	return big.Less(archsimd.BroadcastUint32x8(0x7f800000)).ToBits() & uint8(1<<n-1)
}

// params works out both codecs' parameters from b.mn and b.mx, as
// rowParams does, a row a lane, and returns the rows (a bit each) whose
// minimum or maximum is a zero, whose sign rowMinMax settles otherwise.
func (b *errBlock) params() uint8 {
	mn := archsimd.LoadFloat32x8((*[8]float32)(b.mn[:8]))
	mx := archsimd.LoadFloat32x8((*[8]float32)(b.mx[:8]))
	zero := archsimd.Float32x8{}
	z := mn.Equal(zero).ToBits() | mx.Equal(zero).ToBits()
	if z != 0 {
		return z
	}
	b.codecParams(mn, mx)
	return 0
}

// zeroFix sets the minimum or maximum of the rows in z that is a zero to
// the row's first zero, as rowMinMax does, then works out the parameters.
func (b *errBlock) zeroFix(rows []float32, dim, n int, z uint8) {
	archsimd.ClearAVXUpperBits()
	for r := range n {
		if z&(1<<r) == 0 {
			continue
		}
		row := rows[r*dim : (r+1)*dim]
		if b.mn[r] == 0 {
			b.mn[r] = firstZero(row)
		}
		if b.mx[r] == 0 {
			b.mx[r] = firstZero(row)
		}
	}
	b.codecParams(archsimd.LoadFloat32x8((*[8]float32)(b.mn[:8])), archsimd.LoadFloat32x8((*[8]float32)(b.mx[:8])))
}

// codecParams is rowParams of 8 rows for 8 and 4 bits: bias and scale
// rounded to binary16 as rowParams rounds, 1 for a zero range or a scale
// that rounds to 0, 1 and 1 where the inverse overflows. Division and
// rounding are IEEE's in both, so every lane equals rowParams.
func (b *errBlock) codecParams(mn, mx archsimd.Float32x8) {
	// rowParams rounds in place below 2^16, not below 65520 as roundHalf:
	// a minimum from 65520 on rounds to 2^16 there, no infinity.
	h := newHalf8()
	h.limit = archsimd.BroadcastInt32x8(143 << 23)
	one := archsimd.BroadcastFloat32x8(1)
	zero := archsimd.Float32x8{}
	inf := archsimd.BroadcastUint32x8(0x7f800000)
	magnitude := archsimd.BroadcastUint32x8(0x7fffffff)
	bias := h.round(mn)
	rng := mx.Sub(bias)
	biasInf := bias.AsUint32x8().And(magnitude).Equal(inf)
	for k, maxq := range [2]float32{255, 15} {
		scale := rng.Div(archsimd.BroadcastFloat32x8(maxq))
		scale = one.Merge(scale, rng.Equal(zero))
		scale = h.round(scale)
		// A scale rounded to 0 has an infinite inverse, so the next test
		// puts 1 in its place as rowParams's own test for 0 does.
		inv := one.Div(scale)
		over := inv.AsUint32x8().And(magnitude).Equal(inf)
		scale, inv = one.Merge(scale, over), one.Merge(inv, over)
		b.bad[k] = scale.AsUint32x8().And(magnitude).Equal(inf).Or(biasInf).ToBits()
		bias.AsUint32x8().Store(&b.par[k][0])
		scale.AsUint32x8().Store(&b.par[k][1])
		inv.AsUint32x8().Store(&b.par[k][2])
	}
}

// half8 is the constants of roundHalf on 8 lanes.
type half8 struct {
	magnitude, signBit, low, one, keep, thirteen archsimd.Uint32x8
	below, limit, inf                            archsimd.Int32x8 // below: the least normal half's bits less 1
	half                                         archsimd.Float32x8
}

func newHalf8() half8 {
	b, i := archsimd.BroadcastUint32x8, archsimd.BroadcastInt32x8
	return half8{b(0x7fffffff), b(0x80000000), b(0xfff), b(1), b(0xffffe000), b(13),
		i(113<<23 - 1), i(0x477ff000), i(0x7f800000), archsimd.BroadcastFloat32x8(0.5)}
}

// round is roundHalf of 8 values, as halfErrorsAVX2 rounds them: in place
// at bit 13 for normal halves, to a multiple of 2^-24 for subnormal ones
// and zeros, to an infinity past the largest half. A magnitude m below
// 2^-14 is rounded by (m + 0.5) - 0.5: the sum's unit in the last place
// is 2^-24, and its last bit the multiple's parity, so it rounds to even
// as RoundToEven(m*2^24)*2^-24 does. Magnitudes are compared as signed
// integers (they are below 2^31), which AVX2 compares in one instruction.
func (h *half8) round(v archsimd.Float32x8) archsimd.Float32x8 {
	u := v.AsUint32x8()
	m := u.And(h.magnitude)
	sign := u.And(h.signBit)
	normal := m.Add(h.low).Add(m.ShiftRight(h.thirteen).And(h.one)).And(h.keep).AsInt32x8()
	small := m.AsFloat32x8().Add(h.half).Sub(h.half).AsInt32x8()
	mi := m.AsInt32x8()
	r := normal.Merge(small, mi.Greater(h.below)).Merge(h.inf, h.limit.Greater(mi))
	return r.AsUint32x8().Or(sign).AsFloat32x8()
}

// tailMask[8-t:16-t] has ones in its first t lanes.
var tailMask = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}

// halfPass measures the fp16 round trip and the squares of the finite rows
// (a bit each in fin), each row's lane sums and maxima into b.sum and b.top.
func (b *errBlock) halfPass(rows []float32, dim int, fin uint8) {
	h := newHalf8()
	absMask := archsimd.BroadcastUint64x4(1<<63 - 1)
	for r := range 8 {
		if fin&(1<<r) == 0 {
			continue
		}
		row := rows[r*dim : (r+1)*dim : (r+1)*dim]
		p, i := unsafe.SliceData(row), 0
		var acc, sq lanes8
		var top archsimd.Float64x4
		for ; i+8 <= dim; i += 8 {
			v := archsimd.LoadFloat32x8(f8(p, i))
			lo, hi := v.GetLo().ConvertToFloat64(), v.GetHi().ConvertToFloat64()
			sq.lo, sq.hi = sq.lo.Add(lo.Mul(lo)), sq.hi.Add(hi.Mul(hi))
			acc, top = addDiffNoNaN(v, h.round(v), acc, top, absMask)
		}
		if s := row[i:]; len(s) > 0 {
			// The tail, zeros past it: a zero adds +0 to a lane's
			// square and its round trip's difference is 0.
			v := archsimd.LoadFloat32x8SlicePart(s)
			lo, hi := v.GetLo().ConvertToFloat64(), v.GetHi().ConvertToFloat64()
			sq.lo, sq.hi = sq.lo.Add(lo.Mul(lo)), sq.hi.Add(hi.Mul(hi))
			acc, top = addDiffNoNaN(v, h.round(v), acc, top, absMask)
		}
		acc.store(&b.sum[r][0])
		sq.store(&b.sum[r][3])
		top.Store(&b.top[r][0])
	}
}

// codecsPass is halfPass for both codecs, in one walk of each row that
// shares the loads and conversions of the values (both have the same
// bias): each value's code and decoded value by the roundings of code8 and
// nbitAVX2.
func (b *errBlock) codecsPass(rows []float32, dim int, fin uint8) {
	zero := archsimd.BroadcastInt32x8(0)
	top8, top4 := archsimd.BroadcastInt32x8(255), archsimd.BroadcastInt32x8(15)
	absMask := archsimd.BroadcastUint64x4(1<<63 - 1)
	full := dim &^ 7
	tail := archsimd.LoadInt32x8((*[8]int32)(tailMask[8-(dim-full) : 16-(dim-full)])).Less(zero)
	p8, p4 := &b.par[0], &b.par[1]
	for r := range 8 {
		if fin&(1<<r) == 0 {
			continue
		}
		row := rows[r*dim : (r+1)*dim : (r+1)*dim]
		p, i := unsafe.SliceData(row), 0
		vb := archsimd.BroadcastUint32x8(p8[0][r]).AsFloat32x8()
		vs8 := archsimd.BroadcastUint32x8(p8[1][r]).AsFloat32x8()
		vi8 := archsimd.BroadcastUint32x8(p8[2][r]).AsFloat32x8()
		vs4 := archsimd.BroadcastUint32x8(p4[1][r]).AsFloat32x8()
		vi4 := archsimd.BroadcastUint32x8(p4[2][r]).AsFloat32x8()
		var acc8, acc4 lanes8
		var m8, m4 archsimd.Float64x4
		for ; i+8 <= dim; i += 8 {
			v := archsimd.LoadFloat32x8(f8(p, i))
			c := v.Sub(vb)
			q8 := c.Mul(vi8).RoundToEven().ConvertToInt32().Max(zero).Min(top8)
			q4 := c.Mul(vi4).RoundToEven().ConvertToInt32().Max(zero).Min(top4)
			lo, hi := v.GetLo().ConvertToFloat64(), v.GetHi().ConvertToFloat64()
			acc8, m8 = addDiff64(lo, hi, q8.ConvertToFloat32().Mul(vs8).Add(vb), acc8, m8, absMask)
			acc4, m4 = addDiff64(lo, hi, q4.ConvertToFloat32().Mul(vs4).Add(vb), acc4, m4, absMask)
		}
		if s := row[i:]; len(s) > 0 {
			v := archsimd.LoadFloat32x8SlicePart(s)
			c := v.Sub(vb)
			q8 := c.Mul(vi8).RoundToEven().ConvertToInt32().Max(zero).Min(top8)
			q4 := c.Mul(vi4).RoundToEven().ConvertToInt32().Max(zero).Min(top4)
			lo, hi := v.GetLo().ConvertToFloat64(), v.GetHi().ConvertToFloat64()
			// Past the tail the difference is made 0.
			acc8, m8 = addDiff64(lo, hi, q8.ConvertToFloat32().Mul(vs8).Add(vb).Masked(tail), acc8, m8, absMask)
			acc4, m4 = addDiff64(lo, hi, q4.ConvertToFloat32().Mul(vs4).Add(vb).Masked(tail), acc4, m4, absMask)
		}
		acc8.store(&b.sum[r][1])
		acc4.store(&b.sum[r][2])
		m8.Store(&b.top[r][1])
		m4.Store(&b.top[r][2])
	}
}

// addDiff64 is addDiffNoNaN with the values already in float64.
func addDiff64(lo, hi archsimd.Float64x4, back archsimd.Float32x8, acc lanes8, top archsimd.Float64x4, absMask archsimd.Uint64x4) (lanes8, archsimd.Float64x4) {
	d := lo.Sub(back.GetLo().ConvertToFloat64())
	acc.lo = acc.lo.Add(d.Mul(d))
	top = d.AsUint64x4().And(absMask).AsFloat64x4().Max(top)
	d = hi.Sub(back.GetHi().ConvertToFloat64())
	acc.hi = acc.hi.Add(d.Mul(d))
	top = d.AsUint64x4().And(absMask).AsFloat64x4().Max(top)
	return acc, top
}

// addDiffNoNaN is addDiff8 without its NaN test: a codec's differences are
// all NaN or none (b.bad), and the fp16 round trip of a finite row has
// none.
func addDiffNoNaN(v, back archsimd.Float32x8, acc lanes8, top archsimd.Float64x4, absMask archsimd.Uint64x4) (lanes8, archsimd.Float64x4) {
	d := v.GetLo().ConvertToFloat64().Sub(back.GetLo().ConvertToFloat64())
	acc.lo = acc.lo.Add(d.Mul(d))
	top = d.AsUint64x4().And(absMask).AsFloat64x4().Max(top)
	d = v.GetHi().ConvertToFloat64().Sub(back.GetHi().ConvertToFloat64())
	acc.hi = acc.hi.Add(d.Mul(d))
	top = d.AsUint64x4().And(absMask).AsFloat64x4().Max(top)
	return acc, top
}

// totals sums each finite row's lane sums as rowErrorsGeneric does, lane 0
// to 7 in turn, the four sums of a row in the lanes of one vector (a 4x4
// transpose turns the lane sums of each quantity into the quantities of
// each lane), and takes each tier's largest lane maximum, into b.res.
func (b *errBlock) totals(fin uint8) {
	for r := range 8 {
		if fin&(1<<r) == 0 {
			continue
		}
		s := &b.sum[r]
		c0, c1, c2, c3 := transpose4(
			archsimd.LoadFloat64x4((*[4]float64)(s[0][:4])), archsimd.LoadFloat64x4((*[4]float64)(s[1][:4])),
			archsimd.LoadFloat64x4((*[4]float64)(s[2][:4])), archsimd.LoadFloat64x4((*[4]float64)(s[3][:4])))
		c4, c5, c6, c7 := transpose4(
			archsimd.LoadFloat64x4((*[4]float64)(s[0][4:])), archsimd.LoadFloat64x4((*[4]float64)(s[1][4:])),
			archsimd.LoadFloat64x4((*[4]float64)(s[2][4:])), archsimd.LoadFloat64x4((*[4]float64)(s[3][4:])))
		c0.Add(c1).Add(c2).Add(c3).Add(c4).Add(c5).Add(c6).Add(c7).Store(&b.res[r][0])
		// The maxima are never NaN but in a codec's bad rows (see total).
		t := &b.top[r]
		m0, m1, m2, m3 := transpose4(archsimd.LoadFloat64x4(&t[0]), archsimd.LoadFloat64x4(&t[1]), archsimd.LoadFloat64x4(&t[2]), archsimd.Float64x4{})
		m0.Max(m1).Max(m2.Max(m3)).Store(&b.res[r][1])
	}
}

// transpose4 is the 4x4 transpose of the rows a, b, c, d.
func transpose4(a, b, c, d archsimd.Float64x4) (archsimd.Float64x4, archsimd.Float64x4, archsimd.Float64x4, archsimd.Float64x4) {
	t0, t1 := a.SelectFromPairGrouped(0, 2, b), a.SelectFromPairGrouped(1, 3, b) // a0 b0 a2 b2, a1 b1 a3 b3
	t2, t3 := c.SelectFromPairGrouped(0, 2, d), c.SelectFromPairGrouped(1, 3, d)
	return t0.Select128FromPair(0, 2, t2), t1.Select128FromPair(0, 2, t3), t0.Select128FromPair(1, 3, t2), t1.Select128FromPair(1, 3, t3)
}

// total is row r's errors from b.res.
func (b *errBlock) total(r int) TierErrors {
	res := &b.res[r]
	e := TierErrors{
		SSE:        [3]float64{res[0][0], res[0][1], res[0][2]},
		MaxAbs:     [3]float64{res[1][0], res[1][1], res[1][2]},
		SumSquares: res[0][3],
	}
	// A codec whose every decoded value is NaN: its NaN differences are no
	// maximum, as maxAbsOf skips them.
	for k := range 2 {
		if b.bad[k]&(1<<r) != 0 {
			e.MaxAbs[1+k] = 0
		}
	}
	return e
}
