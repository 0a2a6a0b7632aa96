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
