package core

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// TableStats summarises a table's assignment and reconstruction error.
type TableStats struct {
	Rows, Dim   int
	Tiers       [NumTiers]int64 // rows per tier
	BytesBefore int64           // fp32
	BytesAfter  int64           // stored, index and padding included
	RMSE        float64         // over all values
	MaxAbsErr   float64
	WeightedErr float64 // sum P_r * SSE_r
	// Unfit is the rows that some lossy tier cannot hold (RowStat.Unfit):
	// each is kept out of those tiers, at fp32 where none holds it.
	Unfit int64
	// Zeroed is the rows stored in a tier that decodes them to all zeros
	// (RowStat.Zeroes): values too small for it, such as an optimizer's
	// squared-gradient averages.
	Zeroed int64
}

// StatsOf summarises a table from its row stats and a tier for each row,
// stored as st lays it out.
func StatsOf(dim int, rows StatStore, tier TierFunc, st Storage) (TableStats, error) {
	return Resolve(dim, rows, tier, st, nil)
}

// part is one shard's share of a summary, and its rows' tiers.
type part struct {
	lo        int
	tiers     []Tier
	counts    [NumTiers]int64
	unfit     int64
	zeroed    int64
	sse, werr float64
	maxAbs    float64
	err       error
}

func (p *part) add(t Tier, s *RowStat) {
	p.tiers = append(p.tiers, t)
	p.counts[t]++
	if s.Unfit() {
		p.unfit++
	}
	if s.Zeroes(t) {
		p.zeroed++
	}
	if t != FP32 {
		p.sse += float64(s.SSE[t-1])
		p.maxAbs = math.Max(p.maxAbs, s.AbsErr(t))
		p.werr += float64(s.P) * float64(s.SSE[t-1])
	}
}

// done hands the shard's tiers to put and lets them go.
func (p *part) done(put func(lo int, tiers []Tier) error) {
	if p.err == nil && put != nil {
		p.err = put(p.lo, p.tiers)
	}
	p.tiers = nil
}

// Resolve scans a table's stats once, on every core when the store can
// scan ranges, for each row's tier and the table's summary. put, if not
// nil, is handed the tiers of each shard of scanShard rows (from several
// goroutines; a multiple of 4 rows, so that 2-bit codes of different
// shards never share a byte). The sums are taken in row order within a
// shard and shard by shard after, so the summary does not depend on the
// number of cores.
func Resolve(dim int, rows StatStore, tier TierFunc, st Storage, put func(lo int, tiers []Tier) error) (TableStats, error) {
	n := rows.Len()
	ts := TableStats{Rows: n, Dim: dim, BytesBefore: int64(n) * int64(dim) * 4}
	parts := make([]part, (n+scanShard-1)/scanShard)
	for k := range parts {
		parts[k].lo = k * scanShard
	}
	if rs, ok := rows.(RangeStats); ok {
		eachShard(len(parts), func(k int) {
			p := &parts[k]
			p.tiers = make([]Tier, 0, min(scanShard, n-p.lo))
			p.err = rs.ScanRange(p.lo, min(n, p.lo+scanShard), func(r int, s *RowStat) { p.add(tier(r, s), s) })
			p.done(put)
		})
	} else {
		err := rows.Scan(func(r int, s *RowStat) {
			p := &parts[r/scanShard]
			p.add(tier(r, s), s)
			if r == min(n, p.lo+scanShard)-1 {
				p.done(put)
			}
		})
		if err != nil {
			return ts, err
		}
	}
	sse := 0.0
	for _, p := range parts {
		if p.err != nil {
			return ts, p.err
		}
		for t, c := range p.counts {
			ts.Tiers[t] += c
		}
		sse += p.sse
		ts.Unfit += p.unfit
		ts.Zeroed += p.zeroed
		ts.WeightedErr += p.werr
		ts.MaxAbsErr = math.Max(ts.MaxAbsErr, p.maxAbs)
	}
	if v := n * dim; v > 0 {
		ts.RMSE = math.Sqrt(sse / float64(v))
	}
	ts.BytesAfter = st.Bytes(dim, ts.Tiers)
	return ts, nil
}

// eachShard runs fn for shards 0..n-1 on every core.
func eachShard(n int, fn func(k int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= n {
					return
				}
				fn(k)
			}
		})
	}
	wg.Wait()
}
