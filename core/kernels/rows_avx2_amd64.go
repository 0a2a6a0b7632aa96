//go:build goexperiment.simd && amd64 && !purego

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// f8 is the 8 float32s from p[i], and b16 the 16 bytes from p[i]: the hot
// loops index their rows through them, each loop keeping i+8 (i+16)
// within its slice itself. A slice's conversion to an array pointer checks
// its bounds, and a loop stepping with s = s[8:] masks the new slice's
// pointer, which took a third of the instructions of a 64-value row's
// norm, min/max or error pass (cachegrind).
func f8(p *float32, i int) *[8]float32 { return (*[8]float32)(unsafe.Add(unsafe.Pointer(p), 4*i)) }

func b16(p *byte, i int) *[16]uint8 { return (*[16]uint8)(unsafe.Add(unsafe.Pointer(p), i)) }

// The AVX2 twins of the AVX-512 row kernels: 8 lanes of float32 (4 of
// float64) where those take 16 (8), with the same roundings, so the same
// bytes as the portable kernels. AVX2 has no narrowing store (VPMOVDB), so
// codes become bytes through a pack to 16 bits and two shuffles.
//
// Every kernel here (and in the AVX-512 files) clears the vector registers'
// upper halves (VZEROUPPER) once no vector is live, before its scalar
// float code and before it returns: without it each scalar float
// instruction after the vector ones paid a transition of about 230 ns on
// the test machine (BenchmarkVectorToScalar), more than a whole row of 64
// values costs. No vector value may be live across the clear.

// evenBytes picks, in each 128-bit half, the low bytes of its eight 16-bit
// lanes into its first eight bytes (an index of -1 gives zero).
var evenBytes = [32]int8{
	0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1,
	0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1,
}

// interleave and halves order the 32-bit words after evenBytes: the
// first from the words 0, 4, 1, 5 (pack16's two vectors' halves in turn),
// the second from 0, 1, 4, 5 (the two halves' first eight bytes).
var (
	interleave = [8]uint32{0, 4, 1, 5, 2, 6, 3, 7}
	halves     = [8]uint32{0, 1, 4, 5, 2, 3, 6, 7}
)

// code8 is quantizeOne of 8 values: the same subtract and multiply, each
// rounded, round to even, and clamp to [0, top].
func code8(src *[8]float32, vmn, vinv archsimd.Float32x8, vzero, vtop archsimd.Int32x8) archsimd.Int32x8 {
	x := archsimd.LoadFloat32x8(src).Sub(vmn).Mul(vinv)
	return x.RoundToEven().ConvertToInt32().Max(vzero).Min(vtop)
}

// pack16 turns 16 codes in [0, 255], a's eight then b's, into 16 bytes in
// order: VPACKUSDW leaves a0-3 b0-3 | a4-7 b4-7 as 16-bit lanes, evenBytes
// takes their low bytes, and interleave puts the words in order.
func pack16(a, b archsimd.Int32x8, even archsimd.Int8x32, order archsimd.Uint32x8) archsimd.Uint8x16 {
	w := a.SaturateToUint16ConcatGrouped(b).AsUint8x32().PermuteOrZeroGrouped(even)
	return w.AsUint32x8().Permute(order).AsUint8x32().GetLo()
}

// nibbles32 packs 32 4-bit codes, given as bytes (p's 16, then q's), two
// to a byte, low nibble first.
func nibbles32(p, q archsimd.Uint8x16, even archsimd.Int8x32, order, four archsimd.Uint32x8) archsimd.Uint8x16 {
	u := archsimd.Uint8x32{}.SetLo(p).SetHi(q).AsUint32x8()
	// Each 16-bit lane's low byte becomes lo | hi<<4 (a 32-bit shift by 4
	// moves no bit of a 16-bit lane's high byte into the other's low byte;
	// a shift by a vector of counts, as ShiftAllRight compiles to a
	// legacy-SSE MOVQ of the count: see BenchmarkVectorToScalar).
	w := u.Or(u.ShiftRight(four)).AsUint8x32().PermuteOrZeroGrouped(even)
	return w.AsUint32x8().Permute(order).AsUint8x32().GetLo()
}

// quantizeRowAVX2 produces the same bytes as quantizeRowGeneric, as
// quantizeRowAVX512 does, 8 values a vector.
func quantizeRowAVX2(bits int, dst []byte, src []float32) {
	n := len(src)
	if n < 8 || (bits != 8 && bits != 4 && bits != 2) {
		quantizeRowGeneric(bits, dst, src)
		return
	}
	per := 8 / bits
	nb := (n + per - 1) / per
	dst = dst[:nb+4]
	mn, mx := minMaxAVX2(src)
	mn, _, inv, maxq, hs, hb := rowParams(bits, mn, mx)
	putScaleBias(dst[nb:], hs, hb)
	if bits == 2 {
		i := codes2AVX2(dst[:nb], src, mn, inv, maxq)
		codes2Tail(dst[:nb], src, i, mn, inv, maxq)
		return
	}
	codesAVX2(bits, dst[:nb], src, mn, inv, maxq)
}

// codesAVX2 writes the codes of src (bits 8 or 4) with the row's bias and
// inverse scale into dst[:RowBytes(bits, len(src))-4].
func codesAVX2(bits int, dst []byte, src []float32, mn, inv float32, maxq int32) {
	n := len(src)
	vmn, vinv := archsimd.BroadcastFloat32x8(mn), archsimd.BroadcastFloat32x8(inv)
	vzero, vtop := archsimd.BroadcastInt32x8(0), archsimd.BroadcastInt32x8(maxq)
	even, order := archsimd.LoadInt8x32(&evenBytes), archsimd.LoadUint32x8(&interleave)
	i := 0
	ps := unsafe.SliceData(src)
	if bits == 8 {
		_ = dst[n-1] // the codes' bytes: the loop stores dst[i:i+16], i+16 <= n
		pd := unsafe.SliceData(dst)
		for ; i+16 <= n; i += 16 {
			a := code8(f8(ps, i), vmn, vinv, vzero, vtop)
			b := code8(f8(ps, i+8), vmn, vinv, vzero, vtop)
			pack16(a, b, even, order).Store(b16(pd, i))
		}
	} else {
		order2, four := archsimd.LoadUint32x8(&halves), archsimd.BroadcastUint32x8(4)
		_ = dst[(n+1)/2-1] // the loop stores dst[i/2:i/2+16], i+32 <= n
		pd := unsafe.SliceData(dst)
		for ; i+32 <= n; i += 32 {
			p := pack16(code8(f8(ps, i), vmn, vinv, vzero, vtop), code8(f8(ps, i+8), vmn, vinv, vzero, vtop), even, order)
			q := pack16(code8(f8(ps, i+16), vmn, vinv, vzero, vtop), code8(f8(ps, i+24), vmn, vinv, vzero, vtop), even, order)
			nibbles32(p, q, even, order2, four).Store(b16(pd, i/2))
		}
		clear(dst[i/2:])
	}
	archsimd.ClearAVXUpperBits()
	for ; i < n; i++ {
		q := quantizeOne(src[i], mn, inv, maxq)
		if bits == 8 {
			dst[i] = byte(q)
		} else {
			dst[i/2] |= byte(q) << (uint(i%2) * 4)
		}
	}
}

func newRowQuantizerAVX2(bits, _ int) RowQuantizer { return rowKernel{bits, quantizeRowAVX2} }

// dequantizeRowAVX2 equals dequantizeRowGeneric exactly.
func dequantizeRowAVX2(bits int, dst []float32, src []byte) { nbitAVX2(bits, dst, src, false) }

// addRowNBitAVX2 equals addRowNBitGeneric.
func addRowNBitAVX2(bits int, dst []float32, src []byte) { nbitAVX2(bits, dst, src, true) }

// nbitAVX2 decodes a fused N-bit row into dst, 16 values a step (32 for
// 4 bits), or adds it to dst; as nbitAVX512, scale*code + bias with two
// roundings.
func nbitAVX2(bits int, dst []float32, src []byte, add bool) {
	n := len(dst)
	if n >= 8 && bits == 2 {
		nbit2Tail(dst, src, nbit2AVX2(dst, src, add), add)
		return
	}
	if n < 8 || (bits != 8 && bits != 4) {
		if add {
			addRowNBitGeneric(bits, dst, src)
		} else {
			dequantizeRowGeneric(bits, dst, src)
		}
		return
	}
	nb := (n*bits + 7) / 8
	sb := src[nb : nb+4]
	scale := halfArith(uint16(sb[0]) | uint16(sb[1])<<8)
	bias := halfArith(uint16(sb[2]) | uint16(sb[3])<<8)
	vs, vb := archsimd.BroadcastFloat32x8(scale), archsimd.BroadcastFloat32x8(bias)
	i := 0
	// src holds nb >= (i+16)*bits/8 code bytes past any step (sb above
	// checked them), dst n values.
	ps, pd := unsafe.SliceData(src), unsafe.SliceData(dst)
	if bits == 8 {
		for ; i+16 <= n; i += 16 {
			x := archsimd.LoadUint8x16(b16(ps, i)).ExtendToUint16()
			decode16(x, vs, vb, f8(pd, i), f8(pd, i+8), add)
		}
	} else {
		lo, hi := archsimd.BroadcastUint16x16(0x0f), archsimd.BroadcastUint16x16(0xf0)
		for ; i+32 <= n; i += 32 {
			// 16 bytes to 32 codes in order: each byte's low nibble to the
			// low byte of a 16-bit lane, its high nibble to the high byte.
			b := archsimd.LoadUint8x16(b16(ps, i/2)).ExtendToUint16()
			x := b.And(lo).Or(b.And(hi).ShiftAllLeft(4)).AsUint8x32()
			decode16(x.GetLo().ExtendToUint16(), vs, vb, f8(pd, i), f8(pd, i+8), add)
			decode16(x.GetHi().ExtendToUint16(), vs, vb, f8(pd, i+16), f8(pd, i+24), add)
		}
	}
	archsimd.ClearAVXUpperBits()
	per := 8 / bits
	mask := byte(1)<<bits - 1
	for ; i < n; i++ {
		q := (src[i/per] >> (uint(i%per) * uint(bits))) & mask
		v := float32(scale*float32(q)) + bias
		if add {
			v += dst[i]
		}
		dst[i] = v
	}
}

// decode16 decodes 16 codes, scale*code + bias each, into d0 and d1, added
// to what is there if add is set.
func decode16(x archsimd.Uint16x16, vs, vb archsimd.Float32x8, d0, d1 *[8]float32, add bool) {
	v0 := x.GetLo().ExtendToUint32().AsInt32x8().ConvertToFloat32().Mul(vs).Add(vb)
	v1 := x.GetHi().ExtendToUint32().AsInt32x8().ConvertToFloat32().Mul(vs).Add(vb)
	if add {
		v0 = archsimd.LoadFloat32x8(d0).Add(v0)
		v1 = archsimd.LoadFloat32x8(d1).Add(v1)
	}
	v0.Store(d0)
	v1.Store(d1)
}

// minMaxAVX2 is rowMinMax of a finite row of at least 8 values, in two
// pairs of 8-lane minima and maxima (one pair waits on the latency of the
// last). The row's last 8 values are loaded first, overlapping the steps
// where the length is no multiple of 8 (a value seen twice changes no
// minimum), and the lanes are folded in the vector (swapHalves, swapPairs,
// swapOnes of rowsbatch_avx2_amd64.go): a scalar fold and tail with Go's
// min and max, which handle NaNs and zeros' signs, cost more than the rest
// of a 64-value row.
func minMaxAVX2(src []float32) (float32, float32) {
	n := len(src)
	min0 := archsimd.LoadFloat32x8((*[8]float32)(src[n-8:]))
	max0, min1, max1 := min0, min0, min0
	p, i := unsafe.SliceData(src), 0
	for ; i+16 <= n; i += 16 {
		a := archsimd.LoadFloat32x8(f8(p, i))
		b := archsimd.LoadFloat32x8(f8(p, i+8))
		min0, max0 = min0.Min(a), max0.Max(a)
		min1, max1 = min1.Min(b), max1.Max(b)
	}
	if i+8 <= n {
		a := archsimd.LoadFloat32x8(f8(p, i))
		min0, max0 = min0.Min(a), max0.Max(a)
	}
	lo, hi := min0.Min(min1), max0.Max(max1)
	p1, p2, p3 := archsimd.LoadUint32x8(&swapHalves), archsimd.LoadUint32x8(&swapPairs), archsimd.LoadUint32x8(&swapOnes)
	lo, hi = lo.Min(lo.Permute(p1)), hi.Max(hi.Permute(p1))
	lo, hi = lo.Min(lo.Permute(p2)), hi.Max(hi.Permute(p2))
	lo, hi = lo.Min(lo.Permute(p3)), hi.Max(hi.Permute(p3))
	var l, h [8]float32
	lo.Store(&l)
	hi.Store(&h)
	archsimd.ClearAVXUpperBits()
	mn, mx := l[0], h[0]
	if mn == 0 {
		mn = firstZero(src)
	}
	if mx == 0 {
		mx = firstZero(src)
	}
	return mn, mx
}

// sumSquaredDiffAVX2 equals sumSquaredDiffGeneric bit for bit: lanes 0-3
// and 4-7 in two accumulators, a multiply then an add, and a max that
// takes no NaN difference.
func sumSquaredDiffAVX2(a, b []float32) (float64, float64) {
	b = b[:len(a)]
	n := len(a)
	var acc0, acc1, top archsimd.Float64x4
	absMask := archsimd.BroadcastUint64x4(1<<63 - 1)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := archsimd.LoadFloat32x8((*[8]float32)(a[i : i+8]))
		y := archsimd.LoadFloat32x8((*[8]float32)(b[i : i+8]))
		d := x.GetLo().ConvertToFloat64().Sub(y.GetLo().ConvertToFloat64())
		acc0 = acc0.Add(d.Mul(d))
		// A NaN difference counts as 0, as the portable loop skips it.
		top = d.AsUint64x4().And(absMask).AsFloat64x4().Masked(d.Equal(d)).Max(top)
		d = x.GetHi().ConvertToFloat64().Sub(y.GetHi().ConvertToFloat64())
		acc1 = acc1.Add(d.Mul(d))
		top = d.AsUint64x4().And(absMask).AsFloat64x4().Masked(d.Equal(d)).Max(top)
	}
	var lane [8]float64
	var m [4]float64
	acc0.Store((*[4]float64)(lane[:4]))
	acc1.Store((*[4]float64)(lane[4:]))
	top.Store(&m)
	archsimd.ClearAVXUpperBits()
	maxAbs := max4(&m)
	for ; i < n; i++ {
		d := float64(a[i]) - float64(b[i])
		lane[i%8] += float64(d * d)
		if d < 0 {
			d = -d
		}
		if d > maxAbs {
			maxAbs = d
		}
	}
	sse := 0.0
	for _, l := range lane {
		sse += l
	}
	return sse, maxAbs
}

// max4 is the largest of the lanes' maxima, which are never NaN.
func max4(l *[4]float64) float64 {
	x := l[0]
	for _, v := range l[1:] {
		if v > x {
			x = v
		}
	}
	return x
}
