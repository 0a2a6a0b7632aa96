package core

import "math"

// NarrowStat is a RowStat of the default lossy tiers alone (fp16, int8,
// int4): 28 bytes where a RowStat takes 60. A table measured without the
// tiers after int4 has +Inf for their errors in every row (RowError's
// unmeasured), so keeping them would double the memory, the spilled bytes
// and the bytes each solver pass reads, for nothing.
type NarrowStat struct {
	P      float32
	SSE    [DefaultTiers - 1]float32
	MaxAbs [DefaultTiers - 1]float32
}

// NarrowOf is s without the tiers after int4, which must be unmeasured
// (+Inf): Narrowable reports it.
func NarrowOf(s *RowStat) NarrowStat {
	n := NarrowStat{P: s.P}
	copy(n.SSE[:], s.SSE[:DefaultTiers-1])
	copy(n.MaxAbs[:], s.MaxAbs[:DefaultTiers-1])
	return n
}

// Narrowable reports whether s's tiers after int4 are unmeasured, so that
// NarrowOf loses nothing.
func Narrowable(s *RowStat) bool {
	for t := DefaultTiers - 1; t < NumTiers-1; t++ {
		if !math.IsInf(float64(s.SSE[t]), 1) || !math.IsInf(float64(s.MaxAbs[t]), 1) {
			return false
		}
	}
	return true
}

// Widen sets s to n's row: its default tiers from n, the later ones
// unmeasured.
func (n *NarrowStat) Widen(s *RowStat) {
	s.P = n.P
	copy(s.SSE[:], n.SSE[:])
	copy(s.MaxAbs[:], n.MaxAbs[:])
	inf := float32(math.Inf(1))
	for t := DefaultTiers - 1; t < NumTiers-1; t++ {
		s.SSE[t], s.MaxAbs[t] = inf, inf
	}
}

// Fill sets s's priority and default tiers to n's, leaving its later
// tiers: a scan widens one RowStat (Widen) and fills it for every row.
func (n *NarrowStat) Fill(s *RowStat) {
	s.P = n.P
	s.SSE[0], s.SSE[1], s.SSE[2] = n.SSE[0], n.SSE[1], n.SSE[2]
	s.MaxAbs[0], s.MaxAbs[1], s.MaxAbs[2] = n.MaxAbs[0], n.MaxAbs[1], n.MaxAbs[2]
}

// NarrowStats is a StatStore in memory of rows measured in the default
// tiers only. A scan passes each row widened into a RowStat of its own,
// valid only during the call (as a spilled store's are).
type NarrowStats []NarrowStat

func (m NarrowStats) Len() int { return len(m) }

func (m NarrowStats) Scan(fn func(r int, s *RowStat)) error { return m.ScanRange(0, len(m), fn) }

// ScanRange scans rows [lo, hi).
func (m NarrowStats) ScanRange(lo, hi int, fn func(r int, s *RowStat)) error {
	var s RowStat
	if lo < hi {
		m[lo].Widen(&s)
	}
	for r := lo; r < hi; r++ {
		m[r].Fill(&s)
		fn(r, &s)
	}
	return nil
}
