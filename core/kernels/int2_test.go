package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// plainQuantize2 is PyTorch 1.13's 2-bit prepack written out as its
// fallback loop is (qembeddingbag_prepack.cpp, without FBGEMM), with none
// of the codec's shortcuts: the first minimum and maximum, the minimum
// rounded to fp16, scale = fp16(range/3) (1 when the range is 0, or the
// scale 0, or its inverse infinite), codes lrintf((x - min) * (1/scale))
// clamped to [0, 3] and packed four to a byte from the low bits up, then
// the fp16 scale and minimum.
func plainQuantize2(row []float32) []byte {
	n := len(row)
	out := make([]byte, (n+3)/4+4)
	xmin, xmax := row[0], row[0]
	for _, v := range row {
		if v < xmin {
			xmin = v
		}
		if v > xmax {
			xmax = v
		}
	}
	xmin = HalfToFloat(FloatToHalf(xmin))
	rng := xmax - xmin
	scale := float32(1)
	if rng != 0 {
		scale = rng / 3
	}
	scale = HalfToFloat(FloatToHalf(scale))
	inv := float32(1)
	if scale != 0 {
		inv = 1 / scale
	}
	if scale == 0 || math.IsInf(float64(inv), 0) {
		scale, inv = 1, 1
	}
	for i, x := range row {
		y := float32(float32(x-xmin) * inv)
		q := 0 // lrintf of a NaN is out of range: cast to int, 0
		if !math.IsNaN(float64(y)) {
			q = int(min(max(math.RoundToEven(float64(y)), 0), 3))
		}
		out[i/4] |= byte(q) << (2 * (i % 4))
	}
	binary.LittleEndian.PutUint16(out[(n+3)/4:], FloatToHalf(scale))
	binary.LittleEndian.PutUint16(out[(n+3)/4+2:], FloatToHalf(xmin))
	return out
}

// plainDequantize2 is the decode every 2-bit reader must equal:
// float32(scale*q) + bias, the codes read from the low bits up.
func plainDequantize2(dim int, b []byte) []float32 {
	nb := (dim + 3) / 4
	scale := HalfToFloat(binary.LittleEndian.Uint16(b[nb:]))
	bias := HalfToFloat(binary.LittleEndian.Uint16(b[nb+2:]))
	out := make([]float32, dim)
	for i := range out {
		q := b[i/4] >> (2 * (i % 4)) & 3
		out[i] = float32(scale*float32(q)) + bias
	}
	return out
}

// fuzzRow makes a finite row from a random source: normal values at a
// random scale and offset, raw bit patterns, repeated values, zeros of
// both signs, and values past fp16's range.
func fuzzRow(r *rand.Rand, n int) []float32 {
	row := randRow(r, n)
	kind := r.IntN(5)
	for i := range row {
		switch kind {
		case 0: // random bits, the non-finite ones replaced
			v := math.Float32frombits(r.Uint32())
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				v = 0
			}
			row[i] = v
		case 1: // a few distinct values, zeros among them
			row[i] = []float32{0, negZero, 1, -2.5, 3e-8}[r.IntN(5)]
		case 2: // around and past fp16's largest value
			row[i] = float32((r.Float64()*2 - 1) * 7e4)
		}
	}
	return row
}

// checkInt2Row fails unless the codec's portable and dispatched kernels
// agree with plainQuantize2 and plainDequantize2 on row, bit for bit, and
// the accumulating decoder adds the decoded values.
func checkInt2Row(t *testing.T, row []float32) {
	t.Helper()
	want := plainQuantize2(row)
	n := len(want)
	for _, q := range []func(int, []byte, []float32){quantizeRowGeneric, QuantizeRow} {
		got := make([]byte, n+1)
		got[n] = 0xa5
		q(2, got[:n], row)
		if string(got[:n]) != string(want) || got[n] != 0xa5 {
			t.Fatalf("dim %d %v: codec % x, plain loop % x", len(row), row, got, want)
		}
	}
	dec := plainDequantize2(len(row), want)
	for _, d := range []func(int, []float32, []byte){dequantizeRowGeneric, DequantizeRow} {
		got := make([]float32, len(row))
		d(2, got, want)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(dec[i]) {
				t.Fatalf("dim %d value %d: decoded %v, plain loop %v", len(row), i, got[i], dec[i])
			}
		}
	}
	for _, a := range []func(int, []float32, []byte){addRowNBitGeneric, AddRowNBit} {
		acc := make([]float32, len(row))
		for i := range acc {
			acc[i] = float32(i) - 3.5
		}
		a(2, acc, want)
		for i := range acc {
			if w := (float32(i) - 3.5) + dec[i]; math.Float32bits(acc[i]) != math.Float32bits(w) {
				t.Fatalf("dim %d value %d: accumulated %v, plain loop %v", len(row), i, acc[i], w)
			}
		}
	}
}

// The 2-bit codec equals the plain loops on rows of every width to 70
// and some wide ones, of every kind fuzzRow makes, and on PyTorch's test
// rows, in every kernel set.
func TestInt2MatchesPlainLoop(t *testing.T) {
	eachSet(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(41, 42))
		for n := 1; n <= 70; n++ {
			for range 40 {
				checkInt2Row(t, fuzzRow(r, n))
			}
		}
		for _, n := range []int{127, 128, 129, 1000, 4099} {
			for range 10 {
				checkInt2Row(t, fuzzRow(r, n))
			}
		}
		for _, row := range int2Rows() {
			checkInt2Row(t, row)
		}
	})
}

// FuzzInt2Codec: any finite row, as little-endian float32 bytes.
func FuzzInt2Codec(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x3f})
	f.Add([]byte{0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0x20, 0x8e, 0x47, 0xcd, 0xcc, 0x4c, 0x3e})
	f.Fuzz(func(t *testing.T, b []byte) {
		row := make([]float32, len(b)/4)
		for i := range row {
			row[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			if math.IsNaN(float64(row[i])) || math.IsInf(float64(row[i]), 0) {
				row[i] = 1 // the codec takes finite rows alone
			}
		}
		if len(row) > 0 {
			checkInt2Row(t, row)
		}
	})
}

// RowBytes(2, dim) is ceil(dim/4) code bytes and the fp16 scale and bias.
func TestInt2RowBytes(t *testing.T) {
	for dim, want := range []int{4, 5, 5, 5, 5, 6, 6, 6, 6, 7} {
		if got := RowBytes(2, dim); got != want {
			t.Fatalf("RowBytes(2, %d) = %d, want %d", dim, got, want)
		}
	}
}

// int2Error is the 2-bit tier's error as the path TierError(3) replaces
// takes it: encode, decode with the plain loops, compare.
func int2Error(row []float32) (sse, maxAbs float64) {
	return sumSquaredDiffGeneric(row, plainDequantize2(len(row), plainQuantize2(row)))
}

// TierError(3) is the 2-bit tier's error, bit for bit, in every kernel set
// (each SIMD set's against the encode-decode path, so against portable),
// and RowErrors4 is RowErrors with it: on the rows of every error path,
// every length to 300 and some large ones, and fuzzed rows.
func TestInt2TierError(t *testing.T) { eachSet(t, int2TierError) }

func int2TierError(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	rows := errorRows()
	for _, n := range lengths() {
		if n > 0 {
			rows = append(rows, randRow(r, n), fuzzRow(r, n))
		}
	}
	for i, row := range rows {
		wantSSE, wantMax := int2Error(row)
		for _, te := range []func(int, []float32) (float64, float64){TierError, tierErrorGeneric} {
			sse, mx := te(3, row)
			if math.Float64bits(sse) != math.Float64bits(wantSSE) || math.Float64bits(mx) != math.Float64bits(wantMax) {
				t.Fatalf("row %d (dim %d, %s): int2 error %v %v, encode-decode %v %v", i, len(row), Impl(), sse, mx, wantSSE, wantMax)
			}
		}
		three, ok := RowErrors(row)
		four, ok4 := RowErrors4(row)
		if ok4 != ok || !ok {
			t.Fatalf("row %d: RowErrors4 finite %v, RowErrors %v", i, ok4, ok)
		}
		same := math.Float64bits(four.SumSquares) == math.Float64bits(three.SumSquares) &&
			math.Float64bits(four.SSE[3]) == math.Float64bits(wantSSE) && math.Float64bits(four.MaxAbs[3]) == math.Float64bits(wantMax)
		for k := range 3 {
			same = same && math.Float64bits(four.SSE[k]) == math.Float64bits(three.SSE[k]) && math.Float64bits(four.MaxAbs[k]) == math.Float64bits(three.MaxAbs[k])
		}
		if !same {
			t.Fatalf("row %d (dim %d): RowErrors4 %+v, RowErrors %+v and int2 %v %v", i, len(row), four, three, wantSSE, wantMax)
		}
	}
	for _, n := range []int{3, 16, 67} {
		row := randRow(r, n)
		row[n-1] = float32(math.NaN())
		if _, ok := RowErrors4(row); ok {
			t.Fatalf("dim %d: a NaN measured as finite", n)
		}
	}
}
