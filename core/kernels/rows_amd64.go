//go:build goexperiment.simd && amd64 && !purego

package kernels

import (
	"encoding/binary"
	"simd/archsimd"
)

// foldLo and foldHi pick, at each of four levels, the two halves of two
// vectors' partial minima (or maxima) to be combined: level w (8, 4, 2, 1
// partials a row) keeps the rows in order, lane l of the result taking the
// partials (l/w)*2w + l%w and that + w of the pair.
var foldLo, foldHi [4][16]uint32

func init() {
	for lvl, w := range []int{8, 4, 2, 1} {
		for l := range 16 {
			lo := l/w*2*w + l%w
			foldLo[lvl][l], foldHi[lvl][l] = uint32(lo), uint32(lo+w)
		}
	}
}

// fold16 turns 16 rows' lane-wise minima and maxima into one vector each,
// lane j holding row j's minimum (maximum): 15 two-register permutes and
// compares a level-halving tree, where reducing each row on its own takes
// four extractions and the scalar compares after them.
func fold16(mins, maxs *[16]archsimd.Float32x16) (archsimd.Float32x16, archsimd.Float32x16) {
	n := 16
	for lvl := range 4 {
		lo, hi := archsimd.LoadUint32x16(&foldLo[lvl]), archsimd.LoadUint32x16(&foldHi[lvl])
		n /= 2
		for k := range n {
			a, b := mins[2*k], mins[2*k+1]
			mins[k] = a.ConcatPermute(b, lo).Min(a.ConcatPermute(b, hi))
			a, b = maxs[2*k], maxs[2*k+1]
			maxs[k] = a.ConcatPermute(b, lo).Max(a.ConcatPermute(b, hi))
		}
	}
	return mins[0], maxs[0]
}

// rowParams16 is rowParams for 16 rows at once, for the rows (bit j of ok
// set) whose bias and scale round to finite halves and whose minimum is not
// zero (the scalar code takes the sign of a zero minimum from the row).
// There each lane repeats rowParams's float32 operations, or rounds exactly
// as its call to FloatToHalf does, so the results are the same bits; the
// other rows must go through rowParams.
func rowParams16(bits int, mn, mx archsimd.Float32x16) (bias, inv archsimd.Float32x16, tail archsimd.Uint32x16, ok uint16) {
	bias, hb, okB := roundHalf16(mn, false)
	rng := mx.Sub(bias)
	one, zero := archsimd.BroadcastFloat32x16(1), archsimd.BroadcastFloat32x16(0)
	scale := rng.Div(archsimd.BroadcastFloat32x16(float32(int32(1)<<bits - 1)))
	scale = scale.Merge(one, rng.NotEqual(zero))
	scale, hs, okS := roundHalf16(scale, true)
	// A scale that rounds to zero is taken as 1 (and so its half, 0x3c00).
	nz := scale.NotEqual(zero)
	scale = scale.Merge(one, nz)
	hs = hs.Merge(archsimd.BroadcastUint32x16(0x3c00), nz)
	inv = one.Div(scale)
	return bias, inv, hs.Or(hb.ShiftLeft(archsimd.BroadcastUint32x16(16))), okB.And(okS).ToBits()
}

// roundHalf16 rounds each lane of v to the nearest binary16 value, ties to
// even, and gives it as a float32 and as half bits; ok is false for lanes
// that round to infinity or are not finite, and for lanes that are zero
// unless zeroOK. Normal halves round at bit 13 of the float's bits, as
// rowParams does; subnormal ones to a multiple of 2^-24, exactly (the
// scalings by powers of two are exact), as FloatToHalf does.
func roundHalf16(v archsimd.Float32x16, zeroOK bool) (archsimd.Float32x16, archsimd.Uint32x16, archsimd.Mask32x16) {
	b := v.AsUint32x16()
	s := b.And(archsimd.BroadcastUint32x16(0x80000000))
	m := b.And(archsimd.BroadcastUint32x16(0x7fffffff))
	lo, hi := archsimd.BroadcastUint32x16(113<<23), archsimd.BroadcastUint32x16(143<<23)
	// Normal: m += 0xfff + (m>>13)&1, then the low 13 bits dropped.
	// Shifts by vectors of counts, as in halfErrorsAVX2.
	thirteen := archsimd.BroadcastUint32x16(13)
	r := m.Add(archsimd.BroadcastUint32x16(0xfff)).Add(m.ShiftRight(thirteen).And(archsimd.BroadcastUint32x16(1))).
		AndNot(archsimd.BroadcastUint32x16(0x1fff))
	h := r.ShiftRight(thirteen).Sub(archsimd.BroadcastUint32x16(112 << 10))
	normal := m.GreaterEqual(lo)
	ok := r.Less(hi)
	// Subnormal: k = rint(|v| * 2^24) is the half's bits, k * 2^-24 its value.
	k := m.AsFloat32x16().Mul(archsimd.BroadcastFloat32x16(0x1p24)).RoundToEvenScaled(0)
	r = r.Merge(k.Mul(archsimd.BroadcastFloat32x16(0x1p-24)).AsUint32x16(), normal)
	h = h.Merge(k.ConvertToInt32().AsUint32x16(), normal)
	sub := m.Less(lo)
	if !zeroOK {
		sub = sub.And(m.NotEqual(archsimd.BroadcastUint32x16(0)))
	}
	return s.Or(r).AsFloat32x16(), s.ShiftRight(archsimd.BroadcastUint32x16(16)).Or(h), ok.And(normal).Or(sub)
}

// rowQuantizerAVX512 is the RowQuantizer of the SIMD build for widths that
// are a multiple of 16. Add reads its row once, for the lane-wise minima
// and maxima; every 16 rows (and at Flush) these are folded into one vector
// each, the rows' parameters computed side by side (two vector divisions
// for 16 rows, where one row at a time waits on two scalar ones), and the
// codes written, the rows still in the cache. Rows whose parameters leave
// the common case go through the one-row kernel.
type rowQuantizerAVX512 struct {
	bits, dim, n int
	dst          [16][]byte
	src          [16][]float32
	mins, maxs   [16]archsimd.Float32x16
}

func (q *rowQuantizerAVX512) Add(dst []byte, src []float32) {
	src = src[:q.dim]
	vmin := archsimd.LoadFloat32x16((*[16]float32)(src[:16]))
	vmax := vmin
	for i := 16; i < len(src); i += 16 {
		v := archsimd.LoadFloat32x16((*[16]float32)(src[i : i+16]))
		vmin, vmax = vmin.Min(v), vmax.Max(v)
	}
	q.mins[q.n], q.maxs[q.n] = vmin, vmax
	archsimd.ClearAVXUpperBits() // the caller's scalar code follows (rows_avx2_amd64.go)
	q.dst[q.n], q.src[q.n] = dst, src
	if q.n++; q.n == 16 {
		q.encode()
	}
}

func (q *rowQuantizerAVX512) Flush() {
	if q.n > 0 {
		q.encode()
	}
}

// encode writes the q.n rows gathered; lanes past them repeat the first
// row and are not used.
func (q *rowQuantizerAVX512) encode() {
	for j := q.n; j < 16; j++ {
		q.mins[j], q.maxs[j] = q.mins[0], q.maxs[0]
	}
	mn, mx := fold16(&q.mins, &q.maxs)
	bias, inv, tail, ok := rowParams16(q.bits, mn, mx)
	var biases, invs [16]float32
	var tails [16]uint32
	bias.Store(&biases)
	inv.Store(&invs)
	tail.Store(&tails)
	nb := RowBytes(q.bits, q.dim) - 4
	maxq := int32(1)<<q.bits - 1
	// codesAVX512's loops in line, with the constants made once for the 16
	// rows rather than once a row.
	vzero, vtop := archsimd.BroadcastInt32x16(0), archsimd.BroadcastInt32x16(maxq)
	lo, hi := archsimd.BroadcastInt16x16(0x0f), archsimd.BroadcastInt16x16(0xf0)
	for j := range q.n {
		out, row := q.dst[j][:nb+4], q.src[j]
		q.dst[j], q.src[j] = nil, nil
		if ok&(1<<j) == 0 {
			archsimd.ClearAVXUpperBits() // its float code follows (rows_avx2_amd64.go)
			quantizeRowAVX512(q.bits, out, row)
			continue
		}
		binary.LittleEndian.PutUint32(out[nb:], tails[j])
		// Row j's parameters taken from the vectors: loading them from
		// biases and invs is a legacy-SSE MOVSS, which pays the transition
		// of BenchmarkVectorToScalar at every row.
		idx := archsimd.BroadcastUint32x16(uint32(j))
		vmn, vinv := bias.Permute(idx), inv.Permute(idx)
		switch {
		case q.bits == 8:
			for i := 0; i+16 <= len(row); i += 16 {
				code16((*[16]float32)(row[i:i+16]), vmn, vinv, vzero, vtop).AsUint8x16().Store((*[16]uint8)(out[i : i+16]))
			}
		case len(row)%32 == 0:
			for i := 0; i+32 <= len(row); i += 32 {
				pack32(code16((*[16]float32)(row[i:i+16]), vmn, vinv, vzero, vtop), code16((*[16]float32)(row[i+16:i+32]), vmn, vinv, vzero, vtop), lo, hi).
					Store((*[16]uint8)(out[i/2 : i/2+16]))
			}
		default:
			archsimd.ClearAVXUpperBits() // before float arguments move
			codesAVX512(q.bits, out[:nb], row, biases[j], invs[j], maxq)
		}
	}
	archsimd.ClearAVXUpperBits()
	q.n = 0
}

func newRowQuantizerAVX512(bits, dim int) RowQuantizer {
	if dim%16 != 0 || dim == 0 || (bits != 8 && bits != 4) {
		return rowKernel{bits, quantizeRowAVX512}
	}
	return &rowQuantizerAVX512{bits: bits, dim: dim}
}
