package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// RowsErrors measures a batch as RowErrors measures each row, with no
// batch kernel and with one that declines the batch.
func TestRowsErrorsIsRowErrors(t *testing.T) {
	const n, dim = 37, 12
	r := rand.New(rand.NewPCG(3, 5))
	rows := make([]float32, n*dim)
	for i := range rows {
		rows[i] = float32(r.NormFloat64())
	}
	rows[5*dim+3] = float32(math.NaN())
	declined := 0
	for _, f := range []func([]float32, int, []TierErrors, []bool) bool{nil, func([]float32, int, []TierErrors, []bool) bool { declined++; return false }} {
		SetRowsErrors(f)
		out, ok := make([]TierErrors, n), make([]bool, n)
		RowsErrors(rows, dim, out, ok)
		for i := range n {
			want, wantOK := RowErrors(rows[i*dim : (i+1)*dim])
			if out[i] != want || ok[i] != wantOK {
				t.Fatalf("row %d: %v %+v, RowErrors %v %+v", i, ok[i], out[i], wantOK, want)
			}
		}
	}
	SetRowsErrors(nil)
	if declined != 1 {
		t.Fatalf("the batch kernel was asked %d times", declined)
	}
}

// ErrorParams, given a row's minimum and maximum as a lane-wise minimum
// gives them (-0 below +0), settles a zero's sign as rowMinMax does: the
// parameters are rowParams's of rowMinMax's.
func TestErrorParamsSettlesZeros(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	for _, row := range [][]float32{{0, negZero, 1, 2}, {negZero, 0, 1, 2}, {-3, 0, negZero, -1}, {0, negZero, 0, 0}, {-1, 5, 0.25, 7}} {
		lo, hi := row[0], row[0]
		for _, v := range row {
			if v < lo || (v == 0 && lo == 0 && math.Signbit(float64(v))) {
				lo = v
			}
			if v > hi || (v == 0 && hi == 0 && !math.Signbit(float64(v))) {
				hi = v
			}
		}
		mn, mx := rowMinMax(row)
		b8, s8, i8, q8, _, _ := rowParams(8, mn, mx)
		b4, s4, i4, q4, _, _ := rowParams(4, mn, mx)
		want := [8]float32{b8, s8, i8, float32(q8), b4, s4, i4, float32(q4)}
		got := ErrorParams(row, lo, hi)
		for k := range want {
			if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
				t.Fatalf("row %v: parameters %v, want %v", row, got, want)
			}
		}
	}
}

// batchRows is n rows of dim values from the kinds errorRows tests, a
// kind a row in turn, with a NaN, an infinity or a huge value in some.
func batchRows(r *rand.Rand, n, dim int) []float32 {
	rows := make([]float32, n*dim)
	for i := range n {
		row := rows[i*dim : (i+1)*dim]
		scale := []float64{1e-9, 1e-6, 0.01, 1, 300, 7e4, 1e30}[r.IntN(7)]
		off := float64(r.IntN(3)-1) * scale * float64(r.IntN(50))
		for j := range row {
			row[j] = float32(off + r.NormFloat64()*scale)
		}
		switch r.IntN(12) {
		case 0:
			row[r.IntN(dim)] = float32(math.NaN())
		case 1:
			row[r.IntN(dim)] = float32(math.Inf(1 - 2*r.IntN(2)))
		case 2: // constant
			for j := range row {
				row[j] = row[0]
			}
		case 3: // zeros of both signs among positive or negative values
			for j := range row {
				if r.IntN(2) == 0 {
					row[j] = float32(math.Copysign(0, float64(r.IntN(2)*2-1)))
				}
			}
		case 4:
			for j := range row {
				row[j] = []float32{0, negZero, 65519, 65520, -65504, 6e-8, 1e-5, 2.5, -65520, 3e38}[r.IntN(10)]
			}
		case 5: // all zeros, one sign or both
			for j := range row {
				row[j] = float32(math.Copysign(0, float64(-r.IntN(2))))
			}
		}
	}
	return rows
}

// The batch kernel of every set measures every row as the portable
// rowErrorsGeneric does, bit for bit: every width from 1 to 130, batches
// of every length to 20 (blocks cut short).
func TestRowsErrorsEqualsGeneric(t *testing.T) { eachSet(t, rowsErrorsEqualsGeneric) }

func rowsErrorsEqualsGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 23))
	for dim := 1; dim <= 130; dim++ {
		for n := 1; n <= 20; n++ {
			rows := batchRows(r, n, dim)
			out, ok := make([]TierErrors, n), make([]bool, n)
			RowsErrors(rows, dim, out, ok)
			for i := range n {
				want, wantOK := rowErrorsGeneric(rows[i*dim : (i+1)*dim])
				if ok[i] != wantOK || !sameErrors(out[i], want) {
					t.Fatalf("%s: dim %d, row %d of %d %v: %v %+v, portable %v %+v", Set(), dim, i, n, rows[i*dim:(i+1)*dim], ok[i], out[i], wantOK, want)
				}
			}
		}
	}
}

// rowErrorsBefore is rowErrorsGeneric as it was before its lanes were
// summed one at a time (a test's reference). It measures a non-empty row in the three lossy tiers in one
// pass over it, equal bit for bit to encoding and decoding it in each and
// comparing, and sums its squares in the same eight lanes:
//
//	for k, codec := range {fp16, 8-bit rowwise, 4-bit rowwise} {
//		encode(codec, buf, row); decode(codec, back, buf)
//		e.SSE[k], e.MaxAbs[k] = sumSquaredDiffGeneric(row, back)
//	}
//	e.SumSquares, _ = sumSquaredDiffGeneric(row, zeros)
//
// The 8- and 4-bit codecs share the row's minimum and maximum, and every
// value is loaded once. It returns false, and no errors, for a row holding
// a NaN or an infinity, which no lossy tier can store.
func rowErrorsBefore(row []float32) (TierErrors, bool) {
	mn, mx, ok := finiteMinMax(row)
	if !ok {
		return TierErrors{}, false
	}
	b8, s8, i8, q8, _, _ := rowParams(8, mn, mx)
	b4, s4, i4, q4, _, _ := rowParams(4, mn, mx)
	var l16, l8, l4, sq [8]float64
	var e TierErrors
	for i, v := range row {
		x := float64(v)
		k := i & 7 // lane i%8, without a signed modulo or a bounds check
		sq[k] += float64(x * x)
		d16 := x - float64(roundHalf(v))
		d8 := x - float64(float32(s8*float32(quantizeOne(v, b8, i8, q8)))+b8)
		d4 := x - float64(float32(s4*float32(quantizeOne(v, b4, i4, q4)))+b4)
		l16[k] += float64(d16 * d16) // the conversions forbid fused multiply-adds
		l8[k] += float64(d8 * d8)
		l4[k] += float64(d4 * d4)
		e.MaxAbs[0] = maxAbsOf(e.MaxAbs[0], d16)
		e.MaxAbs[1] = maxAbsOf(e.MaxAbs[1], d8)
		e.MaxAbs[2] = maxAbsOf(e.MaxAbs[2], d4)
	}
	for k := range 8 {
		e.SSE[0] += l16[k]
		e.SSE[1] += l8[k]
		e.SSE[2] += l4[k]
		e.SumSquares += sq[k]
	}
	return e, true
}

// rowErrorsGeneric equals the loop it replaced, bit for bit, on every
// width from 1 to 130 and every kind of row batchRows makes.
func TestRowErrorsGenericEqualsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 2))
	for dim := 1; dim <= 130; dim++ {
		rows := batchRows(r, 40, dim)
		for i := range 40 {
			row := rows[i*dim : (i+1)*dim]
			got, ok := rowErrorsGeneric(row)
			want, wantOK := rowErrorsBefore(row)
			if ok != wantOK || !sameErrors(got, want) {
				t.Fatalf("dim %d %v: %v %+v, before %v %+v", dim, row, ok, got, wantOK, want)
			}
		}
	}
}

// roundHalfFinite is roundHalf on every finite value tested as
// TestHalf8Round tests.
func TestRoundHalfFinite(t *testing.T) {
	for _, v := range halfTestValues() {
		if got, want := roundHalfFinite(v), roundHalf(v); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("roundHalfFinite(%g = %#x) = %#x, roundHalf %#x", v, math.Float32bits(v), math.Float32bits(got), math.Float32bits(want))
		}
	}
}

// halfTestValues is random finite values and every value within 64 ulps
// of each boundary of the fp16 rounding (the least normal half, the
// overflow limit, 2^16, ties at bit 13 and 2^-25), of both signs.
func halfTestValues() []float32 {
	var vals []float32
	r := rand.New(rand.NewPCG(8, 1))
	for range 1 << 18 {
		if f := math.Float32frombits(r.Uint32()); f-f == 0 {
			vals = append(vals, f)
		}
	}
	for _, c := range []uint32{0, 113 << 23, 0x477ff000, 143 << 23, 0x7f7fffff, 102 << 23, 0x38800fff, 0x38801000, 0x3f801000} {
		for d := -64; d <= 64; d++ {
			if b := int64(c) + int64(d); b >= 0 && b < 0x7f800000 {
				vals = append(vals, math.Float32frombits(uint32(b)), -math.Float32frombits(uint32(b)))
			}
		}
	}
	return vals
}

// quantizeRowGeneric's 8- and 4-bit codes (codesFinite's, rounded before
// they are clamped) are quantizeOne's, packed as before, for every finite
// row of batchRows at every width from 1 to 130.
func TestCodesFiniteAreQuantizeOne(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 3))
	for dim := 1; dim <= 130; dim++ {
		rows := batchRows(r, 40, dim)
		for i := range 40 {
			row := rows[i*dim : (i+1)*dim]
			mn, mx, ok := finiteMinMax(row)
			if !ok {
				continue
			}
			for _, bits := range []int{8, 4} {
				bias, _, inv, maxq, _, _ := rowParams(bits, mn, mx)
				want := make([]byte, RowBytes(bits, dim))
				for j, v := range row {
					want[j*bits/8] |= byte(quantizeOne(v, bias, inv, maxq)) << (j % (8 / bits) * bits)
				}
				got := make([]byte, len(want))
				quantizeRowGeneric(bits, got, row)
				if string(got[:len(got)-4]) != string(want[:len(want)-4]) {
					t.Fatalf("%d bits, dim %d %v: codes %v, quantizeOne's %v", bits, dim, row, got, want)
				}
			}
		}
	}
}

// rowNormBefore is rowNormGeneric as it was before its lanes were summed
// in registers (a test's reference).
func rowNormBefore(row []float32) (float64, bool) {
	var sq [8]float64
	for i, v := range row {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return 0, false
		}
		x := float64(v)
		sq[i&7] += float64(x * x)
	}
	s := 0.0
	for _, l := range sq {
		s += l
	}
	return s, true
}

// tierErrorGeneric and rowNormGeneric equal the loops they replaced
// (tierErrorNonFinite is the old tierErrorGeneric), bit for bit, in every
// tier, on every width from 1 to 130 and every kind of row batchRows makes.
func TestTierErrorAndRowNormEqualBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 4))
	for dim := 1; dim <= 130; dim++ {
		rows := batchRows(r, 40, dim)
		for i := range 40 {
			row := rows[i*dim : (i+1)*dim]
			got, ok := rowNormGeneric(row)
			want, wantOK := rowNormBefore(row)
			if ok != wantOK || math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("dim %d %v: norm %v %v, before %v %v", dim, row, got, ok, want, wantOK)
			}
			for k := range 4 { // TierError's callers give it finite rows; the others as before too
				s, m := tierErrorGeneric(k, row)
				ws, wm := tierErrorNonFinite(k, row)
				if math.Float64bits(s) != math.Float64bits(ws) || math.Float64bits(m) != math.Float64bits(wm) {
					t.Fatalf("tier %d, dim %d %v: %v %v, before %v %v", k, dim, row, s, m, ws, wm)
				}
			}
		}
	}
}
