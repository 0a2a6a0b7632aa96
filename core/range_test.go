package core

import (
	"math"
	"testing"
)

// rangeRows are rows at the edges of binary16: past its largest value, a
// range only int8's scale can span, just under and at where fp16
// overflows, tiny
// values that every lossy tier zeroes, and tiny values beside a zero
// that only the rowwise tiers zero (their scale rounds to 0).
var rangeRows = []struct {
	name  string
	row   []float32
	holds [NumTiers]bool // fp32, fp16, int8, int4
	zero  [NumTiers]bool
}{
	{"scaled by 1e6", []float32{1.5e6, -2e6, 3e5, 1e6}, [NumTiers]bool{true, false, false, false}, [NumTiers]bool{}},
	{"0 to 1e6", []float32{0, 1e6, 5e5, 2e5}, [NumTiers]bool{true, false, true, false}, [NumTiers]bool{}},
	{"just under 65520", []float32{65519, -65519, 1, 0}, [NumTiers]bool{true, true, true, true}, [NumTiers]bool{}},
	{"65520", []float32{65520, 1, 2, 3}, [NumTiers]bool{true, false, true, true}, [NumTiers]bool{}},
	{"Adam's exp_avg_sq", []float32{3e-9, 2.5e-9, 4e-9, 1e-9}, [NumTiers]bool{true, true, true, true}, [NumTiers]bool{false, true, true, true}},
	{"0 to 1e-6", []float32{0, 1e-6, 5e-7, 2e-7}, [NumTiers]bool{true, true, true, true}, [NumTiers]bool{false, false, true, false}},
	{"0 to 1e-7", []float32{0, 1e-7, 5e-8, 2e-8}, [NumTiers]bool{true, true, true, true}, [NumTiers]bool{false, false, true, true}},
	{"ordinary", []float32{0.1, -0.2, 0.3, 0.05}, [NumTiers]bool{true, true, true, true}, [NumTiers]bool{}},
}

// decoded is row encoded in tier t and decoded: what a file would hold.
func decoded(t Tier, row []float32) []float32 {
	buf := make([]byte, t.RowBytes(len(row)))
	EncodeRow(t, buf, row)
	out := make([]float32, len(row))
	DecodeRow(t, out, buf)
	return out
}

// The measured facts agree with encoding and decoding the row: a tier
// "holds" a row exactly when every decoded value is finite, and "zeroes"
// it exactly when every decoded value is 0; both measuring paths (with
// errors, and priorities alone) say so.
func TestTiersHoldRowsInBinary16Range(t *testing.T) {
	for _, c := range rangeRows {
		e, _ := MeasureRow(c.row)
		p, _ := priorityOnly(c.row)
		for tier := FP16; tier < DefaultTiers; tier++ {
			back := decoded(tier, c.row)
			fin, zero := true, true
			for _, v := range back {
				fin = fin && !math.IsInf(float64(v), 0) && !math.IsNaN(float64(v))
				zero = zero && v == 0
			}
			if fin != c.holds[tier] || zero != c.zero[tier] {
				t.Fatalf("%s: %v decodes to %v; the test expects holds=%v zero=%v", c.name, tier, back, c.holds[tier], c.zero[tier])
			}
			for _, m := range []RowError{e, p} {
				if math.IsInf(m.SSE[tier], 1) == c.holds[tier] || m.Zero[tier] != c.zero[tier] {
					t.Fatalf("%s: %v measured SSE %v zero %v; decoded %v", c.name, tier, m.SSE[tier], m.Zero[tier], back)
				}
			}
			s := StatOf(1, e)
			if s.Zeroes(tier) != c.zero[tier] || (c.holds[tier] && s.AbsErr(tier) != math.Abs(float64(float32(e.MaxAbs[tier])))) {
				t.Fatalf("%s: %v packed as %+v", c.name, tier, s)
			}
		}
	}
}

// Every rule keeps a row out of a tier that cannot hold it, even a fixed
// fraction that asks for that tier, and a budget with the row at priority
// 0 (whose weighted error was 0 x Inf); the summary counts such rows, and
// the rows a tier zeroes.
func TestRulesKeepRowsOutOfTiersThatCannotHoldThem(t *testing.T) {
	var st MemStats
	for _, c := range rangeRows {
		e, _ := MeasureRow(c.row)
		st = append(st, StatOf(0, e))
	}
	all := [NumTiers]bool{true, true, true, true}
	least, err := MinBytes([]StatTable{{Dim: 4, Stats: st}}, all, RowsOnly)
	if err != nil {
		t.Fatal(err)
	}
	rules := []Rule{{By: ByBudget, Budget: least, Allowed: all}, {By: ByBudget, Budget: 1 << 20, Allowed: all},
		{By: ByThresholds, Thresholds: [3]float64{9, 9, 9}}, {By: ByThresholds, Thresholds: [3]float64{9, 9, 0}},
		{By: ByThresholds, Thresholds: [3]float64{9, 0, 0}}}
	for tier := FP16; tier < DefaultTiers; tier++ {
		var f [NumTiers]float64
		f[tier] = 1
		rules = append(rules, Rule{By: ByFractions, Fractions: f})
	}
	for _, rule := range rules {
		fns, err := Assign([]StatTable{{Dim: 4, Stats: st}}, rule, RowsOnly)
		if err != nil {
			t.Fatalf("%+v: %v", rule, err)
		}
		ts, err := StatsOf(4, st, fns[0], RowsOnly)
		if err != nil {
			t.Fatal(err)
		}
		var zeroed int64
		for r, c := range rangeRows {
			got := fns[0](r, &st[r])
			if !c.holds[got] {
				t.Fatalf("%v %+v: %s in %v, which cannot hold it", rule.By, rule, c.name, got)
			}
			if c.zero[got] {
				zeroed++
			}
		}
		if ts.Unfit != 3 || ts.Zeroed != zeroed || math.IsNaN(ts.RMSE) || math.IsInf(ts.RMSE, 0) || math.IsInf(ts.MaxAbsErr, 0) {
			t.Fatalf("%v %+v: summary %+v, want 3 unfit rows, %d zeroed, finite errors", rule.By, rule, ts, zeroed)
		}
	}
}
