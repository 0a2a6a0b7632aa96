package core

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestAssignFractionsAndThresholds(t *testing.T) {
	p := []float64{5, 1, 4, 2, 3, 0, 0, 9, 8, 7}
	tiers, err := AssignFractions(p, [NumTiers]float64{0.2, 0.3, 0.3, 0.2})
	if err != nil {
		t.Fatal(err)
	}
	want := []Tier{FP16, INT8, FP16, INT8, INT8, INT4, INT4, FP32, FP32, FP16}
	for i := range want {
		if tiers[i] != want[i] {
			t.Fatalf("row %d: %v want %v (all %v)", i, tiers[i], want[i], tiers)
		}
	}
	if _, err := AssignFractions(p, [NumTiers]float64{0.5, 0.5, 0.5, 0}); err == nil {
		t.Fatal("fractions summing to 1.5 accepted")
	}
	th, err := AssignThresholds(p, [3]float64{8, 4, 1})
	if err != nil {
		t.Fatal(err)
	}
	if th[7] != FP32 || th[0] != FP16 || th[3] != INT8 || th[5] != INT4 {
		t.Fatalf("thresholds: %v", th)
	}
	if _, err := AssignThresholds(p, [3]float64{1, 4, 8}); err == nil {
		t.Fatal("increasing thresholds accepted")
	}
}

func TestNonFiniteRowsStayFP32(t *testing.T) {
	row := []float32{1, float32(math.NaN()), 2}
	e, _ := MeasureRow(row)
	st := MemStats{StatOf(0, e)}
	for _, rule := range []Rule{
		{By: ByBudget, Budget: 1 << 20, Allowed: [NumTiers]bool{true, true, true, true}},
		{By: ByFractions, Fractions: [NumTiers]float64{0, 0, 0, 1}},
		{By: ByThresholds, Thresholds: [3]float64{9, 9, 9}},
	} {
		tf, err := Assign([]StatTable{{Dim: 3, Stats: st}}, rule, RowsOnly)
		if err != nil {
			t.Fatal(err)
		}
		if got := tf[0](0, &st[0]); got != FP32 {
			t.Fatalf("%v: a row with a NaN in %v", rule.By, got)
		}
	}
}

func TestAssignRejectsBadRules(t *testing.T) {
	st := MemStats{{P: 1}}
	for _, rule := range []Rule{
		{By: ByFractions, Fractions: [NumTiers]float64{math.NaN(), 0, 0, 1}},
		{By: ByFractions, Fractions: [NumTiers]float64{0.5, 0.5, 0.5, 0}},
		{By: ByThresholds, Thresholds: [3]float64{1, 2, 3}},
		{By: ByThresholds, Thresholds: [3]float64{math.NaN(), 0, 0}},
		{By: ByBudget, Budget: 1 << 20},
		{By: Assignment(9)},
	} {
		if _, err := Assign([]StatTable{{Dim: 3, Stats: st}}, rule, RowsOnly); err == nil {
			t.Fatalf("%+v accepted", rule)
		}
	}
}

// serialStats is a StatStore that scans only whole, as a store on a medium
// that cannot be read in ranges would.
type serialStats struct{ MemStats }

func (s serialStats) Scan(fn func(r int, st *RowStat)) error { return s.MemStats.Scan(fn) }

// Streaming fixed fractions rank rows exactly as AssignFractions does in
// memory: ties (many, as access counts make them) by row id, -0 as +0, NaN
// last; across shards of the scan and in a store that scans only whole.
func TestFractionsStreamLikeTheSort(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{1, 7, 1000, 3*scanShard + 17} {
		for trial := range 4 {
			st := make(MemStats, n)
			pr := make([]float64, n)
			for i := range st {
				var p float32
				switch trial {
				case 0:
					p = float32(r.IntN(5)) // many ties
				case 1:
					p = float32(r.ExpFloat64())
				case 2:
					p = []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), -2, 3, float32(math.Inf(1))}[r.IntN(6)]
				default:
					p = 1 // all tied
				}
				st[i] = RowStat{P: p}
				pr[i] = float64(p)
			}
			for _, f := range [][NumTiers]float64{{0.1, 0.2, 0.3, 0.4}, {0, 0, 0, 1}, {1, 0, 0, 0}, {0.5, 0, 0.5, 0}, {0.333, 0.333, 0.334, 0}} {
				want, _ := AssignFractions(pr, f)
				for _, store := range []StatStore{st, serialStats{st}} {
					fns, err := Assign([]StatTable{{Dim: 8, Stats: store}}, Rule{By: ByFractions, Fractions: f}, RowsOnly)
					if err != nil {
						t.Fatal(err)
					}
					for i := range st {
						if got := fns[0](i, &st[i]); got != want[i] {
							t.Fatalf("n %d, trial %d, fractions %v, %T: row %d (P %v) is %v, the sort says %v", n, trial, f, store, i, st[i].P, got, want[i])
						}
					}
				}
			}
		}
	}
}

// Fractions a hair short of 1 (CheckFractions allows 1e-6) leave the
// int4 boundary short of the last row on a large table: the rows past it
// are int4, as fixed fractions end there, and the search for that
// boundary must not reach the tiers after int4 (it indexed histograms
// they do not have).
func TestFractionsShortOfOneEndAtInt4(t *testing.T) {
	const n = 600_000
	st := make(MemStats, n)
	for r := range st {
		st[r].P = float32(r%977) + 0.5
	}
	f := [NumTiers]float64{FP32: 0.3, FP16: 0.3, INT8: 0.3, INT4: 0.0999991}
	if err := CheckFractions(f); err != nil {
		t.Fatal(err)
	}
	cuts, err := fractionCuts(st, f)
	if err != nil {
		t.Fatal(err)
	}
	tier := fractionTier(cuts)
	var counts [NumTiers]int
	for r := range st {
		counts[tier(r, &st[r])]++
	}
	if counts[FP32] != 180_000 || counts[FP16] != 180_000 || counts[INT8] != 180_000 || counts[INT4] != 60_000 {
		t.Fatalf("rows per tier %v", counts)
	}
}
