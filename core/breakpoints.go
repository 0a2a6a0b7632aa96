package core

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// narrowBins is the resolution of the solver's histograms.
const narrowBins = 1 << 16

// maxListed bounds the breakpoints listed one by one in memory (24 bytes
// each, fewer when they repeat); above it, the solver narrows again. A
// variable for tests.
var maxListed int64 = 1 << 20

// window is a range of multipliers by their float64 bits, [lo, hi): bits
// of non-negative floats order as the floats do.
type window struct{ lo, hi uint64 }

// shift is log2 of the window's bin width: a power of two, so that a
// breakpoint's bin is a shift away.
func (w window) shift() uint {
	s := uint(0)
	for (w.hi-w.lo-1)>>s >= narrowBins {
		s++
	}
	return s
}

// hist is one scan's view of a window: each table's rows per tier below
// it (and after every move, end), and the breakpoints in it binned: the
// bytes the moves at each bin save (negative) and how many there are.
type hist struct {
	below, end [][NumTiers]int64
	bytes      []int64
	moves      []int64
}

// histogram scans every table's stats once.
func (s *solver) histogram(w window) (*hist, error) {
	h := &hist{below: make([][NumTiers]int64, len(s.tables)), end: make([][NumTiers]int64, len(s.tables)),
		bytes: make([]int64, narrowBins), moves: make([]int64, narrowBins)}
	shift := w.shift()
	for i, tb := range s.tables {
		c := s.d.costs(tb.Dim)
		rb := &c.rb
		accs, err := scanAll(tb.Stats, func() *hist {
			return &hist{below: make([][NumTiers]int64, 1), end: make([][NumTiers]int64, 1), bytes: make([]int64, narrowBins), moves: make([]int64, narrowBins)}
		}, func(a *hist, _ int, rs *RowStat) {
			var p path
			s.d.path(&c, rs, &p)
			from := p.first
			for m := 0; m < p.n; m++ {
				to := p.to[m]
				switch b := math.Float64bits(p.at[m]); {
				case b < w.lo:
					a.below[0][from]--
					a.below[0][to]++
				case b < w.hi:
					k := (b - w.lo) >> shift
					a.bytes[k] += rb[to&(slots-1)] - rb[from&(slots-1)]
					a.moves[k]++
				}
				from = to
			}
			a.below[0][p.first]++
			a.end[0][from]++
		})
		if err != nil {
			return nil, err
		}
		for _, a := range accs {
			for t := range NumTiers {
				h.below[i][t] += a.below[0][t]
				h.end[i][t] += a.end[0][t]
			}
			addInto(h.bytes, a.bytes)
			addInto(h.moves, a.moves)
		}
	}
	return h, nil
}

func addInto(dst, src []int64) {
	for k, v := range src {
		dst[k] += v
	}
}

// crossing reads a histogram: the bins from the first where the size may
// fit (estimated within the padding's slack) to the first where it surely
// does, as a window, and whether it holds more breakpoints than are
// listed one by one.
func (s *solver) crossing(h *hist, w window) (window, bool) {
	size := s.bytes(h.below)
	slack := s.st.slack(len(s.tables))
	if size <= s.budget-slack {
		return window{w.lo, w.lo}, false // fits below the window
	}
	kLo, kHi := -1, narrowBins-1
	for k, delta := range h.bytes {
		size += delta
		if kLo < 0 && size <= s.budget+slack {
			kLo = k
		}
		if size <= s.budget-slack {
			kHi = k
			break
		}
	}
	if kLo < 0 {
		kLo = kHi
	}
	var n int64
	for k := kLo; k <= kHi; k++ {
		n += h.moves[k]
	}
	shift := w.shift()
	inner := window{w.lo + uint64(kLo)<<shift, min(w.hi, w.lo+uint64(kHi+1)<<shift)}
	return inner, n > maxListed
}

// below0 is the largest multiplier under the one of bits lo: there the
// moves before lo are taken and none at lo (-1 for none at all).
func below0(lo uint64) float64 {
	if lo == 0 {
		return -1
	}
	return math.Float64frombits(lo - 1)
}

// moveKey is a kind of move at one breakpoint: rows of a table moving
// between two tiers.
type moveKey struct {
	at       uint64
	table    int
	from, to Tier
}

// list scans the stats for the breakpoints in w, with each table's counts
// below it.
func (s *solver) list(w window) ([][NumTiers]int64, map[moveKey]int64, error) {
	counts := make([][NumTiers]int64, len(s.tables))
	listed := map[moveKey]int64{}
	for i, tb := range s.tables {
		c := s.d.costs(tb.Dim)
		type acc struct {
			below [NumTiers]int64
			moves map[moveKey]int64
		}
		accs, err := scanAll(tb.Stats, func() *acc { return &acc{moves: map[moveKey]int64{}} }, func(a *acc, _ int, rs *RowStat) {
			var p path
			s.d.path(&c, rs, &p)
			from := p.first
			for m := 0; m < p.n; m++ {
				to := p.to[m]
				switch b := math.Float64bits(p.at[m]); {
				case b < w.lo:
					a.below[from]--
					a.below[to]++
				case b < w.hi:
					a.moves[moveKey{b, i, from, to}]++
				}
				from = to
			}
			a.below[p.first]++
		})
		if err != nil {
			return nil, nil, err
		}
		for _, a := range accs {
			for t := range NumTiers {
				counts[i][t] += a.below[t]
			}
			for k, n := range a.moves {
				listed[k] += n
			}
		}
	}
	return counts, listed, nil
}

// walkListed walks the breakpoints listed in w, from the counts below it,
// and takes the smallest (or w.lo) at which the exact stored size fits.
func (s *solver) walkListed(w window, below [][NumTiers]int64, listed map[moveKey]int64) error {
	counts := append([][NumTiers]int64(nil), below...)
	keys := make([]moveKey, 0, len(listed))
	for k := range listed {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b moveKey) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.table, b.table), cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to))
	})
	s.d.lambda = below0(w.lo)
	for i := 0; ; {
		if b := s.bytes(counts); b <= s.budget {
			s.d.Bytes, s.d.Counts = b, counts
			return nil
		} else if i == len(keys) {
			// The window ends where the size surely fits: padding larger
			// than the Storage declares can make it not.
			return fmt.Errorf("%w: %d bytes at the end of the solver's window, over the budget of %d (the layout pads more than its Storage says)", ErrBudget, b, s.budget)
		}
		at := keys[i].at
		for ; i < len(keys) && keys[i].at == at; i++ {
			k := keys[i]
			counts[k.table][k.from] -= listed[k]
			counts[k.table][k.to] += listed[k]
		}
		s.d.lambda = math.Float64frombits(at)
	}
}

// countsAt is every table's rows per tier when each row takes its tier at
// lambda.
func (s *solver) countsAt(lambda float64) ([][NumTiers]int64, error) {
	counts := make([][NumTiers]int64, len(s.tables))
	for i, tb := range s.tables {
		c := s.d.costs(tb.Dim)
		accs, err := scanAll(tb.Stats, func() *[NumTiers]int64 { return new([NumTiers]int64) },
			func(a *[NumTiers]int64, _ int, rs *RowStat) { a[s.d.tierAt(&c, rs, lambda)]++ })
		if err != nil {
			return nil, err
		}
		for _, a := range accs {
			for t, c := range a {
				counts[i][t] += c
			}
		}
	}
	return counts, nil
}
