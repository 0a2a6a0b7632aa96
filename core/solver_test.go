package core

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// padded lays tables out like a container: 2 bits of index a row and each
// tier's rows in a block padded to 64 bytes, so that the solver's budgets
// are tested with padding that moves the size in steps.
var padded = Storage{Padding: 64, TableBytes: func(dim int, c [NumTiers]int64) int64 {
	pad := func(n int64) int64 { return (n + 63) &^ 63 }
	b := pad((c[0] + c[1] + c[2] + c[3] + 3) / 4)
	for t, n := range c {
		b += pad(n * int64(Tier(t).RowBytes(dim)))
	}
	return b
}}

// statTable is a table's priorities and measured row stats.
type statTable struct {
	dim   int
	prio  []float64
	stats MemStats
}

// zipfTables makes realistic inputs: Gaussian rows of varied scale, and
// Zipf-skewed access priorities.
func zipfTables(seed uint64, rows []int, dim int) []statTable {
	r := rand.New(rand.NewPCG(seed, seed))
	var out []statTable
	row := make([]float32, dim)
	for _, n := range rows {
		z := rand.NewZipf(r, 1.1, 1, uint64(n-1))
		p := make([]float64, n)
		for i := 0; i < 20*n; i++ {
			p[z.Uint64()] += 1
		}
		perm := r.Perm(n)
		tb := statTable{dim: dim, prio: make([]float64, n), stats: make(MemStats, n)}
		for i := range p {
			tb.prio[perm[i]] = p[i]
		}
		for i := 0; i < n; i++ {
			s := math.Exp(r.NormFloat64())
			for j := range row {
				row[j] = float32(r.NormFloat64() * s * 0.1)
			}
			e, _ := MeasureRow(row)
			tb.stats[i] = StatOf(tb.prio[i], e)
		}
		out = append(out, tb)
	}
	return out
}

func fp32Bytes(tables []statTable) int64 {
	var b int64
	for _, tb := range tables {
		b += int64(len(tb.stats) * tb.dim * 4)
	}
	return b
}

// solveBudget assigns tiers within budget and returns every row's.
func solveBudget(tables []statTable, budget int64, allowed [NumTiers]bool) ([][]Tier, error) {
	var in []StatTable
	for _, tb := range tables {
		in = append(in, StatTable{Dim: tb.dim, Stats: tb.stats})
	}
	fns, err := Assign(in, Rule{By: ByBudget, Budget: budget, Allowed: allowed}, padded)
	if err != nil {
		return nil, err
	}
	out := make([][]Tier, len(tables))
	for i, tb := range tables {
		for r := range tb.stats {
			out[i] = append(out[i], fns[i](r, &tb.stats[r]))
		}
	}
	return out, nil
}

func totalBytes(tables []statTable, tiers [][]Tier) (int64, float64) {
	var b int64
	w := 0.0
	for i, tb := range tables {
		s, _ := StatsOf(tb.dim, tb.stats, func(r int, _ *RowStat) Tier { return tiers[i][r] }, padded)
		b += s.BytesAfter
		w += s.WeightedErr
	}
	return b, w
}

func TestSolveBudget(t *testing.T) {
	all := [NumTiers]bool{true, true, true, true}
	tables := zipfTables(11, []int{3000, 1200, 517}, 32)
	full := fp32Bytes(tables)
	prevErr := math.Inf(1)
	for _, frac := range []float64{0.17, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 1.0, 1.1} {
		budget := int64(frac * float64(full))
		tiers, err := solveBudget(tables, budget, all)
		if err != nil {
			t.Fatalf("budget %.2f: %v", frac, err)
		}
		used, werr := totalBytes(tables, tiers)
		if used > budget {
			t.Fatalf("budget %.2f: used %d > %d", frac, used, budget)
		}
		if werr > prevErr*(1+1e-12) {
			t.Fatalf("budget %.2f: weighted error %g grew from %g", frac, werr, prevErr)
		}
		prevErr = werr
		// At the same bytes, fixed fractions chosen by priority do no better.
		var fixed [][]Tier
		for _, tb := range tables {
			// Spread bytes like the solver did, but by fixed fractions.
			var cnt [4]float64
			for _, tt := range tiers {
				for _, x := range tt {
					cnt[x]++
				}
			}
			n := cnt[0] + cnt[1] + cnt[2] + cnt[3]
			f, _ := AssignFractions(tb.prio, [NumTiers]float64{cnt[0] / n, cnt[1] / n, cnt[2] / n, cnt[3] / n})
			fixed = append(fixed, f)
		}
		fb, ferr := totalBytes(tables, fixed)
		if fb <= budget && ferr < werr*(1-1e-9) {
			t.Fatalf("budget %.2f: fixed fractions reach error %g at %d bytes, solver %g", frac, ferr, fb, werr)
		}
	}
	if _, err := solveBudget(tables, full/20, all); !errors.Is(err, ErrBudget) {
		t.Fatalf("impossible budget: %v", err)
	}
	// Without int4 the floor rises.
	if _, err := solveBudget(tables, int64(0.2*float64(full)), [NumTiers]bool{true, true, true, false}); !errors.Is(err, ErrBudget) {
		t.Fatalf("int8 floor: %v", err)
	}
}

func TestSolveBudgetBeatsCommonFractions(t *testing.T) {
	all := [NumTiers]bool{true, true, true, true}
	tables := zipfTables(12, []int{4000}, 64)
	for _, f := range [][NumTiers]float64{{0.1, 0.2, 0.3, 0.4}, {0.05, 0.15, 0.5, 0.3}, {0, 0.3, 0.7, 0}, {0.2, 0, 0, 0.8}} {
		var fixed [][]Tier
		for _, tb := range tables {
			x, err := AssignFractions(tb.prio, f)
			if err != nil {
				t.Fatal(err)
			}
			fixed = append(fixed, x)
		}
		fb, ferr := totalBytes(tables, fixed)
		tiers, err := solveBudget(tables, fb, all)
		if err != nil {
			t.Fatal(err)
		}
		sb, serr := totalBytes(tables, tiers)
		if sb > fb || serr > ferr {
			t.Fatalf("fractions %v: %d bytes err %g; solver %d bytes err %g", f, fb, ferr, sb, serr)
		}
		t.Logf("fractions %v: weighted error %.4g, solver at the same bytes %.4g (%.1fx lower)", f, ferr, serr, ferr/serr)
	}
}

// scanCounter counts the passes SolveStream makes over a table's stats:
// each is a read of the spilled stats for a table larger than memory.
type scanCounter struct {
	MemStats
	n *int
}

func (c scanCounter) Scan(fn func(r int, s *RowStat)) error { *c.n++; return c.MemStats.Scan(fn) }

// ScanRange counts a pass when a range starts at row 0: once a pass
// whatever the number of cores.
func (c scanCounter) ScanRange(lo, hi int, fn func(r int, s *RowStat)) error {
	if lo == 0 {
		*c.n++
	}
	return c.MemStats.ScanRange(lo, hi, fn)
}

// The solver fits the budget in two passes over the stats (a histogram of
// the breakpoints, then the few in the bins that cross the budget); its
// bisecting predecessor took 5 to 30 on these tables, and 55 before
// histograms.
func TestSolveStreamPasses(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 2))
		rows, dim := 100000+int(seed)*7777, []int{64, 16, 7, 128}[seed-1]
		st := make(MemStats, rows)
		for i := range st {
			e := r.Float64() + 0.01
			st[i] = RowStat{P: float32(1 / float64(r.IntN(rows)+1)),
				SSE: [NumTiers - 1]float32{float32(e * 1e-6), float32(e * 1e-3 * (1 + r.Float64())), float32(e * 1e-2 * (1 + r.Float64()))}}
		}
		for _, pct := range []int64{30, 55} {
			n := 0
			budget := int64(rows) * int64(dim) * 4 * pct / 100
			d, err := SolveStream([]StatTable{{Dim: dim, Stats: scanCounter{st, &n}}}, budget, [NumTiers]bool{true, true, true, true}, padded)
			if err != nil {
				t.Fatal(err)
			}
			if d.Bytes > budget || d.Bytes < budget-budget/1000 {
				t.Errorf("seed %d, %d%%: %d bytes for a budget of %d", seed, pct, d.Bytes, budget)
			}
			if n != 2 {
				t.Errorf("seed %d, %d%%: %d passes over the stats", seed, pct, n)
			}
			// The passes run on every core; the decision must not change
			// with their number.
			for _, procs := range []int{1, 3} {
				old := runtime.GOMAXPROCS(procs)
				o, err := SolveStream([]StatTable{{Dim: dim, Stats: st}}, budget, [NumTiers]bool{true, true, true, true}, padded)
				runtime.GOMAXPROCS(old)
				if err != nil {
					t.Fatal(err)
				}
				if o.Bytes != d.Bytes || o.lambda != d.lambda || o.Counts[0] != d.Counts[0] {
					t.Errorf("seed %d, %d%%: GOMAXPROCS %d gives %d bytes at lambda %g; default %d at %g",
						seed, pct, procs, o.Bytes, o.lambda, d.Bytes, d.lambda)
				}
			}
		}
	}
}

// Every decision is exact and minimal: its counts are those its Tier gives
// the rows, it fits, and at the breakpoint below its multiplier the
// tables would not fit. Also when the breakpoints are too many to list at
// once (the solver narrows again) and when many are equal.
func TestSolveExactAndMinimal(t *testing.T) {
	all := [NumTiers]bool{true, true, true, true}
	tables := zipfTables(5, []int{2000, 700}, 24)
	same := make(MemStats, 3000) // every row alike: one breakpoint for all
	for i := range same {
		same[i] = RowStat{P: 2, SSE: [NumTiers - 1]float32{1e-6, 1e-3, 1e-2}}
	}
	in := []StatTable{{24, tables[0].stats}, {24, tables[1].stats}, {16, same}}
	var full int64
	for _, tb := range in {
		full += int64(tb.Stats.Len() * tb.Dim * 4)
	}
	for _, listed := range []int64{1 << 20, 50} {
		maxListed = listed
		for _, frac := range []float64{0.19, 0.21, 0.3, 0.45, 0.7, 0.99} {
			budget := int64(frac * float64(full))
			d, err := SolveStream(in, budget, all, padded)
			if err != nil {
				t.Fatalf("%.2f: %v", frac, err)
			}
			counts := make([][NumTiers]int64, len(in))
			var lambdas []float64
			for i, tb := range in {
				c := d.costs(tb.Dim)
				tb.Stats.Scan(func(_ int, s *RowStat) {
					counts[i][d.Tier(tb.Dim, s)]++
					var p path
					d.path(&c, s, &p)
					lambdas = append(lambdas, p.at[:p.n]...)
				})
			}
			s := &solver{d: d, tables: in, budget: budget, st: padded}
			if b := s.bytes(counts); b != d.Bytes || b > budget {
				t.Fatalf("%.2f: the decision says %d bytes, its rows take %d, budget %d", frac, d.Bytes, b, budget)
			}
			prev := -1.0
			for _, l := range lambdas {
				if l < d.lambda && l > prev {
					prev = l
				}
			}
			if d.lambda >= 0 && prev >= 0 {
				at := &Decision{tiers: d.tiers, lambda: prev}
				var c2 = make([][NumTiers]int64, len(in))
				for i, tb := range in {
					tb.Stats.Scan(func(_ int, s *RowStat) { c2[i][at.Tier(tb.Dim, s)]++ })
				}
				if b := s.bytes(c2); b <= budget {
					t.Fatalf("%.2f: the smaller multiplier %g fits too (%d bytes)", frac, prev, b)
				}
			}
		}
	}
	maxListed = 1 << 20
}

// A budget solved from summaries of row shards, added up, is the decision
// of all the rows in one place: the same multiplier and counts.
func TestBudgetFromShards(t *testing.T) {
	all := [NumTiers]bool{true, true, true, true}
	tables := zipfTables(9, []int{5000}, 16)
	st := tables[0].stats
	full := int64(len(st) * 16 * 4)
	for _, listed := range []int64{1 << 20, 40} {
		maxListed = listed
		for _, frac := range []float64{0.2, 0.3, 0.5} {
			budget := int64(frac * float64(full))
			want, err := SolveStream([]StatTable{{16, st}}, budget, all, padded)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := NewBudget([]int{16}, budget, all, padded)
			passes := 0
			for !b.Done() {
				var sum *Summary
				for lo := 0; lo < len(st); lo += 700 { // shards of 700 rows
					part, err := Summarize(b.Next(), all, []StatTable{{16, st[lo:min(len(st), lo+700)]}})
					if err != nil {
						t.Fatal(err)
					}
					if sum == nil {
						sum = part
					} else {
						sum.Add(part)
					}
				}
				if err := b.Take(sum); err != nil {
					t.Fatal(err)
				}
				passes++
			}
			got := b.Decision()
			if got.lambda != want.lambda || got.Bytes != want.Bytes || got.Counts[0] != want.Counts[0] {
				t.Fatalf("%.2f (listing %d): shards %g %d %v, whole %g %d %v", frac, listed, got.lambda, got.Bytes, got.Counts, want.lambda, want.Bytes, want.Counts)
			}
			t.Logf("%.0f%%, listing at most %d: %d passes", 100*frac, listed, passes)
		}
	}
	maxListed = 1 << 20
}

// walkFast takes the same walk as path's general one, move for move and
// bit for bit, on every row it takes.
func TestWalkFastIsThePath(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-45, 1e-30, 1, 3.4e38, float32(math.Inf(1)), float32(math.NaN())}
	val := func() float32 {
		if r.IntN(5) == 0 {
			return special[r.IntN(len(special))]
		}
		return float32(math.Exp(r.NormFloat64() * 6))
	}
	d := &Decision{tiers: []Tier{FP32, FP16, INT8, INT4}}
	taken := 0
	for dim := 1; dim < 80; dim++ {
		c := d.costs(dim)
		general := c
		general.fast = false
		for range 3000 {
			s := RowStat{P: val(), SSE: [NumTiers - 1]float32{val(), val(), val()}}
			switch r.IntN(4) {
			case 0:
				s.SSE[1] = s.SSE[0] // equal weights
			case 1:
				// Lines that cross fp32's at one multiplier, k: a tie the
				// walk must give to the smaller row.
				k := float32(r.IntN(9) + 1)
				s.P = 1
				s.SSE = [NumTiers - 1]float32{k * float32(c.rb[0]-c.rb[1]), k * float32(c.rb[0]-c.rb[2]), k * float32(c.rb[0]-c.rb[3])}
			}
			var got, want path
			if !c.fast || !walkFast(&c, &s, &got) {
				continue
			}
			taken++
			d.path(&general, &s, &want)
			if got.first != want.first || got.n != want.n {
				t.Fatalf("dim %d, %+v: walkFast %+v, path %+v", dim, s, got, want)
			}
			for i := range got.n {
				if got.to[i] != want.to[i] || math.Float64bits(got.at[i]) != math.Float64bits(want.at[i]) {
					t.Fatalf("dim %d, %+v: walkFast %+v, path %+v", dim, s, got, want)
				}
			}
		}
	}
	if taken < 100000 {
		t.Fatalf("walkFast took only %d rows", taken)
	}
}
