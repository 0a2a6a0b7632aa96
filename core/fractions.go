package core

import "math"

// Fixed fractions are assigned streaming, in a few passes over the
// priorities and no memory per row: the ranking of AssignFractions (highest
// priority first, ties by row id) is cut at each tier's boundary by a key
// (the priority of the boundary's last row, found by a radix histogram of
// the priorities' bits, 16 at a time) and a row id (the last row of that
// priority inside the boundary). A row's tier then follows from its own
// priority and id alone.

// rankKey orders priorities as the ranking does, as integers: a larger key
// ranks first; -0 is +0, and a NaN ranks last.
func rankKey(p float32) uint32 {
	if p != p {
		return 0
	}
	if p == 0 {
		p = 0
	}
	b := math.Float32bits(p)
	if b&0x80000000 != 0 {
		return ^b
	}
	return b | 0x80000000
}

// cut is a boundary of the ranking: the rows with a key above key, and
// those with key itself and a row id up to row, rank inside it.
type cut struct {
	key uint32
	row int
}

// inside reports whether a row ranks inside the boundary.
func (c cut) inside(key uint32, r int) bool { return key > c.key || (key == c.key && r <= c.row) }

// noRows is the boundary of no rows.
var noRows = cut{key: math.MaxUint32, row: -1}

// fractionTier is the TierFunc of fixed fractions cut at cuts.
func fractionTier(cuts [DefaultTiers - 1]cut) TierFunc {
	return func(r int, s *RowStat) Tier {
		k := rankKey(s.P)
		for t, c := range cuts {
			if c.inside(k, r) {
				return Tier(t)
			}
		}
		return INT4
	}
}

// fractionCuts finds the boundaries of the tiers but the last: the first
// round(cum_t * n) rows of the ranking, t = fp32, fp16, int8.
func fractionCuts(st StatStore, f [NumTiers]float64) ([DefaultTiers - 1]cut, error) {
	n := st.Len()
	cuts := [DefaultTiers - 1]cut{noRows, noRows, noRows}
	var need [DefaultTiers - 1]int64 // rows of the rank still to place, by tier
	cum := 0.0
	for t := range need {
		cum += f[t]
		need[t] = int64(min(n, int(math.Round(cum*float64(n)))))
		if need[t] == int64(n) { // every row: no search (a single tier)
			cuts[t], need[t] = cut{key: 0, row: n - 1}, 0
		}
	}
	if need == [DefaultTiers - 1]int64{} {
		return cuts, nil // every boundary at no row or every row (a single tier): no scan of the stats
	}
	// The key's high 16 bits, then its low 16 bits within the high bin.
	var key [DefaultTiers - 1]uint32
	for _, shift := range []uint32{16, 0} {
		hists, err := keyHistograms(st, func(k uint32, t int) (int, bool) {
			if need[t] == 0 || (shift == 0 && k>>16 != key[t]>>16) {
				return 0, false
			}
			return int(k >> shift & 0xffff), true
		})
		if err != nil {
			return cuts, err
		}
		for t := range need {
			if need[t] > 0 {
				b, above := rankBin(hists[t], need[t])
				key[t] |= uint32(b) << shift
				need[t] -= above
			}
		}
	}
	// need[t] rows of key[t] rank inside: the row of the last of them.
	for t := range need {
		if need[t] > 0 {
			row, err := nthRow(st, key[t], need[t])
			if err != nil {
				return cuts, err
			}
			cuts[t] = cut{key[t], row}
		}
	}
	return cuts, nil
}

// keyHistograms counts, for each tier's boundary, the rows by the bin that
// bin gives their key, if any.
func keyHistograms(st StatStore, bin func(k uint32, t int) (int, bool)) ([DefaultTiers - 1][]int64, error) {
	type acc [DefaultTiers - 1][]int64
	accs, err := scanAll(st, func() *acc {
		return &acc{make([]int64, 1<<16), make([]int64, 1<<16), make([]int64, 1<<16)}
	}, func(a *acc, _ int, s *RowStat) {
		k := rankKey(s.P)
		for t := range a {
			if b, ok := bin(k, t); ok {
				a[t][b]++
			}
		}
	})
	var out acc
	if err != nil {
		return out, err
	}
	out = *accs[0]
	for _, a := range accs[1:] {
		for t := range out {
			addInto(out[t], a[t])
		}
	}
	return out, nil
}

// rankBin is the bin, from the highest down, holding the rank's row number
// e (1-based), and how many rows rank in the bins above it.
func rankBin(h []int64, e int64) (int, int64) {
	var above int64
	for b := len(h) - 1; b > 0; b-- {
		if above+h[b] >= e {
			return b, above
		}
		above += h[b]
	}
	return 0, above
}

// nthRow is the row id of the m-th row (1-based, in row order) whose key
// is key: shards count their rows of the key on every core, and the shard
// holding the m-th is scanned for it.
func nthRow(st StatStore, key uint32, m int64) (int, error) {
	n := st.Len()
	counts := make([]int64, (n+scanShard-1)/scanShard)
	errs := make([]error, len(counts))
	count := func(lo, hi int, fn func(r int, s *RowStat)) error {
		if rs, ok := st.(RangeStats); ok {
			return rs.ScanRange(lo, hi, fn)
		}
		return st.Scan(func(r int, s *RowStat) {
			if r >= lo && r < hi {
				fn(r, s)
			}
		})
	}
	if _, ok := st.(RangeStats); ok {
		eachShard(len(counts), func(k int) {
			errs[k] = count(k*scanShard, min(n, (k+1)*scanShard), func(_ int, s *RowStat) {
				if rankKey(s.P) == key {
					counts[k]++
				}
			})
		})
	} else {
		errs[0] = st.Scan(func(r int, s *RowStat) {
			if rankKey(s.P) == key {
				counts[r/scanShard]++
			}
		})
	}
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	for k, c := range counts {
		if m > c {
			m -= c
			continue
		}
		row := -1
		err := count(k*scanShard, min(n, (k+1)*scanShard), func(r int, s *RowStat) {
			if rankKey(s.P) == key {
				if m--; m == 0 {
					row = r
				}
			}
		})
		return row, err
	}
	return n - 1, nil
}
