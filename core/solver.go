package core

import (
	"fmt"
	"math"
)

// Decision is a solved budget: the tier of every row follows from its stats
// alone, so a table's tiers can be regenerated in any pass without being
// stored.
type Decision struct {
	tiers  []Tier
	hi, lo float64 // Lagrange multipliers: hi fits the budget, lo does not
	gain   float64 // upgrades towards lo's choice with a larger gain are taken
	Bytes  int64   // the stored size of the decision
	Counts [][NumTiers]int64
}

// Tier is the tier of a row of a table of the given dim under d.
func (d *Decision) Tier(dim int, s *RowStat) Tier {
	t := d.choose(dim, s, d.hi)
	if u, g, ok := d.upgrade(dim, s, t); ok && g > d.gain {
		return u
	}
	return t
}

// choose is the tier that minimises a row's weighted error plus lambda
// times its bytes.
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

// lambdaMax is a multiplier that prices every byte above any error.
const lambdaMax = 1e300

// SolveStream chooses a tier for every row of every table so that the
// tables' stored bytes (as st counts them) total at most budget,
// minimising sum_r P_r * SSE_r(tier), with allowed[t] false keeping tier t
// out. It is the Lagrangian sweep of DESIGN.md: bisect lambda to the
// smallest that fits, then fill the slack with the upgrades that the
// next-smaller lambda would make, best error reduction per byte first, by
// bisecting a threshold on that gain. Every step is a scan of the stats,
// which may live on disk; nothing per row is kept in memory.
func SolveStream(tables []StatTable, budget int64, allowed [NumTiers]bool, st Storage) (*Decision, error) {
	d := &Decision{gain: math.Inf(1)}
	for t := Tier(0); t < NumTiers; t++ {
		if allowed[t] {
			d.tiers = append(d.tiers, t)
		}
	}
	if len(d.tiers) == 0 {
		return nil, fmt.Errorf("%w: no tier allowed", ErrInvalid)
	}
	s := &solver{d: d, tables: tables, budget: budget, st: st}
	if err := s.fitLambda(); err != nil {
		return nil, err
	}
	if err := s.fillSlack(); err != nil {
		return nil, err
	}
	var err error
	d.Bytes, d.Counts, err = s.size(d.Tier)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// solver is one run of SolveStream.
type solver struct {
	d      *Decision
	tables []StatTable
	budget int64
	st     Storage
}

// size scans every table with a tier function and returns the stored
// bytes and each table's rows per tier.
func (s *solver) size(tier func(dim int, rs *RowStat) Tier) (int64, [][NumTiers]int64, error) {
	var total int64
	counts := make([][NumTiers]int64, len(s.tables))
	for i, tb := range s.tables {
		accs, err := scanAll(tb.Stats, func() *[NumTiers]int64 { return new([NumTiers]int64) },
			func(a *[NumTiers]int64, _ int, rs *RowStat) { a[tier(tb.Dim, rs)]++ })
		if err != nil {
			return 0, nil, err
		}
		for _, a := range accs {
			for t, c := range a {
				counts[i][t] += c
			}
		}
		total += s.st.TableBytes(tb.Dim, counts[i])
	}
	return total, counts, nil
}

// sizeAt is the stored size when every row takes its choice at lambda.
func (s *solver) sizeAt(lambda float64) (int64, error) {
	b, _, err := s.size(func(dim int, rs *RowStat) Tier { return s.d.choose(dim, rs, lambda) })
	return b, err
}

// fitsAt reports whether every row's choice at lambda fits the budget.
func (s *solver) fitsAt(lambda float64) (bool, error) {
	b, err := s.sizeAt(lambda)
	return b <= s.budget, err
}

// fitLambda sets the multipliers: hi, the smallest lambda found that fits
// the budget, and lo just below it (to 0.002% in log10).
func (s *solver) fitLambda() error {
	d := s.d
	if need, err := s.sizeAt(lambdaMax); err != nil {
		return err
	} else if need > s.budget {
		return fmt.Errorf("%w: the smallest possible encoding takes %d bytes, over the budget of %d", ErrBudget, need, s.budget)
	}
	d.lo, d.hi = 0, lambdaMax
	if ok, err := s.fitsAt(0); err != nil || ok {
		d.hi = 0
		return err
	}
	fits := func(x float64) (bool, error) { return s.fitsAt(math.Pow(10, x)) }
	narrow := func(lo, hi float64) (float64, float64, bool, error) {
		nlo, nhi, err := s.narrowLambda(lo, hi)
		return nlo, nhi, false, err
	}
	llo, lhi, _, err := search(-300, 300, narrow, fits)
	if err != nil {
		return err
	}
	d.lo, d.hi = math.Pow(10, llo), math.Pow(10, lhi)
	if ok, err := s.fitsAt(d.hi); err != nil {
		return err
	} else if !ok {
		d.hi = lambdaMax // padding made the size non-monotone at the edge
	}
	return nil
}

// fillSlack sets the gain threshold: the smallest at which the upgrades
// from hi's choices towards lo's still fit the budget.
func (s *solver) fillSlack() error {
	d := s.d
	if d.hi == d.lo {
		return nil
	}
	top, err := s.maxGain()
	if err != nil || top == 0 {
		return err
	}
	var exact float64
	narrow := func(lo, hi float64) (float64, float64, bool, error) {
		nlo, nhi, gains, est, err := s.narrowGain(lo, hi)
		if err != nil || gains == nil {
			return nlo, nhi, false, err
		}
		exact, err = s.exactGain(gains, est)
		return lo, hi, true, err
	}
	glo, ghi := math.Log10(top)-30, math.Log10(top)
	if ok, err := s.gainFits(math.Pow(10, glo)); err != nil {
		return err
	} else if ok {
		d.gain = math.Pow(10, glo)
	} else {
		_, ghi, found, err := search(glo, ghi, narrow, func(x float64) (bool, error) { return s.gainFits(math.Pow(10, x)) })
		if err != nil {
			return err
		}
		d.gain = math.Pow(10, ghi)
		if found {
			d.gain = exact
		}
	}
	if ok, err := s.gainFits(d.gain); err != nil {
		return err
	} else if !ok {
		d.gain = math.Inf(1)
	}
	return nil
}

// gainFits sets the gain threshold to g and reports whether it fits.
func (s *solver) gainFits(g float64) (bool, error) {
	s.d.gain = g
	b, _, err := s.size(s.d.Tier)
	return b <= s.budget, err
}

// maxGain is the largest gain of any row's upgrade.
func (s *solver) maxGain() (float64, error) {
	top := 0.0
	for _, tb := range s.tables {
		accs, err := scanAll(tb.Stats, func() *float64 { return new(float64) }, func(m *float64, _ int, rs *RowStat) {
			if _, g, ok := s.d.upgrade(tb.Dim, rs, s.d.choose(tb.Dim, rs, s.d.hi)); ok && g > *m {
				*m = g
			}
		})
		if err != nil {
			return 0, err
		}
		for _, m := range accs {
			top = max(top, *m)
		}
	}
	return top, nil
}

// exactGain is the threshold when there are few upgrades: one of their
// gains (the upgrades above it taken), or +Inf for none; the smallest that
// fits, by bisection over the list between the estimates that surely do not
// fit and surely do (they are off by padding only).
func (s *solver) exactGain(gains []float64, est []int64) (float64, error) {
	lo, hi := -1, len(gains) // gains[hi] fits (len: +Inf), gains[lo] does not
	slack := s.st.slack(len(s.tables))
	for j, e := range est {
		if e > s.budget+slack {
			lo = j
		}
		if e <= s.budget-slack && hi == len(gains) {
			hi = j
		}
	}
	hi = max(hi, lo+1)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		ok, err := s.gainFits(gains[mid])
		if err != nil {
			return 0, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	if hi < len(gains) {
		return gains[hi], nil
	}
	return math.Inf(1), nil
}

// search finds the smallest x in (lo, hi], to 1e-5, at which fits holds,
// for a fits that is monotone, holds at hi and not at lo. Twice, narrow
// estimates a smaller interval in one scan (or finds the answer itself:
// exact); each estimate is checked by two calls of fits, and bisection does
// the rest, or all of it when an estimate misses. It returns the interval.
func search(lo, hi float64, narrow func(lo, hi float64) (float64, float64, bool, error), fits func(x float64) (bool, error)) (float64, float64, bool, error) {
	for range 2 {
		nlo, nhi, exact, err := narrow(lo, hi)
		if err != nil || exact {
			return nlo, nhi, exact, err
		}
		if nlo == lo && nhi == hi {
			break
		}
		okLo, err := fits(nlo)
		if err != nil {
			return lo, hi, false, err
		}
		okHi, err := fits(nhi)
		if err != nil {
			return lo, hi, false, err
		}
		if okLo || !okHi {
			break // the estimate missed: bisect the interval as it was
		}
		lo, hi = nlo, nhi
	}
	for i := 0; i < 200 && hi-lo > 1e-5; i++ {
		mid := (lo + hi) / 2
		ok, err := fits(mid)
		if err != nil {
			return lo, hi, false, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	return lo, hi, false, nil
}
