//go:build goexperiment.simd && amd64 && !purego

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// quantizeRowErrorAVX2 equals quantizeRowErrorComposed with the AVX2
// kernels (quantizeRowAVX2, then tierErrorAVX2), in one walk of the row:
// the same minimum, maximum and parameters, each step's codes stored as
// codesAVX2 stores them and decoded into the same lane sums and maxima as
// codecErrorsAVX2's, and the same scalar tails.
func quantizeRowErrorAVX2(bits int, dst []byte, src []float32) (float64, float64) {
	n := len(src)
	if n < 8 || (bits != 8 && bits != 4) {
		return quantizeRowErrorComposed(bits, dst, src)
	}
	per := 8 / bits
	nb := (n + per - 1) / per
	dst = dst[:nb+4]
	mn, mx := minMaxAVX2(src)
	b, s, inv, maxq, hs, hb := rowParams(bits, mn, mx)
	putScaleBias(dst[nb:], hs, hb)
	var l [8]float64
	var m [4]float64
	i := codesErrorsAVX2(bits, dst[:nb], src, b, s, inv, maxq, &l, &m)
	if !codecFits(b, s) {
		m = [4]float64{} // as codecErrorsAVX2: NaN differences are no maximum
	}
	codesTail(bits, dst[:nb], src, i, b, inv, maxq)
	maxAbs := max4(&m)
	for j := n &^ 7; j < n; j++ { // tierErrorAVX2's tail
		v := src[j]
		d := float64(v) - float64(float32(s*float32(quantizeOne(v, b, inv, maxq)))+b)
		l[j%8] += float64(d * d)
		maxAbs = maxAbsOf(maxAbs, d)
	}
	return 0.0 + l[0] + l[1] + l[2] + l[3] + l[4] + l[5] + l[6] + l[7], maxAbs
}

// codesTail writes the codes of src from i on, as codesAVX2's tail does
// (for 4 bits, the bytes from i/2 on cleared first).
func codesTail(bits int, dst []byte, src []float32, i int, mn, inv float32, maxq int32) {
	if bits == 4 {
		clear(dst[i/2:])
	}
	for ; i < len(src); i++ {
		q := quantizeOne(src[i], mn, inv, maxq)
		if bits == 8 {
			dst[i] = byte(q)
		} else {
			dst[i/2] |= byte(q) << (uint(i%2) * 4)
		}
	}
}

// codesErrorsAVX2 stores the codes of src's whole steps (16 values for 8
// bits, 32 for 4) into dst and adds the decoded values' squared
// differences and largest magnitudes of every whole 8 values into l and m
// (codecErrorsAVX2's lanes); it returns where the stored codes end. Each
// 8 values' step is written out (codeStep's body): as a method of a
// struct of the constants, it kept them in memory.
func codesErrorsAVX2(bits int, dst []byte, src []float32, bias, scale, inv float32, maxq int32, l *[8]float64, m *[4]float64) int {
	n := len(src)
	vb, vs, vi := archsimd.BroadcastFloat32x8(bias), archsimd.BroadcastFloat32x8(scale), archsimd.BroadcastFloat32x8(inv)
	zero, vtop := archsimd.BroadcastInt32x8(0), archsimd.BroadcastInt32x8(maxq)
	absMask := archsimd.BroadcastUint64x4(1<<63 - 1)
	even, order := archsimd.LoadInt8x32(&evenBytes), archsimd.LoadUint32x8(&interleave)
	var acc lanes8
	var top archsimd.Float64x4
	ps, pd := unsafe.SliceData(src), unsafe.SliceData(dst)
	i := 0
	if bits == 8 {
		_ = dst[n-1] // the loop stores dst[i:i+16], i+16 <= n
		for ; i+16 <= n; i += 16 {
			va, vc := archsimd.LoadFloat32x8(f8(ps, i)), archsimd.LoadFloat32x8(f8(ps, i+8))
			qa := va.Sub(vb).Mul(vi).RoundToEven().ConvertToInt32().Max(zero).Min(vtop)
			qc := vc.Sub(vb).Mul(vi).RoundToEven().ConvertToInt32().Max(zero).Min(vtop)
			pack16(qa, qc, even, order).Store(b16(pd, i))
			acc, top = addDiffNoNaN(va, qa.ConvertToFloat32().Mul(vs).Add(vb), acc, top, absMask)
			acc, top = addDiffNoNaN(vc, qc.ConvertToFloat32().Mul(vs).Add(vb), acc, top, absMask)
		}
	} else {
		_ = dst[(n+1)/2-1] // the loop stores dst[i/2:i/2+16], i+32 <= n
		order2, four := archsimd.LoadUint32x8(&halves), archsimd.BroadcastUint32x8(4)
		for ; i+32 <= n; i += 32 {
			var q [4]archsimd.Int32x8
			for k := range q {
				v := archsimd.LoadFloat32x8(f8(ps, i+8*k))
				q[k] = v.Sub(vb).Mul(vi).RoundToEven().ConvertToInt32().Max(zero).Min(vtop)
				acc, top = addDiffNoNaN(v, q[k].ConvertToFloat32().Mul(vs).Add(vb), acc, top, absMask)
			}
			nibbles32(pack16(q[0], q[1], even, order), pack16(q[2], q[3], even, order), even, order2, four).Store(b16(pd, i/2))
		}
	}
	for j := i; j+8 <= n; j += 8 { // the errors of whole 8s past the codes' steps
		v := archsimd.LoadFloat32x8(f8(ps, j))
		q := v.Sub(vb).Mul(vi).RoundToEven().ConvertToInt32().Max(zero).Min(vtop)
		acc, top = addDiffNoNaN(v, q.ConvertToFloat32().Mul(vs).Add(vb), acc, top, absMask)
	}
	acc.store(l)
	top.Store(m)
	archsimd.ClearAVXUpperBits()
	return i
}

// quantizeRowErrorComposed is QuantizeRowError by the two kernels in use,
// for the rows quantizeRowErrorAVX2 leaves to them (only that kernel needs
// it, so it lives with it: the portable build would hold it unused).
func quantizeRowErrorComposed(bits int, dst []byte, src []float32) (float64, float64) {
	quantizeRow(bits, dst, src)
	return tierError(tierOfBits(bits), src)
}
