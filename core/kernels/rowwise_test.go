package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestQuantizeRowErrorBound(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, bits := range []int{8, 4, 2} {
		for dim := 0; dim <= 130; dim++ {
			for trial := 0; trial < 20; trial++ {
				src := make([]float32, dim)
				s := math.Ldexp(1, r.IntN(20)-10)
				for i := range src {
					src[i] = float32(r.NormFloat64() * s)
				}
				if trial == 0 {
					for i := range src {
						src[i] = 1.25 // constant row: range 0
					}
				}
				nb := RowBytes(bits, dim)
				buf := make([]byte, nb+2)
				buf[0], buf[nb+1] = 0xa5, 0x5a
				QuantizeRow(bits, buf[1:nb+1], src)
				if buf[0] != 0xa5 || buf[nb+1] != 0x5a {
					t.Fatalf("bits=%d dim=%d: guard overwritten", bits, dim)
				}
				out := make([]float32, dim)
				DequantizeRow(bits, out, buf[1:nb+1])
				scale, bias := ScaleBias(bits, dim, buf[1:nb+1])
				// |x - x'| <= scale/2, plus the rounding of bias (to fp16)
				// and of the dequantize arithmetic; the max can also lie up
				// to one fp16 rounding of the scale above the top code.
				maxq := float64(int(1)<<bits - 1)
				for i, x := range src {
					lim := float64(scale)/2 + math.Abs(float64(x))*1e-6 + 1e-30
					top := float64(bias) + maxq*float64(scale)
					if float64(x) > top {
						lim += float64(x) - top
					}
					if float64(x) < float64(bias) {
						lim += float64(bias) - float64(x)
					}
					if d := math.Abs(float64(x) - float64(out[i])); d > lim {
						t.Fatalf("bits=%d dim=%d i=%d: x=%v x'=%v |d|=%g > %g (scale %g bias %g)", bits, dim, i, x, out[i], d, lim, scale, bias)
					}
				}
			}
		}
	}
}

func TestQuantizeRowKnownBytes(t *testing.T) {
	// Hand-checked: min 0 -> bias 0, max 15 -> scale 1 for int4.
	src := []float32{0, 1, 2, 15, 7.5}
	dst := make([]byte, RowBytes(4, len(src)))
	QuantizeRow(4, dst, src)
	// codes 0,1,2,15,8 (7.5 rounds to even 8) packed low nibble first.
	want := []byte{0x10, 0xf2, 0x08, 0x00, 0x3c, 0x00, 0x00}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("byte %d: got %#02x want %#02x (all %x)", i, dst[i], want[i], dst)
		}
	}
}

func TestBlasGeneric(t *testing.T) {
	x := []float32{1, 2, 3}
	y := []float32{4, 5, 6}
	if d := Dot(x, y); d != 32 {
		t.Fatalf("dot %v", d)
	}
	Axpy(2, x, y)
	if y[0] != 6 || y[1] != 9 || y[2] != 12 {
		t.Fatalf("axpy %v", y)
	}
}

func BenchmarkQuantizeRow(b *testing.B) {
	src := make([]float32, 64*1024)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range src {
		src[i] = float32(r.NormFloat64())
	}
	for _, bits := range []int{8, 4} {
		dst := make([]byte, RowBytes(bits, 64))
		b.Run(map[int]string{8: "int8", 4: "int4"}[bits], func(b *testing.B) {
			b.SetBytes(int64(4 * len(src)))
			for b.Loop() {
				for off := 0; off < len(src); off += 64 {
					QuantizeRow(bits, dst, src[off:off+64])
				}
			}
		})
	}
}

// rowParams's written-out binary16 rounding equals going through
// FloatToHalf and HalfToFloat, for min/max pairs across the ranges that
// matter: normal and subnormal halves, zeros of both signs, and values
// below the half range (magnitudes below 65504, where fp16 is finite).
func TestRowParamsRounding(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-8, -1e-8, 6e-5, -6e-5, 6.1e-5, 1, -1, 0.1, 3e4, -3e4, 65000, -65000}
	for trial := 0; trial < 200000; trial++ {
		var mn, mx float32
		if trial < len(special)*len(special) {
			mn, mx = special[trial/len(special)], special[trial%len(special)]
		} else {
			e := r.Float64()*40 - 30
			mn = float32(r.NormFloat64() * math.Pow(2, e))
			mx = mn + float32(r.Float64()*math.Pow(2, r.Float64()*40-30))
		}
		if mx < mn || math.Abs(float64(mn)) >= 65504 || math.Abs(float64(mx)) >= 65504 {
			continue
		}
		for _, bits := range []int{4, 8, 2} {
			bias, scale, inv, maxq, hs, hb := rowParams(bits, mn, mx)
			wbias := HalfToFloat(FloatToHalf(mn))
			wscale := float32(1)
			if rng := mx - wbias; rng != 0 {
				wscale = rng / float32(maxq)
			}
			if wscale = HalfToFloat(FloatToHalf(wscale)); wscale == 0 {
				wscale = 1
			}
			winv := 1 / wscale
			if math.IsInf(float64(winv), 0) {
				wscale, winv = 1, 1
			}
			if math.Float32bits(bias) != math.Float32bits(wbias) || scale != wscale || inv != winv ||
				hs != FloatToHalf(wscale) || hb != FloatToHalf(wbias) {
				t.Fatalf("bits %d, min %g max %g: got bias %g scale %g inv %g halves %#x %#x; want %g %g %g %#x %#x",
					bits, mn, mx, bias, scale, inv, hs, hb, wbias, wscale, winv, FloatToHalf(wscale), FloatToHalf(wbias))
			}
		}
	}
}

// rowMinMax equals the plain scan bit for bit, zeros of either sign
// included, at every length up to 70.
func TestRowMinMax(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	negz := float32(math.Copysign(0, -1))
	for n := 1; n <= 70; n++ {
		for k := range 300 {
			src := make([]float32, n)
			for i := range src {
				switch r.IntN(4) {
				case 0:
					src[i] = 0
				case 1:
					src[i] = negz
				default:
					src[i] = float32(r.NormFloat64())
				}
				// A third of the rows with a zero minimum, a third with a
				// zero maximum, when they hold a zero.
				if src[i] != 0 && k%3 == 0 {
					src[i] = float32(math.Abs(float64(src[i])))
				} else if src[i] != 0 && k%3 == 1 {
					src[i] = -float32(math.Abs(float64(src[i])))
				}
			}
			mn, mx := src[0], src[0]
			for _, v := range src[1:] {
				if v < mn {
					mn = v
				}
				if v > mx {
					mx = v
				}
			}
			gn, gx := rowMinMax(src)
			if math.Float32bits(gn) != math.Float32bits(mn) || math.Float32bits(gx) != math.Float32bits(mx) {
				t.Fatalf("n=%d %v: got %v %v, want %v %v", n, src, gn, gx, mn, mx)
			}
		}
	}
}
