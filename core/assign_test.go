package core

import (
	"math"
	"testing"
)

func TestAssignFractionsAndThresholds(t *testing.T) {
	p := []float64{5, 1, 4, 2, 3, 0, 0, 9, 8, 7}
	tiers, err := AssignFractions(p, [4]float64{0.2, 0.3, 0.3, 0.2})
	if err != nil {
		t.Fatal(err)
	}
	want := []Tier{FP16, INT8, FP16, INT8, INT8, INT4, INT4, FP32, FP32, FP16}
	for i := range want {
		if tiers[i] != want[i] {
			t.Fatalf("row %d: %v want %v (all %v)", i, tiers[i], want[i], tiers)
		}
	}
	if _, err := AssignFractions(p, [4]float64{0.5, 0.5, 0.5, 0}); err == nil {
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
		{By: ByBudget, Budget: 1 << 20, Allowed: [4]bool{true, true, true, true}},
		{By: ByFractions, Fractions: [4]float64{0, 0, 0, 1}},
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
		{By: ByFractions, Fractions: [4]float64{math.NaN(), 0, 0, 1}},
		{By: ByFractions, Fractions: [4]float64{0.5, 0.5, 0.5, 0}},
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
