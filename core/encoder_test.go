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

// encodeRef is row r in tier tr as EncodeRow (or, in a block tier,
// EncodeBlockRow with the row's block's parameters) writes it.
func encodeRef(tr Tier, row []float32, r int, bp *BlockParams) []byte {
	b := make([]byte, tr.RowBytes(len(row)))
	if tr.Block() {
		s, bias := bp.Of(tr, r)
		EncodeBlockRow(tr, b, row, s, bias)
	} else {
		EncodeRow(tr, b, row)
	}
	return b
}

// TierEncoder writes each tier's rows, in order, exactly as EncodeRow does
// row by row (block tiers with their blocks' parameters), whatever the
// core count, and a table encoded in two windows the same.
func TestTierEncoderMatchesEncodeRow(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, dim := range []int{1, 3, 16, 64, 100} {
		for _, rows := range []int{0, 1, 17, 5000} {
			tb, tiers := randomTable(r, rows, dim)
			bp, err := ComputeBlockParams(tb, 7, UsedBlockTiers(tiers))
			if err != nil {
				t.Fatal(err)
			}
			var want [NumTiers][]byte
			for i, tr := range tiers {
				want[tr] = append(want[tr], encodeRef(tr, tb.Data[i*dim:(i+1)*dim], i, bp)...)
			}
			for _, procs := range []int{1, 2, 3} {
				runtime.GOMAXPROCS(procs)
				n := Counts(tiers)
				var out [NumTiers][]byte
				for tr := range out {
					out[tr] = make([]byte, n[tr]*Tier(tr).RowBytes(dim))
				}
				e := NewTierEncoder(dim)
				e.EncodeAt(&out, tb.Data, tiers, 0, bp)
				e.EncodeAt(&out, tb.Data, tiers, 0, bp) // reused: the same
				for tr := range out {
					if !bytes.Equal(out[tr], want[tr]) {
						t.Fatalf("dim %d, %d rows, %d procs: tier %d differs", dim, rows, procs, tr)
					}
				}
				cut := rows / 3 // a second window, numbered from cut
				c := e.EncodeAt(&out, tb.Data[:cut*dim], tiers[:cut], 0, bp)
				var rest [NumTiers][]byte
				for tr := range out {
					rest[tr] = out[tr][c[tr]*Tier(tr).RowBytes(dim):]
				}
				e.EncodeAt(&rest, tb.Data[cut*dim:], tiers[cut:], cut, bp)
				for tr := range out {
					if !bytes.Equal(out[tr], want[tr]) {
						t.Fatalf("dim %d, %d rows, %d procs, two windows: tier %d differs", dim, rows, procs, tr)
					}
				}
			}
		}
	}
}
