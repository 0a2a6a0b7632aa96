package core

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// RowStat is all that is kept of a row between passes: its priority, and the
// squared error and largest absolute error of each lossy tier (fp16, int8,
// int4), +Inf where the row cannot be stored lossily. 28 bytes, so that the
// stats of a table too large for memory can be spilled to disk and scanned
// again.
type RowStat struct {
	P      float32
	SSE    [3]float32
	MaxAbs [3]float32
}

// Err is the squared error of tier t (0 for fp32).
func (s *RowStat) Err(t Tier) float64 {
	if t == FP32 {
		return 0
	}
	return float64(s.SSE[t-1])
}

// StatOf packs a priority and a measured row error.
func StatOf(p float64, e RowError) RowStat {
	return RowStat{P: float32(p),
		SSE:    [3]float32{float32(e.SSE[FP16]), float32(e.SSE[INT8]), float32(e.SSE[INT4])},
		MaxAbs: [3]float32{float32(e.MaxAbs[FP16]), float32(e.MaxAbs[INT8]), float32(e.MaxAbs[INT4])}}
}

// StatsOf summarises a table from its row stats and a tier for each row.
func StatsOf(dim int, st StatStore, tier func(r int, s *RowStat) Tier) (TableStats, error) {
	ts := TableStats{Rows: st.Len(), Dim: dim, BytesBefore: int64(st.Len()) * int64(dim) * 4}
	sse := 0.0
	err := st.Scan(func(r int, s *RowStat) {
		t := tier(r, s)
		ts.Tiers[t]++
		if t != FP32 {
			sse += float64(s.SSE[t-1])
			ts.MaxAbsErr = math.Max(ts.MaxAbsErr, float64(s.MaxAbs[t-1]))
			ts.WeightedErr += float64(s.P) * float64(s.SSE[t-1])
		}
	})
	if n := st.Len() * dim; n > 0 {
		ts.RMSE = math.Sqrt(sse / float64(n))
	}
	ts.BytesAfter = TableBytes(dim, ts.Tiers)
	return ts, err
}

// RangeSource is a RowSource that can also read a range of rows at once,
// which sources behind a file do much faster than row by row.
type RangeSource interface {
	RowSource
	ReadRows(lo, hi int, dst []float32) error
}

// ReadRows fills dst with rows [lo, hi) of src, in one read when src can.
func ReadRows(src RowSource, lo, hi int, dst []float32) error {
	if rs, ok := src.(RangeSource); ok {
		return rs.ReadRows(lo, hi, dst)
	}
	d := src.Dim()
	for r := lo; r < hi; r++ {
		if err := src.Row(r, dst[(r-lo)*d:(r-lo+1)*d]); err != nil {
			return err
		}
	}
	return nil
}

// SliceSource is a RowSource held in memory whose rows can be used in place.
type SliceSource interface {
	RowSource
	RowSlice(lo, hi int) []float32
}

// RowSlice returns rows [lo, hi) without a copy.
func (t *Table) RowSlice(lo, hi int) []float32 { return t.Data[lo*t.D : hi*t.D] }

// ReadRows copies rows [lo, hi).
func (t *Table) ReadRows(lo, hi int, dst []float32) error {
	copy(dst, t.Data[lo*t.D:hi*t.D])
	return nil
}

// StatStore holds one table's row stats and can be scanned in row order any
// number of times.
type StatStore interface {
	Len() int
	Scan(fn func(r int, s *RowStat)) error
}

// MemStats is a StatStore in memory.
type MemStats []RowStat

func (m MemStats) Len() int { return len(m) }
func (m MemStats) Scan(fn func(r int, s *RowStat)) error {
	for r := range m {
		fn(r, &m[r])
	}
	return nil
}

// StatTable is one table's input to SolveStream.
type StatTable struct {
	Dim   int
	Stats StatStore
}

// Decision is a solved budget: the tier of every row follows from its stats
// alone, so a table's tiers can be regenerated in any pass without being
// stored.
type Decision struct {
	tiers    []Tier
	hi, lo   float64 // Lagrange multipliers: hi fits the budget, lo does not
	gain     float64 // upgrades towards lo's choice with a larger gain are taken
	Bytes    int64   // the stored size of the decision
	Counts   [][NumTiers]int64
	allTiers [NumTiers]bool
}

func (d *Decision) choose(dim int, s *RowStat, lambda float64) Tier {
	best, bestCost, bestBytes := d.tiers[0], math.Inf(1), 0
	all := rowBytesAll(dim)
	for _, t := range d.tiers {
		rb := all[t]
		c := weight(s, t) + lambda*float64(rb)
		// Ties go to the smaller row, then to the more precise tier.
		if c < bestCost || (c == bestCost && rb < bestBytes) {
			best, bestCost, bestBytes = t, c, rb
		}
	}
	return best
}

// narrowBins is the resolution of narrow's histogram.
const narrowBins = 1 << 16

// narrow estimates, in one scan, where in [10^llo, 10^lhi] the stored size
// falls to the budget: each row's tier at 10^llo, and the multipliers at
// which it moves to a smaller tier (the breaks of the lower envelope of its
// cost lines, ties to the smaller row as in choose), binned by log10. It
// returns the bins where the estimate crosses the budget, widened by a bin
// on each side; the caller checks them. The estimate counts row bytes and
// takes the tables' other bytes (index, padding) as fixed but for the
// padding's slack.
func (d *Decision) narrow(tables []StatTable, budget int64, llo, lhi float64) (float64, float64, error) {
	type acc struct {
		counts [NumTiers]int64
		rows   int64
		hist   []int64
	}
	hist := make([]int64, narrowBins)
	width := (lhi - llo) / narrowBins
	var rows, fixed int64
	for _, tb := range tables {
		var rb [NumTiers]int64
		for t := range rb {
			rb[t] = int64(Tier(t).RowBytes(tb.Dim))
		}
		lo, hi := math.Pow(10, llo), math.Pow(10, lhi)
		accs, err := scanAll(tb.Stats, func() *acc { return &acc{hist: make([]int64, narrowBins)} }, func(a *acc, _ int, s *RowStat) {
			cur := d.choose(tb.Dim, s, lo)
			a.counts[cur]++
			a.rows += rb[cur]
			lambda := lo
			for {
				wc := weight(s, cur)
				next, at := cur, math.Inf(1)
				for _, t := range d.tiers {
					if rb[t] >= rb[cur] {
						continue
					}
					wt := weight(s, t)
					if math.IsInf(wt, 1) {
						continue
					}
					l := (wt - wc) / float64(rb[cur]-rb[t])
					if l < at || (l == at && rb[t] < rb[next]) {
						next, at = t, l
					}
				}
				if next == cur || !(at < hi) {
					return
				}
				lambda = max(lambda, at)
				k := int((math.Log10(lambda) - llo) / width)
				a.hist[min(max(k, 0), narrowBins-1)] += rb[next] - rb[cur]
				cur = next
			}
		})
		if err != nil {
			return llo, lhi, err
		}
		var counts [NumTiers]int64
		for _, a := range accs {
			for t, c := range a.counts {
				counts[t] += c
			}
			rows += a.rows
			for k, h := range a.hist {
				hist[k] += h
			}
		}
		var rowBytes int64
		for t, c := range counts {
			rowBytes += c * rb[t]
		}
		fixed += TableBytes(tb.Dim, counts) - rowBytes
	}
	// The other bytes are not quite fixed: each tier's block is padded to
	// a multiple of Align. The interval spans that much either way.
	slack := int64(NumTiers*Align) * int64(len(tables))
	size := rows + fixed
	kLo, kHi := -1, -1
	for k, delta := range hist {
		size += delta
		if kLo < 0 && size <= budget+slack {
			kLo = k
		}
		if size <= budget-slack {
			kHi = k
			break
		}
	}
	if kLo < 0 || kHi < 0 {
		return llo, lhi, nil
	}
	return max(llo, llo+float64(kLo-1)*width), min(lhi, llo+float64(kHi+2)*width), nil
}

// fewGains is how many upgrades narrowGain lists one by one.
const fewGains = 4096

type upgradeGain struct {
	gain  float64
	bytes int64 // the extra bytes it takes
}

// narrowGain is narrow for the gain threshold that fills the slack: one
// scan bins each row's upgrade (the tier it takes at lo instead of hi) by
// log10 of its gain, and the size at a threshold is the size at hi plus the
// upgrades above it. It returns the bins, widened, where that estimate
// crosses the budget, which the caller checks; and, if there are at most
// fewGains upgrades, their distinct gains in order with the estimated size
// at each as the threshold, for the caller to bisect over exactly.
func (d *Decision) narrowGain(tables []StatTable, budget int64, glo, ghi float64) (float64, float64, []float64, []int64, error) {
	type acc struct {
		counts [NumTiers]int64
		hist   []int64
		gains  []upgradeGain // every upgrade, while there are few
		many   bool
	}
	hist := make([]int64, narrowBins)
	width := (ghi - glo) / narrowBins
	var total int64
	var gains []upgradeGain
	many := false
	for _, tb := range tables {
		accs, err := scanAll(tb.Stats, func() *acc { return &acc{hist: make([]int64, narrowBins)} }, func(a *acc, _ int, s *RowStat) {
			t := d.choose(tb.Dim, s, d.hi)
			a.counts[t]++
			if u, g, ok := d.upgrade(tb.Dim, s, t); ok {
				db := int64(u.RowBytes(tb.Dim) - t.RowBytes(tb.Dim))
				if !a.many {
					if len(a.gains) < fewGains {
						a.gains = append(a.gains, upgradeGain{g, db})
					} else {
						a.many, a.gains = true, nil
					}
				}
				k := int((math.Log10(g) - glo) / width)
				a.hist[min(max(k, 0), narrowBins-1)] += db
			}
		})
		if err != nil {
			return glo, ghi, nil, nil, err
		}
		var counts [NumTiers]int64
		for _, a := range accs {
			for t, c := range a.counts {
				counts[t] += c
			}
			for k, h := range a.hist {
				hist[k] += h
			}
			many = many || a.many
			gains = append(gains, a.gains...)
		}
		total += TableBytes(tb.Dim, counts)
	}
	if many || len(gains) > fewGains {
		gains = nil
	}
	slack := int64(NumTiers*Align) * int64(len(tables))
	// From the highest gains down, the size grows: find the lowest bin edge
	// that surely fits and the highest that surely does not.
	kFit, kNot := -1, -1
	size := total
	for k := narrowBins - 1; k >= 0; k-- {
		size += hist[k] // the size at threshold edge k: upgrades in bins k and up
		if size <= budget-slack {
			kFit = k
		}
		if size > budget+slack {
			kNot = k
			break
		}
	}
	nlo, nhi := glo, ghi
	if kNot >= 0 {
		nlo = max(glo, glo+float64(kNot-1)*width)
	}
	if kFit >= 0 {
		nhi = min(ghi, glo+float64(kFit+1)*width)
	}
	if len(gains) == 0 {
		return nlo, nhi, nil, nil, nil
	}
	// The distinct gains in order, each with the estimated size when it is
	// the threshold (the upgrades above it taken).
	slices.SortFunc(gains, func(a, b upgradeGain) int { return cmp.Compare(a.gain, b.gain) })
	var vals []float64
	var est []int64
	above := int64(0)
	for _, u := range gains {
		above += u.bytes
	}
	for i := 0; i < len(gains); {
		j := i
		for j < len(gains) && gains[j].gain == gains[i].gain {
			above -= gains[j].bytes
			j++
		}
		vals = append(vals, gains[i].gain)
		est = append(est, total+above)
		i = j
	}
	return nlo, nhi, vals, est, nil
}

// weight is a row's weighted error in tier t, the cost choose weighs
// against bytes: infinite for an error that is (whatever the priority),
// and 0 for a row of priority 0. Written to be inlined into choose.
func weight(s *RowStat, t Tier) float64 {
	e := s.Err(t)
	if e > math.MaxFloat64 || e < -math.MaxFloat64 {
		return math.Inf(1)
	}
	if s.P == 0 {
		return 0
	}
	return float64(s.P) * e
}

// upgrade returns the tier a row takes at lo and its error reduction per
// extra byte, if it differs from the tier at hi.
func (d *Decision) upgrade(dim int, s *RowStat, at Tier) (Tier, float64, bool) {
	if d.hi == d.lo {
		return at, 0, false
	}
	u := d.choose(dim, s, d.lo)
	if u == at || u.RowBytes(dim) <= at.RowBytes(dim) {
		return at, 0, false
	}
	de := float64(s.P) * (s.Err(at) - s.Err(u))
	return u, de / float64(u.RowBytes(dim)-at.RowBytes(dim)), true
}

// Tier is the tier of a row of a table of the given dim under d.
func (d *Decision) Tier(dim int, s *RowStat) Tier {
	t := d.choose(dim, s, d.hi)
	if u, g, ok := d.upgrade(dim, s, t); ok && g > d.gain {
		return u
	}
	return t
}

// SolveStream is SolveBudget over stats that may live on disk: the same
// Lagrangian sweep (bisect lambda to the smallest that fits), then the slack
// filled with the upgrades that the next-smaller lambda would make, best
// error reduction per byte first, by bisecting a threshold on that gain.
// Every step is a scan; nothing per row is kept in memory.
func SolveStream(tables []StatTable, budget int64, allowed [NumTiers]bool) (*Decision, error) {
	d := &Decision{allTiers: allowed}
	for t := Tier(0); t < NumTiers; t++ {
		if allowed[t] {
			d.tiers = append(d.tiers, t)
		}
	}
	if len(d.tiers) == 0 {
		return nil, fmt.Errorf("%w: no tier allowed", ErrInvalid)
	}
	// size scans every table with a tier function and returns the bytes.
	size := func(tier func(dim int, s *RowStat) Tier) (int64, [][NumTiers]int64, error) {
		var total int64
		counts := make([][NumTiers]int64, len(tables))
		for i, tb := range tables {
			accs, err := scanAll(tb.Stats, func() *[NumTiers]int64 { return new([NumTiers]int64) },
				func(a *[NumTiers]int64, _ int, s *RowStat) { a[tier(tb.Dim, s)]++ })
			if err != nil {
				return 0, nil, err
			}
			for _, a := range accs {
				for t, c := range a {
					counts[i][t] += c
				}
			}
			total += TableBytes(tb.Dim, counts[i])
		}
		return total, counts, nil
	}
	at := func(lambda float64) (int64, error) {
		b, _, err := size(func(dim int, s *RowStat) Tier { return d.choose(dim, s, lambda) })
		return b, err
	}
	const lambdaMax = 1e300
	need, err := at(lambdaMax)
	if err != nil {
		return nil, err
	}
	if need > budget {
		return nil, fmt.Errorf("%w: the smallest possible encoding takes %d bytes, over the budget of %d", ErrBudget, need, budget)
	}
	d.lo, d.hi = 0, lambdaMax
	if b, err := at(0); err != nil {
		return nil, err
	} else if b <= budget {
		d.hi = 0
	} else {
		llo, lhi := -300.0, 300.0
		// Two scans that histogram where rows change tier narrow the
		// interval to a few bins; each is checked by a scan, and the
		// bisection below finishes (or, if a check fails, does it all).
		for range 2 {
			nlo, nhi, err := d.narrow(tables, budget, llo, lhi)
			if err != nil {
				return nil, err
			}
			if nlo == llo && nhi == lhi {
				break
			}
			bl, err := at(math.Pow(10, nlo))
			if err != nil {
				return nil, err
			}
			bh, err := at(math.Pow(10, nhi))
			if err != nil {
				return nil, err
			}
			if bl <= budget || bh > budget {
				break // the estimate missed: bisect the interval as it was
			}
			llo, lhi = nlo, nhi
		}
		for i := 0; i < 200 && lhi-llo > 1e-5; i++ { // lambda to 0.002%; the gain threshold fills the rest
			mid := (llo + lhi) / 2
			b, err := at(math.Pow(10, mid))
			if err != nil {
				return nil, err
			}
			if b <= budget {
				lhi = mid
			} else {
				llo = mid
			}
		}
		d.lo, d.hi = math.Pow(10, llo), math.Pow(10, lhi)
		if b, err := at(d.hi); err != nil {
			return nil, err
		} else if b > budget {
			d.hi = lambdaMax // padding made the size non-monotone at the edge
		}
	}
	// Fill the slack: find the smallest gain threshold that still fits.
	d.gain = math.Inf(1)
	if d.hi != d.lo {
		maxGain := 0.0
		for _, tb := range tables {
			accs, err := scanAll(tb.Stats, func() *float64 { return new(float64) }, func(m *float64, _ int, s *RowStat) {
				if _, g, ok := d.upgrade(tb.Dim, s, d.choose(tb.Dim, s, d.hi)); ok && g > *m {
					*m = g
				}
			})
			if err != nil {
				return nil, err
			}
			for _, m := range accs {
				maxGain = max(maxGain, *m)
			}
		}
		if maxGain > 0 {
			fits := func(g float64) (bool, error) {
				d.gain = g
				b, _, err := size(d.Tier)
				return b <= budget, err
			}
			glo, ghi := math.Log10(maxGain)-30, math.Log10(maxGain)
			exact := math.NaN() // the threshold, when found among few gains
			if ok, err := fits(math.Pow(10, glo)); err != nil {
				return nil, err
			} else if ok {
				ghi = glo
			} else {
				for range 2 { // as for lambda: histogram, check, then bisect
					nlo, nhi, gains, est, err := d.narrowGain(tables, budget, glo, ghi)
					if err != nil {
						return nil, err
					}
					if gains != nil {
						// Few upgrades: the threshold is one of their gains
						// (upgrades above it taken), or +Inf for none. The
						// smallest that fits, by bisection over the list,
						// between the estimates that surely do not fit and
						// surely do (they are off by padding only).
						lo, hi := -1, len(gains) // gains[hi] fits (len: +Inf), gains[lo] does not
						slack := int64(NumTiers*Align) * int64(len(tables))
						for j, e := range est {
							if e > budget+slack {
								lo = j
							}
							if e <= budget-slack && hi == len(gains) {
								hi = j
							}
						}
						hi = max(hi, lo+1)
						for hi-lo > 1 {
							mid := (lo + hi) / 2
							ok, err := fits(gains[mid])
							if err != nil {
								return nil, err
							}
							if ok {
								hi = mid
							} else {
								lo = mid
							}
						}
						exact = math.Inf(1)
						if hi < len(gains) {
							exact = gains[hi]
						}
						break
					}
					if nlo == glo && nhi == ghi {
						break
					}
					okLo, err := fits(math.Pow(10, nlo))
					if err != nil {
						return nil, err
					}
					okHi, err := fits(math.Pow(10, nhi))
					if err != nil {
						return nil, err
					}
					if okLo || !okHi {
						break
					}
					glo, ghi = nlo, nhi
				}
				for i := 0; math.IsNaN(exact) && i < 100 && ghi-glo > 1e-5; i++ {
					mid := (glo + ghi) / 2
					ok, err := fits(math.Pow(10, mid))
					if err != nil {
						return nil, err
					}
					if ok {
						ghi = mid
					} else {
						glo = mid
					}
				}
			}
			d.gain = math.Pow(10, ghi)
			if !math.IsNaN(exact) {
				d.gain = exact
			}
			if ok, err := fits(d.gain); err != nil {
				return nil, err
			} else if !ok {
				d.gain = math.Inf(1)
			}
		}
	}
	d.Bytes, d.Counts, err = size(d.Tier)
	if err != nil {
		return nil, err
	}
	return d, nil
}
