package core

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// RowStat is all that is kept of a row between passes: its priority, and the
// squared error and largest absolute error of each lossy tier (fp16 to
// int2-block, Tier-1 the index), +Inf where the tier cannot hold the row.
// A block tier's error is the row's under its block's parameters
// (BlockParams). 60 bytes, so that the stats of a table too large for
// memory can be spilled to disk and scanned again. A largest error is
// never negative, so its sign bit carries one more fact without a byte
// more: set, the tier decodes the row (not all zeros) to all zeros
// (Zeroes).
type RowStat struct {
	P      float32
	SSE    [NumTiers - 1]float32
	MaxAbs [NumTiers - 1]float32
}

// Err is the squared error of tier t (0 for fp32).
func (s *RowStat) Err(t Tier) float64 {
	if t == FP32 {
		return 0
	}
	return float64(s.SSE[t-1])
}

// AbsErr is the largest absolute error of tier t (0 for fp32).
func (s *RowStat) AbsErr(t Tier) float64 {
	if t == FP32 {
		return 0
	}
	return math.Abs(float64(s.MaxAbs[t-1]))
}

// Zeroes reports whether tier t decodes the row, which is not all zeros,
// to all zeros.
func (s *RowStat) Zeroes(t Tier) bool { return t != FP32 && math.Signbit(float64(s.MaxAbs[t-1])) }

// Unfit reports whether some default lossy tier (fp16, int8, int4) cannot
// hold the row (a NaN or an infinity in it, or values, a scale or a bias
// past binary16's range). The later tiers hold a finite row exactly when
// their rowwise codec of the same width does.
func (s *RowStat) Unfit() bool {
	for _, e := range s.SSE[:DefaultTiers-1] {
		if math.IsInf(float64(e), 1) {
			return true
		}
	}
	return false
}

// StatOf packs a priority and a measured row error.
func StatOf(p float64, e RowError) RowStat {
	s := RowStat{P: float32(p)}
	for t := FP16; t < NumTiers; t++ {
		s.SSE[t-1], s.MaxAbs[t-1] = float32(e.SSE[t]), float32(e.MaxAbs[t])
		if e.Zero[t] {
			s.MaxAbs[t-1] = float32(math.Copysign(float64(s.MaxAbs[t-1]), -1))
		}
	}
	return s
}

// StatStore holds one table's row stats and can be scanned in row order any
// number of times.
type StatStore interface {
	Len() int
	Scan(fn func(r int, s *RowStat)) error
}

// A RangeStats can scan a range of its rows on its own, so that a pass over
// a table's stats can run on every core.
type RangeStats interface {
	StatStore
	ScanRange(lo, hi int, fn func(r int, s *RowStat)) error
}

// MemStats is a StatStore in memory.
type MemStats []RowStat

func (m MemStats) Len() int { return len(m) }

func (m MemStats) Scan(fn func(r int, s *RowStat)) error { return m.ScanRange(0, len(m), fn) }

// ScanRange scans rows [lo, hi).
func (m MemStats) ScanRange(lo, hi int, fn func(r int, s *RowStat)) error {
	for r := lo; r < hi; r++ {
		fn(r, &m[r])
	}
	return nil
}

// scanShard is the rows a worker of scanAll takes at a time.
const scanShard = 1 << 16

// scanAll passes every row of st to fn with an accumulator of its own
// worker (made by newAcc), and returns the accumulators. The callers only
// add into them and combine them in ways that do not depend on order
// (integer sums, maxima, lists they sort), so results do not depend on the
// number of cores.
func scanAll[A any](st StatStore, newAcc func() A, fn func(a A, r int, s *RowStat)) ([]A, error) {
	rs, ok := st.(RangeStats)
	n := st.Len()
	workers := min(runtime.GOMAXPROCS(0), (n+scanShard-1)/scanShard)
	if !ok || workers <= 1 {
		a := newAcc()
		err := st.Scan(func(r int, s *RowStat) { fn(a, r, s) })
		return []A{a}, err
	}
	accs := make([]A, workers)
	errs := make([]error, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		accs[w] = newAcc()
		wg.Go(func() {
			for errs[w] == nil {
				lo := int(next.Add(scanShard)) - scanShard
				if lo >= n {
					return
				}
				errs[w] = rs.ScanRange(lo, min(lo+scanShard, n), func(r int, s *RowStat) { fn(accs[w], r, s) })
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return accs, nil
}
