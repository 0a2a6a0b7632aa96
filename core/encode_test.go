package core

import (
	"bytes"
	"errors"
	"math"
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
		got, want := make([]float32, 5), make([]float32, 5)
		for i, tr := range tiers {
			b := make([]byte, tr.RowBytes(5))
			EncodeRow(tr, b, tb.Data[i*5:(i+1)*5])
			DecodeRow(tr, want, b)
			if err := m.Row(i, got); err != nil {
				t.Fatal(err)
			}
			for j := range got {
				if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
					t.Fatalf("%T: row %d (tier %v) value %d is %v, want %v", src, i, tr, j, got[j], want[j])
				}
			}
		}
		if m.Bytes() != TableBytes(5, counts64(tiers)) {
			t.Fatalf("Bytes %d", m.Bytes())
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
