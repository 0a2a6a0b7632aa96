package core

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"
)

func randomTable(r *rand.Rand, rows, dim int) (*Table, []Tier) {
	tb := &Table{R: rows, D: dim, Data: make([]float32, rows*dim)}
	for i := range tb.Data {
		tb.Data[i] = float32(r.NormFloat64() * 0.05)
	}
	tiers := make([]Tier, rows)
	for i := range tiers {
		tiers[i] = Tier(r.IntN(int(NumTiers)))
		if r.IntN(50) == 0 { // runs of one tier too
			for j := i; j < min(rows, i+40); j++ {
				tiers[j] = tiers[i]
			}
		}
	}
	return tb, tiers
}

// TierEncoder writes each tier's rows, in order, exactly as EncodeRow does
// row by row, whatever the core count.
func TestTierEncoderMatchesEncodeRow(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, dim := range []int{1, 3, 16, 64, 100} {
		for _, rows := range []int{0, 1, 17, 5000} {
			tb, tiers := randomTable(r, rows, dim)
			var want [NumTiers][]byte
			for i, tr := range tiers {
				b := make([]byte, tr.RowBytes(dim))
				EncodeRow(tr, b, tb.Data[i*dim:(i+1)*dim])
				want[tr] = append(want[tr], b...)
			}
			for _, procs := range []int{1, 2, 3} {
				runtime.GOMAXPROCS(procs)
				n := Counts(tiers)
				var out [NumTiers][]byte
				for tr := range out {
					out[tr] = make([]byte, n[tr]*Tier(tr).RowBytes(dim))
				}
				e := NewTierEncoder(dim)
				e.Encode(&out, tb.Data, tiers)
				e.Encode(&out, tb.Data, tiers) // reused: the same
				for tr := range out {
					if !bytes.Equal(out[tr], want[tr]) {
						t.Fatalf("dim %d, %d rows, %d procs: tier %d differs", dim, rows, procs, tr)
					}
				}
			}
		}
	}
}
