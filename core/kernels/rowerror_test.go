package kernels

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// QuantizeRowError writes QuantizeRow's bytes and returns TierError's
// error, bit for bit, under every kernel set: rows of 1 to 130 values
// (every tail of the 8-, 16- and 32-value steps), of several scales,
// constant, tiny, with -0s, huge (an infinite scale), and against the
// portable kernels' results too; rows holding a NaN or an infinity, which
// no lossy tier takes, are only quantized (no panic).
func TestQuantizeRowErrorIsQuantizeAndError(t *testing.T) {
	eachSet(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(23, 1))
		for n := 1; n <= 130; n++ {
			for kind := range 9 {
				row := rowOfKind(r, n, kind)
				for _, bits := range []int{8, 4} {
					got := make([]byte, RowBytes(bits, n))
					sse, mx := QuantizeRowError(bits, got, row)
					want := make([]byte, len(got))
					QuantizeRow(bits, want, row)
					wsse, wmx := TierError(tierOfBits(bits), row)
					if kind >= 7 { // not finite: no lossy tier takes the row, and the sets' codes of it differ
						continue
					}
					if !bytes.Equal(got, want) || math.Float64bits(sse) != math.Float64bits(wsse) || math.Float64bits(mx) != math.Float64bits(wmx) {
						t.Fatalf("%d bits, n %d, kind %d: %x %v %v, apart %x %v %v", bits, n, kind, got, sse, mx, want, wsse, wmx)
					}
					quantizeRowGeneric(bits, want, row)
					psse, pmx := tierErrorGeneric(tierOfBits(bits), row)
					if !bytes.Equal(got, want) || math.Float64bits(sse) != math.Float64bits(psse) || math.Float64bits(mx) != math.Float64bits(pmx) {
						t.Fatalf("%d bits, n %d, kind %d: %x %v %v, portable %x %v %v", bits, n, kind, got, sse, mx, want, psse, pmx)
					}
				}
			}
		}
	})
}

// rowOfKind is a row of n values of the given kind (0-8; 7 and 8 not
// finite).
func rowOfKind(r *rand.Rand, n, kind int) []float32 {
	row := make([]float32, n)
	scale := []float64{0.05, 1, 3e-6, 1e-9, 40000, 0, 1, 1, 1}[kind]
	for i := range row {
		row[i] = float32(r.NormFloat64() * scale)
	}
	switch kind {
	case 5:
		for i := range row {
			row[i] = float32(math.Copysign(0, -1))
		}
	case 6:
		row[0], row[n-1] = -65000, 65000 // a range past binary16's: an infinite scale
	case 7:
		row[r.IntN(n)] = float32(math.NaN())
	case 8:
		row[r.IntN(n)] = float32(math.Inf(-1))
	}
	return row
}
