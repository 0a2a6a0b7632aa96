//go:build goexperiment.simd && amd64 && !purego

package kernels

import (
	"simd/archsimd"
	"strings"
	"unsafe"
)

// registerSIMD, run while the package's variables are initialized (before
// dispatch.go's init reads SHARK_KERNELS), adds the sets this CPU can run.
// The SIMD sets need AVX2 and FMA (dotAVX2 uses it; every AVX-512 CPU has
// both); F16C, where the CPU has it, is part of both.
var _ = registerSIMD()

func registerSIMD() bool {
	x := archsimd.X86
	if x.AVX2() && x.FMA() {
		allowed = append([]string{SetAVX2}, allowed...)
		if x.AVX512() {
			allowed = append([]string{SetAVX512}, allowed...)
		}
	}
	simdInit = installSIMD
	return true
}

// installSIMD installs the kernels of the set named (avx2 or avx512, one
// this CPU can run) over the portable ones.
func installSIMD(name string) {
	parts := []string{"avx2"}
	prefetch, prefetching = prefetchSSE, true // PREFETCHT0 is in every amd64 CPU
	dot, axpy = dotAVX2, axpyAVX2
	addRowF32 = addRowF32AVX2
	quantizeRow, dequantizeRow = quantizeRowAVX2, dequantizeRowAVX2
	newRowQuantizer = newRowQuantizerAVX2
	sumSquaredDiff = sumSquaredDiffAVX2
	addRowNBit = addRowNBitAVX2
	rowErrors, rowNorm, tierError = rowErrorsAVX2, rowNormAVX2, tierErrorAVX2
	rowErrors4 = rowErrors4Composed
	rowsErrorsKernel = rowsErrorsAVX2
	quantizeRowError = quantizeRowErrorAVX2
	if name == SetAVX512 {
		quantizeRow, dequantizeRow = quantizeRowAVX512, dequantizeRowAVX512
		newRowQuantizer = newRowQuantizerAVX512
		sumSquaredDiff = sumSquaredDiffAVX512
		addRowNBit = addRowNBitAVX512
		rowErrors, rowNorm, tierError = rowErrorsAVX512, rowNormAVX512, tierErrorAVX512
		// quantizeRowError stays quantizeRowErrorAVX2: one walk of 8 lanes
		// against the AVX-512 quantizer and rowwise error of 16 (about 3
		// and 6 ns a value on the Xeon of BENCHMARKS.md's kernel table).
		// rowsErrorsKernel stays rowsErrorsAVX2: a batch of rows measured
		// 8 at a time took half the time of rowErrorsAVX512 a row
		// (BenchmarkRowsErrors, Xeon with AVX-512).
		parts = append(parts, "avx512")
	}
	if hasF16C() {
		floatsToHalves, halvesToFloats, halfBytesToFloats = floatsToHalvesF16C, halvesToFloatsF16C, halfBytesToFloatsF16C
		addRowF16 = addRowF16F16C
		floatsToHalfBytes = floatsToHalfBytesF16C
		parts = append(parts, "f16c")
	}
	impl = strings.Join(parts, "+")
}

// dotAVX2 equals dotGeneric up to the order of the additions (four 8-wide
// accumulators, then a horizontal sum), so within a few ulps of the sum.
func dotAVX2(x, y []float32) float32 {
	y = y[:len(x)]
	n := len(x)
	var a0, a1, a2, a3 archsimd.Float32x8
	i := 0
	for ; i+32 <= n; i += 32 {
		a0 = archsimd.LoadFloat32x8Slice(x[i:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i:]), a0)
		a1 = archsimd.LoadFloat32x8Slice(x[i+8:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i+8:]), a1)
		a2 = archsimd.LoadFloat32x8Slice(x[i+16:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i+16:]), a2)
		a3 = archsimd.LoadFloat32x8Slice(x[i+24:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i+24:]), a3)
	}
	for ; i+8 <= n; i += 8 {
		a0 = archsimd.LoadFloat32x8Slice(x[i:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i:]), a0)
	}
	var lanes [8]float32
	a0.Add(a1).Add(a2.Add(a3)).StoreSlice(lanes[:])
	archsimd.ClearAVXUpperBits() // before scalar float code (rows_avx2_amd64.go)
	s := ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
	for ; i < n; i++ {
		s += x[i] * y[i]
	}
	return s
}

// sumSquaredDiffAVX512 equals sumSquaredDiffGeneric bit for bit: the same
// eight lanes, a multiply then an add (no fused multiply-add), and a max
// that, like the portable comparison, keeps the running value when the
// difference is NaN or equal to it.
func sumSquaredDiffAVX512(a, b []float32) (float64, float64) {
	b = b[:len(a)]
	n := len(a)
	var acc, mx archsimd.Float64x8
	absMask := archsimd.BroadcastUint64x8(1<<63 - 1)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := archsimd.LoadFloat32x8((*[8]float32)(a[i : i+8])).ConvertToFloat64()
		y := archsimd.LoadFloat32x8((*[8]float32)(b[i : i+8])).ConvertToFloat64()
		d := x.Sub(y)
		acc = acc.Add(d.Mul(d))
		// MAXPD returns its second operand when either is NaN or both are
		// equal: the running max, as the portable loop keeps it.
		mx = d.AsUint64x8().And(absMask).AsFloat64x8().Max(mx)
	}
	var lane, m [8]float64
	acc.Store(&lane)
	mx.Store(&m)
	archsimd.ClearAVXUpperBits()
	maxAbs := 0.0
	for _, v := range m {
		if v > maxAbs {
			maxAbs = v
		}
	}
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

// axpyAVX2 equals axpyGeneric exactly: a multiply, then an add, each
// rounded (no fused multiply-add, as the portable loop on amd64).
func axpyAVX2(a float32, x, y []float32) {
	y = y[:len(x)]
	n := len(x)
	va := archsimd.BroadcastFloat32x8(a)
	i := 0
	for ; i+8 <= n; i += 8 {
		archsimd.LoadFloat32x8Slice(y[i:]).Add(va.Mul(archsimd.LoadFloat32x8Slice(x[i:]))).StoreSlice(y[i:])
	}
	archsimd.ClearAVXUpperBits()
	for ; i < n; i++ {
		y[i] += a * x[i]
	}
}

// quantizeRowAVX512 produces the same bytes as quantizeRowGeneric: the row
// parameters come from the same scalar code, and each code from the same two
// roundings (subtract, multiply), round-to-even and clamp, 16 at a time.
func quantizeRowAVX512(bits int, dst []byte, src []float32) {
	n := len(src)
	if n < 16 || (bits != 8 && bits != 4 && bits != 2) {
		quantizeRowGeneric(bits, dst, src)
		return
	}
	per := 8 / bits
	nb := (n + per - 1) / per
	dst = dst[:nb+4]
	mn, mx := minMaxAVX512(src)
	mn, _, inv, maxq, hs, hb := rowParams(bits, mn, mx)
	putScaleBias(dst[nb:], hs, hb)
	if bits == 2 {
		i := codes2AVX512(dst[:nb], src, mn, inv, maxq)
		codes2Tail(dst[:nb], src, i, mn, inv, maxq)
		return
	}
	codesAVX512(bits, dst[:nb], src, mn, inv, maxq)
}

// codesAVX512 writes the codes of src (len(src) >= 16, bits 8 or 4) with
// the row's bias and inverse scale into dst[:RowBytes(bits, len(src))-4].
func codesAVX512(bits int, dst []byte, src []float32, mn, inv float32, maxq int32) {
	n := len(src)
	nb := len(dst)
	vmn, vinv := archsimd.BroadcastFloat32x16(mn), archsimd.BroadcastFloat32x16(inv)
	vzero, vtop := archsimd.BroadcastInt32x16(0), archsimd.BroadcastInt32x16(maxq)
	i := 0
	if bits == 4 {
		// 32 codes to 16 bytes a step, with a whole-register store (the
		// 8-byte store below is a call).
		lo, hi := archsimd.BroadcastInt16x16(0x0f), archsimd.BroadcastInt16x16(0xf0)
		for ; i+32 <= n; i += 32 {
			pack32(code16((*[16]float32)(src[i:i+16]), vmn, vinv, vzero, vtop), code16((*[16]float32)(src[i+16:i+32]), vmn, vinv, vzero, vtop), lo, hi).
				Store((*[16]uint8)(dst[i/2 : i/2+16]))
		}
	}
	for ; i+16 <= n; i += 16 {
		q := code16((*[16]float32)(src[i:i+16]), vmn, vinv, vzero, vtop)
		if bits == 8 {
			q.AsUint8x16().StoreSlice(dst[i:])
			continue
		}
		// Two 4-bit codes per byte, low nibble first.
		u := q.AsInt16x8()
		p := u.And(archsimd.BroadcastInt16x8(0x0f)).Or(u.ShiftAllRight(4).And(archsimd.BroadcastInt16x8(0xf0)))
		p.TruncateToInt8().AsUint8x16().StoreSlicePart(dst[i/2 : i/2+8])
	}
	archsimd.ClearAVXUpperBits()
	if bits == 4 {
		clear(dst[i/2 : nb])
	}
	for ; i < n; i++ {
		q := quantizeOne(src[i], mn, inv, maxq)
		if bits == 8 {
			dst[i] = byte(q)
		} else {
			dst[i/2] |= byte(q) << (uint(i%2) * 4)
		}
	}
}

// code16 is quantizeOne of 16 values: the same subtract and multiply, each
// rounded, round to even, and clamp to [0, top].
func code16(src *[16]float32, vmn, vinv archsimd.Float32x16, vzero, vtop archsimd.Int32x16) archsimd.Int8x16 {
	x := archsimd.LoadFloat32x16(src).Sub(vmn).Mul(vinv)
	return x.RoundToEvenScaled(0).ConvertToInt32().Max(vzero).Min(vtop).TruncateToInt8()
}

// pack32 packs 32 4-bit codes into 16 bytes, low nibble first (lo and hi
// are the nibble masks 0x0f and 0xf0).
func pack32(a, b archsimd.Int8x16, lo, hi archsimd.Int16x16) archsimd.Uint8x16 {
	u := archsimd.Int8x32{}.SetLo(a).SetHi(b).AsInt16x16()
	return u.And(lo).Or(u.ShiftAllRight(4).And(hi)).TruncateToInt8().AsUint8x16()
}

// dequantizeRowAVX512 equals dequantizeRowGeneric exactly.
func dequantizeRowAVX512(bits int, dst []float32, src []byte) { nbitAVX512(bits, dst, src, false) }

// addRowNBitAVX512 equals addRowNBitGeneric.
func addRowNBitAVX512(bits int, dst []float32, src []byte) { nbitAVX512(bits, dst, src, true) }

// nbitAVX512 decodes a fused N-bit row 16 values at a time into dst, or
// adds it to dst.
func nbitAVX512(bits int, dst []float32, src []byte, add bool) {
	n := len(dst)
	if n >= 16 && bits == 2 {
		nbit2Tail(dst, src, nbit2AVX512(dst, src, add), add)
		return
	}
	if n < 16 || (bits != 8 && bits != 4) {
		if add {
			addRowNBitGeneric(bits, dst, src)
		} else {
			dequantizeRowGeneric(bits, dst, src)
		}
		return
	}
	// ScaleBias, inlined: a call here costs as much as a quarter of the row.
	nb := (n*bits + 7) / 8
	sb := src[nb : nb+4]
	scale := halfArith(uint16(sb[0]) | uint16(sb[1])<<8)
	bias := halfArith(uint16(sb[2]) | uint16(sb[3])<<8)
	vs, vb := archsimd.BroadcastFloat32x16(scale), archsimd.BroadcastFloat32x16(bias)
	lo, hi := archsimd.BroadcastUint16x16(0x0f), archsimd.BroadcastUint16x16(0xf0)
	i := 0
	// 32 codes a step from whole-register loads through array pointers (one
	// bounds check each); the 16-code steps below take the rest. A partial
	// load is a call, and a call in the loop makes the compiler keep the
	// constants on the stack.
	if bits == 8 {
		for ; i+32 <= n; i += 32 {
			x := archsimd.LoadUint8x32((*[32]uint8)(src[i : i+32]))
			addCodes32(x, vs, vb, (*[16]float32)(dst[i:i+16]), (*[16]float32)(dst[i+16:i+32]), add)
		}
	} else {
		for ; i+32 <= n; i += 32 {
			b := archsimd.LoadUint8x16((*[16]uint8)(src[i/2 : i/2+16])).ExtendToUint16()
			x := b.And(lo).Or(b.And(hi).ShiftAllLeft(4)).AsUint8x32()
			addCodes32(x, vs, vb, (*[16]float32)(dst[i:i+16]), (*[16]float32)(dst[i+16:i+32]), add)
		}
	}
	archsimd.ClearAVXUpperBits()
	if i < n {
		nbitTail(bits, dst, src, i, scale, bias, add)
	}
}

// nbitTail is nbitAVX512 from value i on, for the values the 32-code steps
// leave. Kept out of nbitAVX512, whose constants then stay in registers: the
// partial load here is a call.
//
//go:noinline
func nbitTail(bits int, dst []float32, src []byte, i int, scale, bias float32, add bool) {
	n := len(dst)
	vs, vb := archsimd.BroadcastFloat32x16(scale), archsimd.BroadcastFloat32x16(bias)
	lo, hi := archsimd.BroadcastUint16x16(0x0f), archsimd.BroadcastUint16x16(0xf0)
	for ; i+16 <= n; i += 16 {
		var c archsimd.Float32x16
		if bits == 8 {
			c = archsimd.LoadUint8x16Slice(src[i:]).ExtendToUint32().ConvertToFloat32()
		} else {
			// 8 bytes to 16 codes in order: each byte's low nibble to the
			// low byte of a 16-bit lane, its high nibble to the high byte.
			b := archsimd.LoadUint8x16SlicePart(src[i/2 : i/2+8]).ExtendToUint16()
			c = b.And(lo).Or(b.And(hi).ShiftAllLeft(4)).AsUint8x32().GetLo().ExtendToUint32().ConvertToFloat32()
		}
		v := c.Mul(vs).Add(vb)
		if add {
			v = archsimd.LoadFloat32x16Slice(dst[i:]).Add(v)
		}
		v.StoreSlice(dst[i:])
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

// addCodes32 decodes 32 codes, scale*code + bias each (two roundings, as
// the portable loop), and stores them to d0 and d1, added to what is there
// if add is set.
func addCodes32(x archsimd.Uint8x32, vs, vb archsimd.Float32x16, d0, d1 *[16]float32, add bool) {
	v0 := x.GetLo().ExtendToUint32().ConvertToFloat32().Mul(vs).Add(vb)
	v1 := x.GetHi().ExtendToUint32().ConvertToFloat32().Mul(vs).Add(vb)
	if add {
		v0 = archsimd.LoadFloat32x16(d0).Add(v0)
		v1 = archsimd.LoadFloat32x16(d1).Add(v1)
	}
	v0.Store(d0)
	v1.Store(d1)
}

// addRowF32AVX2 equals addRowF32Generic (amd64 is little-endian: the bytes
// are the floats; unaligned loads are fine).
func addRowF32AVX2(dst []float32, src []byte) {
	n := len(dst)
	if n == 0 {
		return
	}
	x := unsafe.Slice((*float32)(unsafe.Pointer(&src[:4*n][0])), n)
	i := 0
	for ; i+8 <= n; i += 8 {
		archsimd.LoadFloat32x8Slice(dst[i:]).Add(archsimd.LoadFloat32x8Slice(x[i:])).StoreSlice(dst[i:])
	}
	archsimd.ClearAVXUpperBits()
	for ; i < n; i++ {
		dst[i] += x[i]
	}
}

// rowErrors4Composed is RowErrors4 from the kernels in use: rowErrors, then
// tierError(3). The SIMD sets use it: their passes are a tier each, so a
// fourth costs a pass (and the minimum and maximum again) either way.
func rowErrors4Composed(row []float32) (TierErrors4, bool) {
	e, ok := rowErrors(row)
	if !ok {
		return TierErrors4{}, false
	}
	f := TierErrors4{SumSquares: e.SumSquares}
	copy(f.SSE[:], e.SSE[:])
	copy(f.MaxAbs[:], e.MaxAbs[:])
	f.SSE[3], f.MaxAbs[3] = tierError(3, row)
	return f, true
}
