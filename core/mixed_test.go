package core

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// rowsOnly hides a table's in-memory rows, so Encode reads it in windows.
type rowsOnly struct{ *Table }

func (s rowsOnly) Rows() int                      { return s.Table.Rows() }
func (s rowsOnly) Dim() int                       { return s.Table.Dim() }
func (s rowsOnly) Row(i int, dst []float32) error { return s.Table.Row(i, dst) }

// Encode keeps every row as EncodeRow and DecodeRow would, from a table in
// memory and from one read a window at a time (several windows).
func TestEncodeMixed(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	tb, tiers := randomTable(r, 2*mixedWindow+333, 5)
	for _, src := range []RowSource{tb, rowsOnly{tb}} {
		m, err := Encode(src, tiers)
		if err != nil {
			t.Fatal(err)
		}
		bp := m.Params()
		if want := UsedBlockTiers(tiers); bp == nil || len(bp.Tiers) != len(want) || bp.Block != DefaultBlock {
			t.Fatalf("%T: block parameters %+v, want for tiers %v", src, bp, want)
		}
		got, want := make([]float32, 5), make([]float32, 5)
		for i, tr := range tiers {
			b := encodeRef(tr, tb.Data[i*5:(i+1)*5], i, bp)
			if tr.Block() {
				s, bias := bp.Of(tr, i)
				DecodeBlockRow(tr, want, b, s, bias)
			} else {
				DecodeRow(tr, want, b)
			}
			if err := m.Row(i, got); err != nil {
				t.Fatal(err)
			}
			for j := range got {
				if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
					t.Fatalf("%T: row %d (tier %v) value %d is %v, want %v", src, i, tr, j, got[j], want[j])
				}
			}
		}
		if m.TierCounts() != counts64(tiers) {
			t.Fatalf("TierCounts %v, want %v", m.TierCounts(), counts64(tiers))
		}
		// Each tier's rows, in row order, as a .shark file's block holds them.
		var blocks [NumTiers][]byte
		for i, tr := range tiers {
			blocks[tr] = append(blocks[tr], encodeRef(tr, tb.Data[i*5:(i+1)*5], i, bp)...)
		}
		for tr := range blocks {
			if !bytes.Equal(m.TierRows(Tier(tr)), blocks[tr]) {
				t.Fatalf("%T: the %v rows differ from EncodeRow's", src, Tier(tr))
			}
		}
	}
	bad := append([]Tier{}, tiers...)
	bad[7] = NumTiers
	if _, err := Encode(tb, bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a bad tier: %v", err)
	}
	if _, err := Encode(tb, tiers[1:]); !errors.Is(err, ErrInvalid) {
		t.Fatalf("too few tiers: %v", err)
	}
}

func counts64(tiers []Tier) [NumTiers]int64 {
	var c [NumTiers]int64
	for i, n := range Counts(tiers) {
		c[i] = int64(n)
	}
	return c
}
