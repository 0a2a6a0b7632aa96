package core

import "testing"

// scanCount is a StatStore that counts the scans made of it.
type scanCount struct {
	MemStats
	scans int
}

func (c *scanCount) Scan(fn func(r int, s *RowStat)) error {
	c.scans++
	return c.MemStats.Scan(fn)
}

// A single tier's fraction of 1 (quantize --int8 1) puts every row in it
// with no scan of the stats: the boundaries are at no row and every row,
// and a radix search of the priorities (two full scans, on a spilled
// table two reads of the stats file) finds nothing. The tiers are those of
// the ranking all the same.
func TestSingleTierFractionsScanNothing(t *testing.T) {
	st := &scanCount{MemStats: make(MemStats, 5000)}
	for r := range st.MemStats {
		st.MemStats[r].P = float32(r%97) + 0.5
	}
	for _, one := range []Tier{FP32, FP16, INT8, INT4} {
		var f [NumTiers]float64
		f[one] = 1
		st.scans = 0
		cuts, err := fractionCuts(st, f)
		if err != nil {
			t.Fatal(err)
		}
		if st.scans != 0 {
			t.Errorf("%v at 1: %d scans of the stats", one, st.scans)
		}
		tier := fractionTier(cuts)
		for r := range st.MemStats {
			if got := tier(r, &st.MemStats[r]); got != one {
				t.Fatalf("%v at 1: row %d in %v", one, r, got)
			}
		}
	}
	var f [NumTiers]float64
	f[FP16], f[INT8] = 0.5, 0.5
	st.scans = 0
	if _, err := fractionCuts(st, f); err != nil || st.scans == 0 {
		t.Fatalf("two tiers: %d scans, %v", st.scans, err)
	}
}
