package core

import "testing"

// benchStats is one table of 1<<18 measured rows of dim 64, Zipf priorities.
func benchStats(b *testing.B) statTable {
	b.Helper()
	return zipfTables(3, []int{1 << 18}, 64)[0]
}

// BenchmarkSolveBudget is the solver alone (every pass over the stats) at
// 30% of fp32; ns/op over 1<<18 rows.
func BenchmarkSolveBudget(b *testing.B) {
	tb := benchStats(b)
	all := [NumTiers]bool{true, true, true, true}
	in := []StatTable{{Dim: tb.dim, Stats: tb.stats}}
	budget := fp32Bytes([]statTable{tb}) * 3 / 10
	b.ResetTimer()
	for b.Loop() {
		if _, err := SolveStream(in, budget, all, padded); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecisionTier is the per-row tier of a solved budget, as the
// encoder asks for it; ns/op over 1<<18 rows.
func BenchmarkDecisionTier(b *testing.B) {
	tb := benchStats(b)
	all := [NumTiers]bool{true, true, true, true}
	d, err := SolveStream([]StatTable{{Dim: tb.dim, Stats: tb.stats}}, fp32Bytes([]statTable{tb})*3/10, all, padded)
	if err != nil {
		b.Fatal(err)
	}
	var n [NumTiers]int
	tier := d.TierFunc(tb.dim)
	b.ResetTimer()
	for b.Loop() {
		for r := range tb.stats {
			n[tier(r, &tb.stats[r])]++
		}
	}
	if n[FP32]+n[FP16]+n[INT8]+n[INT4] == 0 {
		b.Fatal("no rows")
	}
}
