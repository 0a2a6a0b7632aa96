package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// errorRows are rows that test every path: varied scales, zeros of both
// signs, constant rows, subnormal and overflowing halves, and every width
// from 1 to 80 (tails of every length).
func errorRows() [][]float32 {
	r := rand.New(rand.NewPCG(3, 4))
	var rows [][]float32
	for dim := 1; dim <= 80; dim++ {
		for _, scale := range []float64{1e-9, 1e-6, 0.01, 1, 300, 7e4} {
			row := make([]float32, dim)
			for i := range row {
				row[i] = float32(r.NormFloat64() * scale)
			}
			rows = append(rows, row)
		}
		zeros := make([]float32, dim)
		neg := make([]float32, dim)
		for i := range neg {
			neg[i] = float32(math.Copysign(0, -1))
		}
		same := make([]float32, dim)
		for i := range same {
			same[i] = 0.3
		}
		mixed := make([]float32, dim)
		for i := range mixed {
			mixed[i] = []float32{0, negZero, 65519, 65520, -65504, 6e-8, 1e-5, 2.5}[i%8]
		}
		mixed[0] = negZero
		rows = append(rows, zeros, neg, same, mixed)
	}
	return rows
}

// referenceErrors is the path the fused kernel replaces: encode, decode,
// compare, per tier.
func referenceErrors(row []float32) TierErrors {
	var e TierErrors
	back := make([]float32, len(row))
	halves := make([]uint16, len(row))
	floatsToHalvesGeneric(halves, row)
	halvesToFloatsGeneric(back, halves)
	e.SSE[0], e.MaxAbs[0] = sumSquaredDiffGeneric(row, back)
	for k, bits := range []int{8, 4} {
		buf := make([]byte, RowBytes(bits, len(row)))
		quantizeRowGeneric(bits, buf, row)
		dequantizeRowGeneric(bits, back, buf)
		e.SSE[k+1], e.MaxAbs[k+1] = sumSquaredDiffGeneric(row, back)
	}
	e.SumSquares, _ = sumSquaredDiffGeneric(row, make([]float32, len(row)))
	return e
}

func TestRowErrorsGenericEqualsEncodeDecode(t *testing.T) {
	for i, row := range errorRows() {
		got, ok := rowErrorsGeneric(row)
		if want := referenceErrors(row); !ok || !sameErrors(got, want) {
			t.Fatalf("row %d (dim %d): %+v, encode and decode give %+v", i, len(row), got, want)
		}
	}
}

func sameErrors(a, b TierErrors) bool {
	if math.Float64bits(a.SumSquares) != math.Float64bits(b.SumSquares) {
		return false
	}
	for k := range 3 {
		if math.Float64bits(a.SSE[k]) != math.Float64bits(b.SSE[k]) || math.Float64bits(a.MaxAbs[k]) != math.Float64bits(b.MaxAbs[k]) {
			return false
		}
	}
	return true
}

func TestRoundHalf(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 1 << 20 {
		f := math.Float32frombits(r.Uint32())
		if math.IsNaN(float64(f)) {
			continue
		}
		if got, want := roundHalf(f), HalfToFloat(FloatToHalf(f)); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("roundHalf(%g) = %g, want %g", f, got, want)
		}
	}
}

// The kernel in use (SIMD when built with GOEXPERIMENT=simd on a capable
// CPU) equals the portable one bit for bit, at every length to 300 and
// some large ones, and on the rows of every path.
func TestRowErrorsKernelEqualsGeneric(t *testing.T) { eachSet(t, rowErrorsKernelEqualsGeneric) }

func rowErrorsKernelEqualsGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	rows := errorRows()
	for _, n := range lengths() {
		if n > 0 {
			rows = append(rows, randRow(r, n), randRow(r, n))
		}
	}
	for i, row := range rows {
		got, ok := RowErrors(row)
		want, wantOK := rowErrorsGeneric(row)
		if ok != wantOK || !sameErrors(got, want) {
			t.Fatalf("row %d (dim %d, %s): %+v, portable %+v", i, len(row), Impl(), got, want)
		}
	}
	// A NaN or an infinity anywhere, in a step of 16 or in the tail.
	for _, n := range []int{5, 16, 40, 67} {
		for at := range n {
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
				row := randRow(r, n)
				row[at] = bad
				if _, ok := RowErrors(row); ok {
					t.Fatalf("dim %d: %v at %d measured as finite", n, bad, at)
				}
			}
		}
	}
}

// RowNorm and TierError are RowErrors' sum of squares and one tier's error
// alone, in the kernel in use as in the portable one.
func TestRowNormAndTierError(t *testing.T) { eachSet(t, rowNormAndTierError) }

func rowNormAndTierError(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	rows := errorRows()
	for _, n := range lengths() {
		if n > 0 {
			rows = append(rows, randRow(r, n))
		}
	}
	for i, row := range rows {
		all, ok := rowErrorsGeneric(row)
		for _, norm := range []func([]float32) (float64, bool){RowNorm, rowNormGeneric} {
			if s, fin := norm(row); fin != ok || (ok && math.Float64bits(s) != math.Float64bits(all.SumSquares)) {
				t.Fatalf("row %d: norm %v %v, RowErrors %v %v", i, s, fin, all.SumSquares, ok)
			}
		}
		if !ok {
			continue
		}
		for k := range 3 {
			for _, te := range []func(int, []float32) (float64, float64){TierError, tierErrorGeneric} {
				sse, mx := te(k, row)
				if math.Float64bits(sse) != math.Float64bits(all.SSE[k]) || math.Float64bits(mx) != math.Float64bits(all.MaxAbs[k]) {
					t.Fatalf("row %d (dim %d), tier %d: %v %v, RowErrors %v %v", i, len(row), k, sse, mx, all.SSE[k], all.MaxAbs[k])
				}
			}
		}
	}
	row := randRow(r, 40)
	row[33] = float32(math.Inf(1))
	if _, ok := RowNorm(row); ok {
		t.Fatal("an infinity in the tail measured as finite")
	}
}

// finiteMinMax is rowMinMax where the row is finite, bit for bit (zeros'
// signs included), and false where it is not.
func TestFiniteMinMax(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	special := []float32{0, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.MaxFloat32, -math.MaxFloat32, 1, -1, 65504, -65504}
	for n := 1; n < 70; n++ {
		for trial := range 200 {
			row := make([]float32, n)
			for i := range row {
				switch r.IntN(4) {
				case 0:
					row[i] = special[r.IntN(len(special))]
				case 1:
					row[i] = math.Float32frombits(r.Uint32())
				default:
					row[i] = float32(r.NormFloat64())
				}
			}
			finite := true
			for _, v := range row {
				finite = finite && !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
			}
			mn, mx, ok := finiteMinMax(row)
			if ok != finite {
				t.Fatalf("n=%d trial %d: ok %v, finite %v: %v", n, trial, ok, finite, row)
			}
			if !finite {
				continue
			}
			wn, wx := rowMinMax(row)
			if math.Float32bits(mn) != math.Float32bits(wn) || math.Float32bits(mx) != math.Float32bits(wx) {
				t.Fatalf("n=%d trial %d: (%v, %v), rowMinMax (%v, %v): %v", n, trial, mn, mx, wn, wx, row)
			}
		}
	}
}
