package formats

import (
	"math"
	"testing"
)

// TestEncodeFloatsRoundTrip: every float16 and bfloat16 value comes back
// as itself through float32, and values between two are rounded to the
// nearer (ties to even).
func TestEncodeFloatsRoundTrip(t *testing.T) {
	for _, d := range []DType{F16, BF16} {
		for h := range 1 << 16 {
			raw := []byte{byte(h), byte(h >> 8)}
			v := DecodeFloat32(nil, d, raw)
			got, _ := EncodeFloats(nil, d, v)
			back := DecodeFloat32(nil, d, got)
			if math.Float32bits(back[0]) != math.Float32bits(v[0]) && !(v[0] != v[0] && back[0] != back[0]) {
				t.Fatalf("%s %#04x: %g came back %g", d, h, v[0], back[0])
			}
		}
	}
	cases := []struct {
		d    DType
		in   float32
		want float32
	}{
		{BF16, 1 + 1.0/256, 1},                      // a tie: to even
		{BF16, 1 + 3.0/256, 1 + 4.0/256},            // a tie: to even, up
		{BF16, 1 + 1.0/256 + 1.0/4096, 1 + 1.0/128}, // past the tie
		{F16, 1 + 1.0/2048, 1},
		{F64, 0.1, 0.1},
	}
	for _, c := range cases {
		got, ok := EncodeFloats(nil, c.d, []float32{c.in})
		if back := DecodeFloat32(nil, c.d, got); !ok || back[0] != c.want {
			t.Errorf("%s %g: %v %v, want %g", c.d, c.in, back, ok, c.want)
		}
	}
	if _, ok := EncodeFloats(nil, I32, []float32{1}); ok {
		t.Error("int32 accepted")
	}
}
