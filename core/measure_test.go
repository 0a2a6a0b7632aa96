package core

import (
	"math"
	"math/rand/v2"
	"testing"
)

// measureKinds is a table of rows of every kind the measuring loop tells
// apart: ordinary rows of several scales, tiny rows that some tiers zero,
// rows of +0s and -0s, rows holding a NaN or an infinity, and rows whose
// norm is past hugeNorm, held by every tier or not.
func measureKinds(r *rand.Rand, rows, dim int) *Table {
	tb := &Table{R: rows, D: dim, Data: make([]float32, rows*dim)}
	for i := range rows {
		row := tb.Data[i*dim : (i+1)*dim]
		scale := []float64{0.05, 1, 3e-6, 1e-9, 40000, 0}[r.IntN(6)]
		for j := range row {
			row[j] = float32(r.NormFloat64() * scale)
		}
		switch r.IntN(12) {
		case 0:
			row[r.IntN(dim)] = float32(math.NaN())
		case 1:
			row[r.IntN(dim)] = float32(math.Inf(1))
		case 2:
			row[r.IntN(dim)] = 70000
		case 3:
			for j := range row {
				row[j] = float32(math.Copysign(0, -1))
			}
		case 4:
			row[0], row[dim-1] = -60000, 60000
		}
	}
	return tb
}

// The measuring loop writes each row's stat in place (defaultChunk): bit
// for bit the StatOf of MeasureRow (errors) and of priorityOnly
// (priorities alone), with the norm or the given priority as P, over
// several rounds of chunks (buffers reused) and a last short chunk.
func TestMeasuredStatsAreStatOf(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 5))
	for _, dim := range []int{1, 3, 8, 64} {
		rows := 2*measureRound + 3*MeasureChunk + 77
		tb := measureKinds(r, rows, dim)
		for _, withPrio := range []bool{false, true} {
			var prio PriorityFunc
			if withPrio {
				prio = func(lo, hi int, dst []float64) error {
					for i := range dst {
						dst[i] = float64(lo+i) / 7
					}
					return nil
				}
			}
			for _, errs := range []bool{true, false} {
				var got []RowStat
				emit := func(_ int, s RowStat) error { got = append(got, s); return nil }
				var err error
				if errs {
					err = MeasureStats(tb, prio, emit, nil)
				} else {
					err = MeasurePriorities(tb, prio, emit, nil)
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != rows {
					t.Fatalf("%d stats of %d rows", len(got), rows)
				}
				for i := range got {
					row := tb.Data[i*dim : (i+1)*dim]
					e, norm := MeasureRow(row)
					if !errs {
						e, norm = priorityOnly(row)
					}
					if withPrio {
						norm = float64(i) / 7
					}
					if want := StatOf(norm, e); !sameStat(got[i], want) {
						t.Fatalf("dim %d prio %v errors %v row %d %v: %+v, StatOf %+v", dim, withPrio, errs, i, row, got[i], want)
					}
				}
			}
		}
	}
}

func sameStat(a, b RowStat) bool {
	same := math.Float32bits(a.P) == math.Float32bits(b.P)
	for i := range a.SSE {
		same = same && math.Float32bits(a.SSE[i]) == math.Float32bits(b.SSE[i]) &&
			math.Float32bits(a.MaxAbs[i]) == math.Float32bits(b.MaxAbs[i])
	}
	return same
}
