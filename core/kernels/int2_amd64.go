//go:build goexperiment.simd && amd64 && !purego

package kernels

import "simd/archsimd"

// The 2-bit codec's SIMD loops: codes four to a byte, from the low bits
// up. Each code is quantizeOne's, by code16's (code8's) roundings, and each
// decoded value scale*q + bias with two roundings, as the portable loops;
// so the same bytes and values.
//
// Four codes c0..c3, one a byte of a 32-bit lane L, pack into L's low byte
// as L | L>>6 | L>>12 | L>>18 (each code is below 4, so no bits collide);
// and a byte b in a 32-bit lane unpacks into four code bytes as
// (b | b<<6 | b<<12 | b<<18) & 0x03030303.

// codes2AVX512 writes the 2-bit codes of src (len(src) >= 16) with the
// row's bias and inverse scale into dst, up to value i, which it returns
// (a multiple of 16); codes2Tail writes the rest. The tail is the caller's:
// a float argument live after the vector loop is reloaded inside it by a
// legacy-SSE MOVSS, which pays the transition of BenchmarkVectorToScalar
// at every step.
func codes2AVX512(dst []byte, src []float32, mn, inv float32, maxq int32) int {
	n := len(src)
	vmn, vinv := archsimd.BroadcastFloat32x16(mn), archsimd.BroadcastFloat32x16(inv)
	vzero, vtop := archsimd.BroadcastInt32x16(0), archsimd.BroadcastInt32x16(maxq)
	// Shifts by vectors of counts (rows_avx2_amd64.go: a count in a
	// general register is moved by a legacy-SSE instruction).
	s6, s12, s18 := archsimd.BroadcastUint32x16(6), archsimd.BroadcastUint32x16(12), archsimd.BroadcastUint32x16(18)
	i := 0
	for ; i+64 <= n; i += 64 {
		ab := archsimd.Int8x32{}.SetLo(code16((*[16]float32)(src[i:i+16]), vmn, vinv, vzero, vtop)).
			SetHi(code16((*[16]float32)(src[i+16:i+32]), vmn, vinv, vzero, vtop))
		cd := archsimd.Int8x32{}.SetLo(code16((*[16]float32)(src[i+32:i+48]), vmn, vinv, vzero, vtop)).
			SetHi(code16((*[16]float32)(src[i+48:i+64]), vmn, vinv, vzero, vtop))
		u := archsimd.Int8x64{}.SetLo(ab).SetHi(cd).AsUint32x16()
		u.Or(u.ShiftRight(s6)).Or(u.ShiftRight(s12)).Or(u.ShiftRight(s18)).TruncateToUint8().
			Store((*[16]uint8)(dst[i/4 : i/4+16]))
	}
	t6, t12, t18 := archsimd.BroadcastUint32x4(6), archsimd.BroadcastUint32x4(12), archsimd.BroadcastUint32x4(18)
	for ; i+16 <= n; i += 16 {
		u := code16((*[16]float32)(src[i:i+16]), vmn, vinv, vzero, vtop).AsUint32x4()
		u.Or(u.ShiftRight(t6)).Or(u.ShiftRight(t12)).Or(u.ShiftRight(t18)).TruncateToUint8().
			StoreSlicePart(dst[i/4 : i/4+4])
	}
	archsimd.ClearAVXUpperBits()
	return i
}

// codes2Tail writes the codes of src from value i (a multiple of 4) on,
// the last byte's unused slots zero.
func codes2Tail(dst []byte, src []float32, i int, mn, inv float32, maxq int32) {
	n := len(src)
	clear(dst[i/4 : (n+3)/4])
	for ; i < n; i++ {
		dst[i/4] |= byte(quantizeOne(src[i], mn, inv, maxq)) << (2 * (i % 4))
	}
}

// nbit2AVX512 decodes a 2-bit row of at least 16 values into dst, or adds
// it to dst, 64 values a step, then 16, up to value i, which it returns;
// nbit2Tail does the rest (as codes2AVX512, the tail is the caller's).
func nbit2AVX512(dst []float32, src []byte, add bool) int {
	n := len(dst)
	nb := (n + 3) / 4
	sb := src[nb : nb+4]
	scale := halfArith(uint16(sb[0]) | uint16(sb[1])<<8)
	bias := halfArith(uint16(sb[2]) | uint16(sb[3])<<8)
	vs, vb := archsimd.BroadcastFloat32x16(scale), archsimd.BroadcastFloat32x16(bias)
	s6, s12, s18 := archsimd.BroadcastUint32x16(6), archsimd.BroadcastUint32x16(12), archsimd.BroadcastUint32x16(18)
	three := archsimd.BroadcastUint32x16(0x03030303)
	i := 0
	for ; i+64 <= n; i += 64 {
		b := archsimd.LoadUint8x16((*[16]uint8)(src[i/4 : i/4+16])).ExtendToUint32()
		x := b.Or(b.ShiftLeft(s6)).Or(b.ShiftLeft(s12)).Or(b.ShiftLeft(s18)).And(three).AsUint8x64()
		addCodes32(x.GetLo(), vs, vb, (*[16]float32)(dst[i:i+16]), (*[16]float32)(dst[i+16:i+32]), add)
		addCodes32(x.GetHi(), vs, vb, (*[16]float32)(dst[i+32:i+48]), (*[16]float32)(dst[i+48:i+64]), add)
	}
	for ; i+16 <= n; i += 16 {
		b := archsimd.LoadUint8x16SlicePart(src[i/4 : i/4+4]).ExtendToUint32()
		x := b.Or(b.ShiftLeft(s6)).Or(b.ShiftLeft(s12)).Or(b.ShiftLeft(s18)).And(three).AsUint8x64()
		v := x.GetLo().GetLo().ExtendToUint32().ConvertToFloat32().Mul(vs).Add(vb)
		if add {
			v = archsimd.LoadFloat32x16((*[16]float32)(dst[i : i+16])).Add(v)
		}
		v.Store((*[16]float32)(dst[i : i+16]))
	}
	archsimd.ClearAVXUpperBits()
	return i
}

// nbit2Tail is the portable 2-bit decode (or add) from value i on.
func nbit2Tail(dst []float32, src []byte, i int, add bool) {
	if i == len(dst) {
		return
	}
	scale, bias := ScaleBias(2, len(dst), src)
	for ; i < len(dst); i++ {
		v := float32(scale*float32(src[i/4]>>(2*(i%4))&3)) + bias
		if add {
			v += dst[i]
		}
		dst[i] = v
	}
}

// codes2AVX2 is codes2AVX512 with 8 values a vector (len(src) >= 8): the
// codes of 64 values become 64 bytes through pack16, four to a 32-bit
// lane; their packed bytes, masked to the low byte, go through pack16
// again to 16 bytes in order.
func codes2AVX2(dst []byte, src []float32, mn, inv float32, maxq int32) int {
	n := len(src)
	vmn, vinv := archsimd.BroadcastFloat32x8(mn), archsimd.BroadcastFloat32x8(inv)
	vzero, vtop := archsimd.BroadcastInt32x8(0), archsimd.BroadcastInt32x8(maxq)
	even, order := archsimd.LoadInt8x32(&evenBytes), archsimd.LoadUint32x8(&interleave)
	s6, s12, s18 := archsimd.BroadcastUint32x8(6), archsimd.BroadcastUint32x8(12), archsimd.BroadcastUint32x8(18)
	low := archsimd.BroadcastUint32x8(0xff)
	i := 0
	for ; i+64 <= n; i += 64 {
		a := packed32((*[32]float32)(src[i:i+32]), vmn, vinv, vzero, vtop, even, order, s6, s12, s18, low)
		b := packed32((*[32]float32)(src[i+32:i+64]), vmn, vinv, vzero, vtop, even, order, s6, s12, s18, low)
		pack16(a, b, even, order).Store((*[16]uint8)(dst[i/4 : i/4+16]))
	}
	if i+32 <= n {
		a := packed32((*[32]float32)(src[i:i+32]), vmn, vinv, vzero, vtop, even, order, s6, s12, s18, low)
		pack16(a, archsimd.Int32x8{}, even, order).StoreSlicePart(dst[i/4 : i/4+8])
		i += 32
	}
	archsimd.ClearAVXUpperBits()
	return i
}

// packed32 packs the codes of 32 values into the low bytes of eight
// 32-bit lanes, in order (s6, s12, s18 and low are 6, 12, 18 and 0xff in
// each lane: a struct of vectors is copied through memory at every use).
func packed32(src *[32]float32, vmn, vinv archsimd.Float32x8, vzero, vtop archsimd.Int32x8, even archsimd.Int8x32, order, s6, s12, s18, low archsimd.Uint32x8) archsimd.Int32x8 {
	p := pack16(code8((*[8]float32)(src[0:8]), vmn, vinv, vzero, vtop), code8((*[8]float32)(src[8:16]), vmn, vinv, vzero, vtop), even, order)
	q := pack16(code8((*[8]float32)(src[16:24]), vmn, vinv, vzero, vtop), code8((*[8]float32)(src[24:32]), vmn, vinv, vzero, vtop), even, order)
	u := archsimd.Uint8x32{}.SetLo(p).SetHi(q).AsUint32x8()
	return u.Or(u.ShiftRight(s6)).Or(u.ShiftRight(s12)).Or(u.ShiftRight(s18)).And(low).AsInt32x8()
}

// nbit2AVX2 is nbit2AVX512 with 8 values a vector (len(dst) >= 8): 8
// bytes to 32 codes a step, unpacked in eight 32-bit lanes.
func nbit2AVX2(dst []float32, src []byte, add bool) int {
	n := len(dst)
	nb := (n + 3) / 4
	sb := src[nb : nb+4]
	scale := halfArith(uint16(sb[0]) | uint16(sb[1])<<8)
	bias := halfArith(uint16(sb[2]) | uint16(sb[3])<<8)
	vs, vb := archsimd.BroadcastFloat32x8(scale), archsimd.BroadcastFloat32x8(bias)
	s6, s12, s18 := archsimd.BroadcastUint32x8(6), archsimd.BroadcastUint32x8(12), archsimd.BroadcastUint32x8(18)
	three := archsimd.BroadcastUint32x8(0x03030303)
	i := 0
	for ; i+32 <= n; i += 32 {
		// 8 bytes, each in a 32-bit lane, to 32 code bytes; a whole
		// 16-byte load where the row has the bytes (a partial one is a call).
		var b archsimd.Uint32x8
		if i/4+16 <= len(src) {
			b = archsimd.LoadUint8x16((*[16]uint8)(src[i/4 : i/4+16])).ExtendLo8ToUint32()
		} else {
			b = archsimd.LoadUint8x16SlicePart(src[i/4 : i/4+8]).ExtendLo8ToUint32()
		}
		x := b.Or(b.ShiftLeft(s6)).Or(b.ShiftLeft(s12)).Or(b.ShiftLeft(s18)).And(three).AsUint8x32()
		decode16(x.GetLo().ExtendToUint16(), vs, vb, (*[8]float32)(dst[i:i+8]), (*[8]float32)(dst[i+8:i+16]), add)
		decode16(x.GetHi().ExtendToUint16(), vs, vb, (*[8]float32)(dst[i+16:i+24]), (*[8]float32)(dst[i+24:i+32]), add)
	}
	archsimd.ClearAVXUpperBits()
	return i
}
