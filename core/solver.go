package core

import (
	"math"
)

// Decision is a solved budget: the tier of every row follows from its stats
// alone (its tier at the multiplier lambda), so a table's tiers can be
// regenerated in any pass without being stored.
type Decision struct {
	tiers  []Tier // the allowed tiers
	lambda float64
	Bytes  int64 // the stored size of the decision
	Counts [][NumTiers]int64
}

// Tier is the tier of a row of a table of the given dim under d.
func (d *Decision) Tier(dim int, s *RowStat) Tier {
	rb := rowBytes64(dim)
	return d.tierAt(&rb, s, d.lambda)
}

func rowBytes64(dim int) [NumTiers]int64 {
	all := rowBytesAll(dim)
	return [NumTiers]int64{int64(all[0]), int64(all[1]), int64(all[2]), int64(all[3])}
}

// A row's tier as the multiplier lambda grows is the lower envelope of its
// cost lines, weight(t) + lambda*bytes(t): it starts at the least weighted
// error and moves to smaller tiers at breakpoints. The solver and tierAt
// follow the envelope with the same arithmetic (start, then next), so the
// sizes the solver counts are exactly those the decision gives.

// tierAt is the row's tier at lambda: its moves at breakpoints up to lambda
// taken.
func (d *Decision) tierAt(rb *[NumTiers]int64, s *RowStat, lambda float64) Tier {
	w := d.weights(s)
	cur, at := d.start(rb, &w), 0.0
	for {
		next, b := d.next(rb, &w, cur, at)
		if next == cur || b > lambda {
			return cur
		}
		cur, at = next, b
	}
}

// weights is the row's weighted error in each allowed tier (+Inf in the
// others): +Inf for an error that is (whatever the priority), and 0 for a
// row of priority 0.
func (d *Decision) weights(s *RowStat) [NumTiers]float64 {
	inf := math.Inf(1)
	w := [NumTiers]float64{inf, inf, inf, inf}
	p := float64(s.P)
	for _, t := range d.tiers {
		e := s.Err(t)
		switch {
		case e > math.MaxFloat64 || e < -math.MaxFloat64:
		case p == 0:
			w[t] = 0
		default:
			w[t] = p * e
		}
	}
	return w
}

// start is the row's tier at lambda = 0: the least weighted error, ties to
// the smaller row.
func (d *Decision) start(rb *[NumTiers]int64, w *[NumTiers]float64) Tier {
	best := d.tiers[0]
	for _, t := range d.tiers[1:] {
		if w[t] < w[best] || (w[t] == w[best] && rb[t] < rb[best]) {
			best = t
		}
	}
	return best
}

// next is the envelope's move from cur, whose breakpoint was at: the
// smaller tier whose cost line crosses cur's first (ties to the smaller
// row), and where, never before at; cur and +Inf if there is none.
func (d *Decision) next(rb *[NumTiers]int64, w *[NumTiers]float64, cur Tier, at float64) (Tier, float64) {
	next, best := cur, math.Inf(1)
	for _, t := range d.tiers {
		if rb[t] >= rb[cur] || w[t] > math.MaxFloat64 {
			continue
		}
		l := (w[t] - w[cur]) / float64(rb[cur]-rb[t])
		if l < best || (l == best && rb[t] < rb[next]) {
			next, best = t, l
		}
	}
	if next == cur {
		return cur, math.Inf(1)
	}
	return next, max(best, at)
}

// SolveStream chooses a tier for every row of every table so that the
// tables' stored bytes (as st counts them) total at most budget,
// minimising sum_r P_r * SSE_r(tier), with allowed[t] false keeping tier t
// out. It is the Lagrangian method of DESIGN.md, solved exactly: the
// stored size is a step function of the multiplier that falls at the rows'
// breakpoints, and the decision is the smallest breakpoint (or 0) at which
// it fits. A first scan of the stats bins every breakpoint by its bits and
// finds the bins where the size crosses the budget; the next lists the
// breakpoints in them, few, and walks them in order with exact counts
// (narrowing again first in the rare case that they are many). Nothing per
// row is kept in memory: the stats may live on disk.
func SolveStream(tables []StatTable, budget int64, allowed [NumTiers]bool, st Storage) (*Decision, error) {
	dims := make([]int, len(tables))
	for i, tb := range tables {
		dims[i] = tb.Dim
	}
	b, err := NewBudget(dims, budget, allowed, st)
	if err != nil {
		return nil, err
	}
	for !b.Done() {
		sum, err := Summarize(b.Next(), allowed, tables)
		if err != nil {
			return nil, err
		}
		if err := b.Take(sum); err != nil {
			return nil, err
		}
	}
	return b.Decision(), nil
}

// solver is one run of SolveStream.
type solver struct {
	d      *Decision
	tables []StatTable
	budget int64
	st     Storage
}

// bytes is the stored size of the tables with counts[i] rows per tier.
func (s *solver) bytes(counts [][NumTiers]int64) int64 {
	var total int64
	for i, tb := range s.tables {
		total += s.st.TableBytes(tb.Dim, counts[i])
	}
	return total
}
