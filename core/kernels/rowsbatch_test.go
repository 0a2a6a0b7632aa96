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
