package core

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Budget is SolveStream as a conversation, for row stats that live apart
// (a table's row shards on a cluster's workers): it names a pass (Next),
// every shard summarises its stats for it (Summarize), and it takes the
// sum of the summaries (Take), until the decision is made. Summaries add
// up exactly (integer counts), so the decision is the one SolveStream
// makes of all the stats in one place; SolveStream is this conversation
// with passes over local stats.
type Budget struct {
	s     *solver
	w     window
	pass  Pass
	done  bool
	first bool
}

// PassKind is what a pass over the stats computes.
type PassKind int

const (
	// PassHistogram bins the rows' breakpoints in a window.
	PassHistogram PassKind = iota
	// PassWalk lists the breakpoints in a window, with the counts below it.
	PassWalk
	// PassCount counts the rows per tier at a multiplier.
	PassCount
)

// Pass is a pass the Budget asks for. Its fields are exported so that it
// can be sent to where the stats are.
type Pass struct {
	Kind   PassKind
	Lo, Hi uint64  // the window, by the multipliers' float64 bits
	Lambda float64 // PassCount's multiplier
}

// Summary is a pass over some rows' stats. Summaries of the shards of the
// same tables add up (Add) to the summary of all of them.
type Summary struct {
	Below, End [][NumTiers]int64 // per table: rows per tier below the window, and after every move
	Bins       []Bin             // PassHistogram: the window's bins that hold breakpoints
	Moves      []Move            // PassWalk: the breakpoints in the window
}

// Bin is a histogram bin of breakpoints: how many moves, saving how many
// bytes (negative).
type Bin struct {
	K            int
	Bytes, Moves int64
}

// Move is rows of a table moving between two tiers at a breakpoint.
type Move struct {
	At       uint64 // the breakpoint's float64 bits
	Table    int
	From, To Tier
	N        int64
}

// NewBudget starts a Budget for tables of the given dims.
func NewBudget(dims []int, budget int64, allowed [NumTiers]bool, st Storage) (*Budget, error) {
	d := &Decision{}
	for t := Tier(0); t < NumTiers; t++ {
		if allowed[t] {
			d.tiers = append(d.tiers, t)
		}
	}
	if len(d.tiers) == 0 {
		return nil, fmt.Errorf("%w: no tier allowed", ErrInvalid)
	}
	tables := make([]StatTable, len(dims))
	for i, dim := range dims {
		tables[i].Dim = dim
	}
	w := window{lo: 0, hi: math.Float64bits(math.Inf(1))}
	b := &Budget{s: &solver{d: d, tables: tables, budget: budget, st: st}, w: w, first: true}
	b.pass = Pass{Kind: PassHistogram, Lo: w.lo, Hi: w.hi}
	return b, nil
}

// Next is the pass to make next.
func (b *Budget) Next() Pass { return b.pass }

// Done reports whether the decision is made.
func (b *Budget) Done() bool { return b.done }

// Decision is the solved budget.
func (b *Budget) Decision() *Decision { return b.s.d }

// Summarize makes a pass over stats (one per table, in the Budget's
// order) of rows with the allowed tiers.
func Summarize(p Pass, allowed [NumTiers]bool, tables []StatTable) (*Summary, error) {
	d := &Decision{}
	for t := Tier(0); t < NumTiers; t++ {
		if allowed[t] {
			d.tiers = append(d.tiers, t)
		}
	}
	s := &solver{d: d, tables: tables}
	w := window{lo: p.Lo, hi: p.Hi}
	switch p.Kind {
	case PassHistogram:
		h, err := s.histogram(w)
		if err != nil {
			return nil, err
		}
		out := &Summary{Below: h.below, End: h.end}
		for k := range h.bytes {
			if h.moves[k] != 0 {
				out.Bins = append(out.Bins, Bin{K: k, Bytes: h.bytes[k], Moves: h.moves[k]})
			}
		}
		return out, nil
	case PassWalk:
		below, listed, err := s.list(w)
		if err != nil {
			return nil, err
		}
		out := &Summary{Below: below}
		for k, n := range listed {
			out.Moves = append(out.Moves, Move{At: k.at, Table: k.table, From: k.from, To: k.to, N: n})
		}
		slices.SortFunc(out.Moves, compareMoves)
		return out, nil
	case PassCount:
		counts, err := s.countsAt(p.Lambda)
		return &Summary{Below: counts}, err
	}
	return nil, fmt.Errorf("%w: pass kind %d", ErrInvalid, p.Kind)
}

func compareMoves(a, b Move) int {
	return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(a.Table, b.Table), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
}

// Add adds o, a summary of other rows for the same pass, into s.
func (s *Summary) Add(o *Summary) {
	s.Below = addCounts(s.Below, o.Below)
	s.End = addCounts(s.End, o.End)
	bins := map[int]Bin{}
	for _, b := range append(s.Bins, o.Bins...) {
		x := bins[b.K]
		bins[b.K] = Bin{K: b.K, Bytes: x.Bytes + b.Bytes, Moves: x.Moves + b.Moves}
	}
	s.Bins = s.Bins[:0]
	for _, b := range bins {
		s.Bins = append(s.Bins, b)
	}
	slices.SortFunc(s.Bins, func(a, b Bin) int { return cmp.Compare(a.K, b.K) })
	moves := map[moveKey]int64{}
	for _, m := range append(s.Moves, o.Moves...) {
		moves[moveKey{m.At, m.Table, m.From, m.To}] += m.N
	}
	s.Moves = s.Moves[:0]
	for k, n := range moves {
		s.Moves = append(s.Moves, Move{At: k.at, Table: k.table, From: k.from, To: k.to, N: n})
	}
	slices.SortFunc(s.Moves, compareMoves)
}

func addCounts(a, b [][NumTiers]int64) [][NumTiers]int64 {
	if a == nil {
		return append([][NumTiers]int64(nil), b...)
	}
	for i := range b {
		for t := range NumTiers {
			a[i][t] += b[i][t]
		}
	}
	return a
}

// Take takes the sum of every shard's summary of the pass Next named,
// and names the next pass, or makes the decision.
func (b *Budget) Take(sum *Summary) error {
	s, p := b.s, b.pass
	switch p.Kind {
	case PassHistogram:
		h := &hist{below: sum.Below, end: sum.End, bytes: make([]int64, narrowBins), moves: make([]int64, narrowBins)}
		for _, bin := range sum.Bins {
			h.bytes[bin.K], h.moves[bin.K] = bin.Bytes, bin.Moves
		}
		if b.first {
			b.first = false
			if need := s.bytes(h.end); need > s.budget {
				return fmt.Errorf("%w: the smallest possible encoding takes %d bytes, over the budget of %d", ErrBudget, need, s.budget)
			}
		}
		inner, many := s.crossing(h, b.w)
		switch {
		case !many || inner.hi-inner.lo <= 1:
			b.w, b.pass = inner, Pass{Kind: PassWalk, Lo: inner.lo, Hi: inner.hi}
		case inner == b.w:
			// The estimate cannot narrow a window whose sizes lie within the
			// padding's slack of the budget: halve it by an exact count.
			mid := b.w.lo + (b.w.hi-b.w.lo)/2
			b.pass = Pass{Kind: PassCount, Lo: b.w.lo, Hi: b.w.hi, Lambda: math.Float64frombits(mid)}
		default:
			b.w, b.pass = inner, Pass{Kind: PassHistogram, Lo: inner.lo, Hi: inner.hi}
		}
		return nil
	case PassCount:
		mid := math.Float64bits(p.Lambda)
		if s.bytes(sum.Below) <= s.budget {
			b.w.hi = mid + 1
		} else {
			b.w.lo = mid + 1
		}
		b.pass = Pass{Kind: PassHistogram, Lo: b.w.lo, Hi: b.w.hi}
		return nil
	case PassWalk:
		listed := map[moveKey]int64{}
		for _, m := range sum.Moves {
			listed[moveKey{m.At, m.Table, m.From, m.To}] += m.N
		}
		if err := s.walkListed(b.w, sum.Below, listed); err != nil {
			return err
		}
		b.done = true
		return nil
	}
	return fmt.Errorf("%w: pass kind %d", ErrInvalid, p.Kind)
}

// DecisionAt is the decision at a multiplier a Budget found: what a shard
// needs to give its rows their tiers.
func DecisionAt(lambda float64, allowed [NumTiers]bool) *Decision {
	d := &Decision{lambda: lambda}
	for t := Tier(0); t < NumTiers; t++ {
		if allowed[t] {
			d.tiers = append(d.tiers, t)
		}
	}
	return d
}

// Lambda is the decision's multiplier, for DecisionAt.
func (d *Decision) Lambda() float64 { return d.lambda }

// TierAt is the TierFunc of a table of dim-wide rows under the decision at
// lambda, as Assign gives it for a budget: what a shard's rows take once a
// Budget has decided.
func TierAt(lambda float64, allowed [NumTiers]bool, dim int) TierFunc {
	d := DecisionAt(lambda, allowed)
	return lossless(d.TierFunc(dim))
}
