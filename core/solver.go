package core

import (
	"math"
	"math/bits"
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
	c := d.costs(dim)
	return d.tierAt(&c, s, d.lambda)
}

// TierFunc is Tier for the rows of one table of the given dim, with what
// depends on the dim alone worked out once.
func (d *Decision) TierFunc(dim int) TierFunc {
	c := d.costs(dim)
	return func(_ int, s *RowStat) Tier { return d.tierAt(&c, s, d.lambda) }
}

// costs are what a row's envelope walk needs of its table: each tier's row
// bytes, the allowed tiers (as bits, 1<<t), and for each tier the allowed
// tiers whose rows are smaller, the ones it can move to.
type costs struct {
	rb      [slots]int64
	allowed uint8
	smaller [slots]uint8
	// fast: every tier allowed, each row smaller than the one before, so
	// that a row of finite positive weights can take walkFast.
	fast bool
}

// slots is the length of the walk's arrays indexed by tier: a power of two
// above every tier, so that an index masked by slots-1 needs no bounds
// check in the walk's loops.
const slots = 8

func (d *Decision) costs(dim int) costs {
	var c costs
	all := rowBytesAll(dim)
	for t := range NumTiers {
		c.rb[t] = int64(all[t])
	}
	for _, t := range d.tiers {
		c.allowed |= 1 << t
	}
	for from := range NumTiers {
		for _, t := range d.tiers {
			if c.rb[t] < c.rb[from] {
				c.smaller[from] |= 1 << t
			}
		}
	}
	c.fast = c.allowed == 0b1111 && c.rb[0] > c.rb[1] && c.rb[1] > c.rb[2] && c.rb[2] > c.rb[3]
	return c
}

// A row's tier as the multiplier lambda grows is the lower envelope of its
// cost lines, weight(t) + lambda*bytes(t): it starts at the least weighted
// error and moves to smaller tiers at breakpoints. The solver and tierAt
// follow the envelope with the same walk (path), so the sizes the solver
// counts are exactly those the decision gives.

// tierAt is the row's tier at lambda: its moves at breakpoints up to lambda
// taken.
func (d *Decision) tierAt(c *costs, s *RowStat, lambda float64) Tier {
	var p path
	d.path(c, s, &p)
	cur := p.first
	for i := 0; i < p.n && p.at[i] <= lambda; i++ {
		cur = p.to[i]
	}
	return cur
}

// path is a row's envelope: its tier at lambda = 0, then its moves in
// order, to tier to[i] at breakpoint at[i]. Every move is to a smaller row,
// so there are fewer than NumTiers.
type path struct {
	n     int
	first Tier
	to    [NumTiers - 1]Tier
	at    [NumTiers - 1]float64
}

// path walks the row's envelope into p. It starts at the least weighted
// error (ties to the smaller row, then to the lower tier); from each tier
// it moves to the smaller tier whose cost line crosses first (ties to the
// smaller row, then to the lower tier), never at a multiplier below the
// last move's. Every pass of the solver and every row the encoder writes
// takes this walk, so the allowed tiers are walked as bits, without calls.
func (d *Decision) path(c *costs, s *RowStat, p *path) {
	if c.fast && walkFast(c, s, p) {
		return
	}
	var w [slots]float64
	open := weights(c.allowed, s, &w)
	cur := start(c, &w)
	p.first, p.n = cur, 0
	at := 0.0
	for {
		next, best := cur, math.Inf(1)
		wc, rc := w[cur&(slots-1)], c.rb[cur&(slots-1)]
		for m := c.smaller[cur&(slots-1)] & open; m != 0; m &= m - 1 {
			t := bits.TrailingZeros8(m) & (slots - 1)
			l := (w[t] - wc) / float64(rc-c.rb[t])
			if l < best || (l == best && c.rb[t] < c.rb[next&(slots-1)]) {
				next, best = Tier(t), l
			}
		}
		if next == cur {
			return
		}
		at = max(best, at)
		p.to[p.n], p.at[p.n] = next, at
		p.n++
		cur = next
	}
}

// walkFast is path's walk for the usual table and row, where it comes to
// fewer steps: all four tiers allowed, each row smaller than the one
// before, a positive priority and finite weights. fp32's weight is then
// 0, the least, so the walk starts at the smallest tier of weight 0, and
// every tier below the current one is a candidate, ties going to the later
// (smaller) one. It returns false, and leaves p alone, for any other row.
func walkFast(c *costs, s *RowStat, p *path) bool {
	pr := float64(s.P)
	w := [4]float64{0, pr * float64(s.SSE[0]), pr * float64(s.SSE[1]), pr * float64(s.SSE[2])}
	if !(pr > 0 && w[1] <= math.MaxFloat64 && w[2] <= math.MaxFloat64 && w[3] <= math.MaxFloat64) {
		return false
	}
	cur := 0
	for t := 3; t > 0; t-- {
		if w[t] == 0 {
			cur = t
			break
		}
	}
	p.first, p.n = Tier(cur), 0
	at := 0.0
	for cur < 3 {
		next, best := cur, math.Inf(1)
		for t := cur + 1; t < 4; t++ {
			if l := (w[t] - w[cur]) / float64(c.rb[cur]-c.rb[t]); l <= best {
				next, best = t, l
			}
		}
		at = max(best, at)
		p.to[p.n], p.at[p.n] = Tier(next), at
		p.n++
		cur = next
	}
	return true
}

// weights sets w to the row's weighted error in each allowed tier (+Inf in
// the others): +Inf for an error that is (whatever the priority), and 0
// for a row of priority 0. It returns the tiers a row may move to: the
// allowed ones whose weight is not +Inf.
func weights(allowed uint8, s *RowStat, w *[slots]float64) (open uint8) {
	p := float64(s.P)
	for t := range NumTiers {
		w[t] = math.Inf(1)
		if allowed&(1<<t) == 0 {
			continue
		}
		e := s.Err(Tier(t))
		switch {
		case e > math.MaxFloat64 || e < -math.MaxFloat64:
			continue
		case p == 0:
			w[t] = 0
		default:
			w[t] = p * e
		}
		if !(w[t] > math.MaxFloat64) {
			open |= 1 << t
		}
	}
	return open
}

// start is the row's tier at lambda = 0: the least weighted error, ties to
// the smaller row, then to the lower tier.
func start(c *costs, w *[slots]float64) Tier {
	m := c.allowed
	best := bits.TrailingZeros8(m) & (slots - 1)
	for m &= m - 1; m != 0; m &= m - 1 {
		t := bits.TrailingZeros8(m) & (slots - 1)
		if w[t] < w[best] || (w[t] == w[best] && c.rb[t] < c.rb[best]) {
			best = t
		}
	}
	return Tier(best)
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
// The parameters of every allowed block tier are charged to every table
// whether its rows take the tier or not: a fixed cost of allowing it
// (Assign weighs it against leaving the block tiers out), so that the size
// falls as rows move to smaller tiers, as the search needs.
func (s *solver) bytes(counts [][NumTiers]int64) int64 {
	blocks, wide := 0, false
	for _, t := range s.d.tiers {
		if t.Block() {
			blocks++
		}
		wide = wide || t >= DefaultTiers
	}
	var total int64
	for i, tb := range s.tables {
		var rows int64
		for _, n := range counts[i] {
			rows += n
		}
		if wide {
			total += s.st.wideBytes(tb.Dim, counts[i])
		} else {
			total += s.st.TableBytes(tb.Dim, counts[i])
		}
		total += s.st.paramsBytes(rows, blocks)
	}
	return total
}
