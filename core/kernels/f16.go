package kernels

import "math"

// halfToFloat maps every binary16 bit pattern to its float32 value. A 256 KiB
// table is much faster than decoding each half bit by bit, and it is exact:
// every half is representable as a float32.
var halfToFloat = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for h := range t {
		t[h] = math.Float32frombits(halfBitsToFloatBits(uint16(h)))
	}
	return &t
}()

// halfBitsToFloatBits widens one IEEE binary16 value to binary32 exactly,
// keeping NaN payloads (quieted as the hardware conversion does).
func halfBitsToFloatBits(h uint16) uint32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		if man == 0 {
			return sign | 0x7f800000
		}
		return sign | 0x7fc00000 | man<<13
	case exp != 0:
		return sign | (exp+112)<<23 | man<<13
	case man == 0:
		return sign
	}
	// Subnormal half: normalise into a float32 exponent.
	e := uint32(113)
	for man&0x400 == 0 {
		man <<= 1
		e--
	}
	return sign | e<<23 | (man&0x3ff)<<13
}

// HalfToFloat returns the float32 value of the binary16 bit pattern h.
func HalfToFloat(h uint16) float32 { return halfToFloat[h] }

// FloatToHalf rounds f to the nearest binary16 (ties to even), as
// x448/float16.Fromfloat32 and the F16C VCVTPS2PH instruction do. NaNs stay
// NaN (quieted, payload truncated), overflow goes to infinity.
func FloatToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(man>>13)
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Result is subnormal or zero: shift the implicit-one mantissa right,
		// rounding to nearest even on the bits shifted out.
		if e < -10 {
			return sign
		}
		m := man | 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		rem := m & (1<<shift - 1)
		q := m >> shift
		if rem > half || (rem == half && q&1 == 1) {
			q++
		}
		return sign | uint16(q)
	}
	q := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && q&1 == 1) {
		q++ // may carry into the exponent, up to infinity: still correct
	}
	return sign | uint16(q)
}

// floatsToHalvesGeneric converts src to binary16 bit patterns in dst.
// It must equal:
//
//	for i := range src { dst[i] = FloatToHalf(src[i]) }
func floatsToHalvesGeneric(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, f := range src {
		b := math.Float32bits(f)
		m := b & 0x7fffffff
		// Inline fast path for results in the normal half range: round to
		// nearest even on bit 13 with one add (a carry into the exponent,
		// up to infinity, is the right answer); the rest takes the slow path.
		if m >= 113<<23 && m < 143<<23 {
			m += 0xfff + (m>>13)&1
			dst[i] = uint16(b>>16)&0x8000 | uint16(m>>13-112<<10)
			continue
		}
		dst[i] = FloatToHalf(f)
	}
}

// halvesToFloatsGeneric widens binary16 bit patterns to float32.
// It must equal:
//
//	for i := range src { dst[i] = HalfToFloat(src[i]) }
func halvesToFloatsGeneric(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	t := halfToFloat
	for i, h := range src {
		dst[i] = t[h]
	}
}

// FloatsToHalves converts src to binary16 in dst (len(dst) >= len(src)).
func FloatsToHalves(dst []uint16, src []float32) { floatsToHalves(dst, src) }

// HalvesToFloats widens src to float32 in dst (len(dst) >= len(src)).
func HalvesToFloats(dst []float32, src []uint16) { halvesToFloats(dst, src) }

// The dispatch points; SIMD builds replace them at init when the CPU allows.
var (
	floatsToHalves = floatsToHalvesGeneric
	halvesToFloats = halvesToFloatsGeneric
)

// halfBytesToFloatsGeneric widens little-endian binary16 values stored as
// bytes (2 per value) into dst. It must equal:
//
//	for i := range dst { dst[i] = HalfToFloat(uint16(src[2*i]) | uint16(src[2*i+1])<<8) }
func halfBytesToFloatsGeneric(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	t := halfToFloat
	for i := range dst {
		dst[i] = t[uint16(src[2*i])|uint16(src[2*i+1])<<8]
	}
}

// HalfBytesToFloats is halfBytesToFloatsGeneric on the fastest kernel.
func HalfBytesToFloats(dst []float32, src []byte) { halfBytesToFloats(dst, src) }

var halfBytesToFloats = halfBytesToFloatsGeneric

// floatsToHalfBytesGeneric stores src as little-endian binary16 bytes in
// dst (2 per value). It must equal:
//
//	for i, f := range src { h := FloatToHalf(f); dst[2*i], dst[2*i+1] = byte(h), byte(h>>8) }
func floatsToHalfBytesGeneric(dst []byte, src []float32) {
	dst = dst[:2*len(src)]
	var h [256]uint16
	for len(src) > 0 {
		n := min(len(src), len(h))
		floatsToHalvesGeneric(h[:n], src[:n])
		for i, v := range h[:n] {
			dst[2*i], dst[2*i+1] = byte(v), byte(v>>8)
		}
		src, dst = src[n:], dst[2*n:]
	}
}

// FloatsToHalfBytes is floatsToHalfBytesGeneric on the fastest kernel.
func FloatsToHalfBytes(dst []byte, src []float32) { floatsToHalfBytes(dst, src) }

var floatsToHalfBytes = floatsToHalfBytesGeneric
