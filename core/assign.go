package core

import (
	"fmt"
	"math"
	"sort"
)

// AssignThresholds puts a row with priority >= th[0] in fp32, >= th[1] in
// fp16, >= th[2] in int8, and the rest in int4. Thresholds must not increase.
func AssignThresholds(p []float64, th [3]float64) ([]Tier, error) {
	if !(th[0] >= th[1] && th[1] >= th[2]) {
		return nil, fmt.Errorf("%w: thresholds must be non-increasing (fp32 >= fp16 >= int8), got %v", ErrInvalid, th)
	}
	out := make([]Tier, len(p))
	for r, v := range p {
		switch {
		case v >= th[0]:
			out[r] = FP32
		case v >= th[1]:
			out[r] = FP16
		case v >= th[2]:
			out[r] = INT8
		default:
			out[r] = INT4
		}
	}
	return out, nil
}

// AssignFractions ranks rows by priority (highest first, ties by row id) and
// gives the first f[FP32] of them fp32, the next f[FP16] fp16, and so on.
// The fractions must be in [0, 1] and sum to 1.
func AssignFractions(p []float64, f [NumTiers]float64) ([]Tier, error) {
	sum := 0.0
	for t, v := range f {
		if !(v >= 0 && v <= 1) {
			return nil, fmt.Errorf("%w: fraction for %v must be in [0, 1], got %v", ErrInvalid, Tier(t), v)
		}
		sum += v
	}
	if math.Abs(sum-1) > 1e-6 {
		return nil, fmt.Errorf("%w: tier fractions must sum to 1, got %v", ErrInvalid, sum)
	}
	order := make([]int, len(p))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return p[order[a]] > p[order[b]] })
	out := make([]Tier, len(p))
	n := float64(len(p))
	start := 0
	cum := 0.0
	for t := Tier(0); t < NumTiers; t++ {
		cum += f[t]
		end := int(math.Round(cum * n))
		if t == NumTiers-1 || end > len(p) {
			end = len(p)
		}
		for _, r := range order[start:end] {
			out[r] = t
		}
		start = end
	}
	return out, nil
}

// BudgetTable is one table's input to the budget solver.
type BudgetTable struct {
	Dim      int
	Priority []float64  // P_r
	Err      []RowError // measured per row
}

// SolveBudget chooses a tier for every row of every table so that the
// tables' stored bytes (TableBytes: index and block padding included) total
// at most budget, minimising sum_r P_r * SSE_r(tier). allowed[t] false keeps
// tier t out. It is SolveStream on stats held in memory; see there for the
// method.
func SolveBudget(tables []BudgetTable, budget int64, allowed [NumTiers]bool) ([][]Tier, error) {
	in := make([]StatTable, len(tables))
	for i, tb := range tables {
		if len(tb.Priority) != len(tb.Err) {
			return nil, fmt.Errorf("%w: %d priorities for %d rows", ErrInvalid, len(tb.Priority), len(tb.Err))
		}
		st := make(MemStats, len(tb.Err))
		for r := range st {
			st[r] = StatOf(tb.Priority[r], tb.Err[r])
		}
		in[i] = StatTable{Dim: tb.Dim, Stats: st}
	}
	d, err := SolveStream(in, budget, allowed)
	if err != nil {
		return nil, err
	}
	out := make([][]Tier, len(tables))
	for i, tb := range in {
		out[i] = make([]Tier, tb.Stats.Len())
		tb.Stats.Scan(func(r int, s *RowStat) { out[i][r] = d.Tier(tb.Dim, s) })
	}
	return out, nil
}
