package core

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

func TestPriorityDecayAndMerge(t *testing.T) {
	p := PriorityParams{WPos: 1, WNeg: 0.25, Gamma: 0.5}
	a := NewPriorities(3, p)
	a.Observe(0, true, 1)
	a.Observe(0, false, 3) // 1*0.5^2 + 0.25
	if got := a.P[0]; math.Abs(got-0.5) > 1e-12 {
		t.Fatalf("P0 = %v, want 0.5", got)
	}
	if got := a.At(4)[0]; math.Abs(got-0.25) > 1e-12 {
		t.Fatalf("P0 at 4 = %v, want 0.25", got)
	}
	// Merging two shards equals one accumulator over both streams.
	type ev struct {
		r   int
		pos bool
		t   float64
	}
	r := rand.New(rand.NewPCG(7, 8))
	var evs []ev
	for i := 0; i < 2000; i++ {
		evs = append(evs, ev{r.IntN(3), r.IntN(2) == 0, float64(i) / 100})
	}
	all, s1, s2 := NewPriorities(3, p), NewPriorities(3, p), NewPriorities(3, p)
	for i, e := range evs {
		all.Observe(e.r, e.pos, e.t)
		if i%3 == 0 {
			s1.Observe(e.r, e.pos, e.t)
		} else {
			s2.Observe(e.r, e.pos, e.t)
		}
	}
	if err := s1.Merge(s2); err != nil {
		t.Fatal(err)
	}
	want, got := all.At(20), s1.At(20)
	for i := range want {
		if math.Abs(want[i]-got[i]) > 1e-9*math.Max(1, want[i]) {
			t.Fatalf("row %d: merged %v, single stream %v", i, got[i], want[i])
		}
	}
	if err := s1.Merge(NewPriorities(4, p)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("merge of different sizes: %v", err)
	}
}

func TestFromCounts(t *testing.T) {
	p := PriorityParams{WPos: 2, WNeg: 1, Gamma: 0.5}
	got, err := FromCounts([][]float64{{4, 0}, {1, 1}}, [][]float64{{0, 8}, {0, 2}}, p)
	if err != nil {
		t.Fatal(err)
	}
	// row 0: 0.5*(2*4) + (2*1) = 6; row 1: 0.5*(8) + (2 + 2) = 8
	if got[0] != 6 || got[1] != 8 {
		t.Fatalf("got %v", got)
	}
	if _, err := FromCounts([][]float64{{-1}}, [][]float64{{0}}, p); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative count accepted: %v", err)
	}
	if err := (PriorityParams{WPos: 1, WNeg: 1, Gamma: 0}).Validate(); err == nil {
		t.Fatal("gamma 0 accepted")
	}
}

func TestAssignFractionsAndThresholds(t *testing.T) {
	p := []float64{5, 1, 4, 2, 3, 0, 0, 9, 8, 7}
	tiers, err := AssignFractions(p, [4]float64{0.2, 0.3, 0.3, 0.2})
	if err != nil {
		t.Fatal(err)
	}
	want := []Tier{FP16, INT8, FP16, INT8, INT8, INT4, INT4, FP32, FP32, FP16}
	for i := range want {
		if tiers[i] != want[i] {
			t.Fatalf("row %d: %v want %v (all %v)", i, tiers[i], want[i], tiers)
		}
	}
	if _, err := AssignFractions(p, [4]float64{0.5, 0.5, 0.5, 0}); err == nil {
		t.Fatal("fractions summing to 1.5 accepted")
	}
	th, err := AssignThresholds(p, [3]float64{8, 4, 1})
	if err != nil {
		t.Fatal(err)
	}
	if th[7] != FP32 || th[0] != FP16 || th[3] != INT8 || th[5] != INT4 {
		t.Fatalf("thresholds: %v", th)
	}
	if _, err := AssignThresholds(p, [3]float64{1, 4, 8}); err == nil {
		t.Fatal("increasing thresholds accepted")
	}
}

// zipfTables makes realistic inputs: Gaussian rows of varied scale, and
// Zipf-skewed access priorities.
func zipfTables(seed uint64, rows []int, dim int) []BudgetTable {
	r := rand.New(rand.NewPCG(seed, seed))
	var out []BudgetTable
	row := make([]float32, dim)
	back := make([]float32, dim)
	scratch := make([]byte, 4*dim+4)
	for _, n := range rows {
		z := rand.NewZipf(r, 1.1, 1, uint64(n-1))
		p := make([]float64, n)
		for i := 0; i < 20*n; i++ {
			p[z.Uint64()] += 1
		}
		perm := r.Perm(n)
		tb := BudgetTable{Dim: dim, Priority: make([]float64, n), Err: make([]RowError, n)}
		for i := range p {
			tb.Priority[perm[i]] = p[i]
		}
		for i := 0; i < n; i++ {
			s := math.Exp(r.NormFloat64())
			for j := range row {
				row[j] = float32(r.NormFloat64() * s * 0.1)
			}
			tb.Err[i] = MeasureRow(row, scratch, back)
		}
		out = append(out, tb)
	}
	return out
}

func fp32Bytes(tables []BudgetTable) int64 {
	var b int64
	for _, tb := range tables {
		b += int64(len(tb.Err) * tb.Dim * 4)
	}
	return b
}

func totalBytes(tables []BudgetTable, tiers [][]Tier) (int64, float64) {
	var b int64
	w := 0.0
	for i, tb := range tables {
		st := make(MemStats, len(tb.Err))
		for r := range st {
			st[r] = StatOf(tb.Priority[r], tb.Err[r])
		}
		s, _ := StatsOf(tb.Dim, st, func(r int, _ *RowStat) Tier { return tiers[i][r] })
		b += s.BytesAfter
		w += s.WeightedErr
	}
	return b, w
}

func TestSolveBudget(t *testing.T) {
	all := [4]bool{true, true, true, true}
	tables := zipfTables(11, []int{3000, 1200, 517}, 32)
	full := fp32Bytes(tables)
	prevErr := math.Inf(1)
	for _, frac := range []float64{0.17, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 1.0, 1.1} {
		budget := int64(frac * float64(full))
		tiers, err := SolveBudget(tables, budget, all)
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
			f, _ := AssignFractions(tb.Priority, [4]float64{cnt[0] / n, cnt[1] / n, cnt[2] / n, cnt[3] / n})
			fixed = append(fixed, f)
		}
		fb, ferr := totalBytes(tables, fixed)
		if fb <= budget && ferr < werr*(1-1e-9) {
			t.Fatalf("budget %.2f: fixed fractions reach error %g at %d bytes, solver %g", frac, ferr, fb, werr)
		}
	}
	if _, err := SolveBudget(tables, full/20, all); !errors.Is(err, ErrBudget) {
		t.Fatalf("impossible budget: %v", err)
	}
	// Without int4 the floor rises.
	if _, err := SolveBudget(tables, int64(0.2*float64(full)), [4]bool{true, true, true, false}); !errors.Is(err, ErrBudget) {
		t.Fatalf("int8 floor: %v", err)
	}
}

func TestSolveBudgetBeatsCommonFractions(t *testing.T) {
	all := [4]bool{true, true, true, true}
	tables := zipfTables(12, []int{4000}, 64)
	for _, f := range [][4]float64{{0.1, 0.2, 0.3, 0.4}, {0.05, 0.15, 0.5, 0.3}, {0, 0.3, 0.7, 0}, {0.2, 0, 0, 0.8}} {
		var fixed [][]Tier
		for _, tb := range tables {
			x, err := AssignFractions(tb.Priority, f)
			if err != nil {
				t.Fatal(err)
			}
			fixed = append(fixed, x)
		}
		fb, ferr := totalBytes(tables, fixed)
		tiers, err := SolveBudget(tables, fb, all)
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

func TestNonFiniteRowsStayFP32(t *testing.T) {
	row := []float32{1, float32(math.NaN()), 2}
	e := MeasureRow(row, make([]byte, 16), make([]float32, 3))
	tb := []BudgetTable{{Dim: 3, Priority: []float64{0}, Err: []RowError{e}}}
	tiers, err := SolveBudget(tb, 1<<20, [4]bool{true, true, true, true})
	if err != nil || tiers[0][0] != FP32 {
		t.Fatalf("got %v %v", tiers, err)
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

// The histograms narrow the solver's searches: it fits the budget in far
// fewer passes than bisection alone (55 on these tables before them).
func TestSolveStreamPasses(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 2))
		rows, dim := 100000+int(seed)*7777, []int{64, 16, 7, 128}[seed-1]
		st := make(MemStats, rows)
		for i := range st {
			e := r.Float64() + 0.01
			st[i] = RowStat{P: float32(1 / float64(r.IntN(rows)+1)),
				SSE: [3]float32{float32(e * 1e-6), float32(e * 1e-3 * (1 + r.Float64())), float32(e * 1e-2 * (1 + r.Float64()))}}
		}
		for _, pct := range []int64{30, 55} {
			n := 0
			budget := int64(rows) * int64(dim) * 4 * pct / 100
			d, err := SolveStream([]StatTable{{Dim: dim, Stats: scanCounter{st, &n}}}, budget, [NumTiers]bool{true, true, true, true})
			if err != nil {
				t.Fatal(err)
			}
			if d.Bytes > budget || d.Bytes < budget-budget/1000 {
				t.Errorf("seed %d, %d%%: %d bytes for a budget of %d", seed, pct, d.Bytes, budget)
			}
			if n < 5 || n > 30 {
				t.Errorf("seed %d, %d%%: %d passes over the stats", seed, pct, n)
			}
			// The passes run on every core; the decision must not change
			// with their number.
			for _, procs := range []int{1, 3} {
				old := runtime.GOMAXPROCS(procs)
				o, err := SolveStream([]StatTable{{Dim: dim, Stats: st}}, budget, [NumTiers]bool{true, true, true, true})
				runtime.GOMAXPROCS(old)
				if err != nil {
					t.Fatal(err)
				}
				if o.Bytes != d.Bytes || o.hi != d.hi || o.lo != d.lo || o.gain != d.gain || o.Counts[0] != d.Counts[0] {
					t.Errorf("seed %d, %d%%: GOMAXPROCS %d gives %d bytes, lambda %g..%g, gain %g; default %d, %g..%g, %g",
						seed, pct, procs, o.Bytes, o.lo, o.hi, o.gain, d.Bytes, d.lo, d.hi, d.gain)
				}
			}
		}
	}
}

func TestRowBytesAll(t *testing.T) {
	for dim := 0; dim < 5000; dim++ {
		all := rowBytesAll(dim)
		for tr := Tier(0); tr < NumTiers; tr++ {
			if all[tr] != tr.RowBytes(dim) {
				t.Fatalf("dim %d %v: %d, RowBytes %d", dim, tr, all[tr], tr.RowBytes(dim))
			}
		}
	}
}
