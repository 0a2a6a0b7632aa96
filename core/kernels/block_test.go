package kernels

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// A row's codes under its own parameters are the rowwise codec's codes,
// and the parameters its scale and bias: a block tier's row is the
// rowwise row without its tail.
func TestBlockCodesAreTheRowwiseCodes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, bits := range []int{8, 4, 2} {
		for n := 1; n < 70; n++ {
			row := randRow(r, n)
			want := make([]byte, RowBytes(bits, n))
			quantizeRowGeneric(bits, want, row)
			mn, mx, ok := HeldMinMax(row)
			if !ok {
				t.Fatalf("row %v not held", row)
			}
			s, b := BlockParams(bits, mn, mx)
			got := make([]byte, RowBytes(bits, n))
			for i := range got {
				got[i] = 0xff // QuantizeCodes must write every code byte
			}
			QuantizeCodes(bits, got, row, s, b)
			got[len(got)-4], got[len(got)-3], got[len(got)-2], got[len(got)-1] = byte(s), byte(s>>8), byte(b), byte(b>>8)
			if !bytes.Equal(got, want) {
				t.Fatalf("%d bits, dim %d: codes+params %x, rowwise %x", bits, n, got, want)
			}
		}
	}
}

// A row's error under a block's parameters (another, wider minimum and
// maximum) equals encoding its codes, decoding them and comparing, bit for
// bit; and the decode is DequantizeRow of the codes with the parameters.
func TestBlockTierErrorIsEncodeDecode(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, bits := range []int{8, 4, 2} {
		for n := 1; n < 70; n++ {
			row := randRow(r, n)
			other := randRow(r, n)
			mn, mx, _ := HeldMinMax(row)
			omn, omx, _ := HeldMinMax(other)
			s, b := BlockParams(bits, min(mn, omn), max(mx, omx))
			codes := make([]byte, RowBytes(bits, n))
			QuantizeCodes(bits, codes, row, s, b)
			codes[len(codes)-4], codes[len(codes)-3], codes[len(codes)-2], codes[len(codes)-1] = byte(s), byte(s>>8), byte(b), byte(b>>8)
			back := make([]float32, n)
			DequantizeCodes(bits, back, codes, s, b)
			ref := make([]float32, n)
			dequantizeRowGeneric(bits, ref, codes)
			for i := range ref {
				if math.Float32bits(ref[i]) != math.Float32bits(back[i]) {
					t.Fatalf("%d bits, dim %d: value %d decoded %v, DequantizeRow %v", bits, n, i, back[i], ref[i])
				}
			}
			wsse, wmax := sumSquaredDiffGeneric(row, back)
			sse, maxAbs, zero := BlockTierError(bits, row, s, b)
			allZero := true
			for _, v := range back {
				allZero = allZero && v == 0
			}
			if math.Float64bits(sse) != math.Float64bits(wsse) || maxAbs != wmax || zero != allZero {
				t.Fatalf("%d bits, dim %d: error %v %v %v, encode+decode %v %v %v", bits, n, sse, maxAbs, zero, wsse, wmax, allZero)
			}
		}
	}
}

// HeldMinMax holds a row exactly when every value is finite and rounds to
// a finite binary16 value.
func TestHeldMinMax(t *testing.T) {
	for _, c := range []struct {
		row  []float32
		held bool
	}{
		{[]float32{1, -2, 3}, true},
		{[]float32{65519, -65519}, true},
		{[]float32{65520, 0}, false},
		{[]float32{0, -65520}, false},
		{[]float32{1, float32(math.NaN())}, false},
		{[]float32{float32(math.Inf(-1)), 1}, false},
		{nil, false},
	} {
		mn, mx, ok := HeldMinMax(c.row)
		if ok != c.held {
			t.Fatalf("%v: held %v", c.row, ok)
		}
		if ok {
			wmn, wmx := rowMinMax(c.row)
			if mn != wmn || mx != wmx {
				t.Fatalf("%v: min/max %v %v, rowMinMax %v %v", c.row, mn, mx, wmn, wmx)
			}
		}
	}
}
