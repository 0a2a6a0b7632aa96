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
// tier t out.
//
// It is the Lagrangian relaxation of DESIGN.md: for a multiplier lambda each
// row takes argmin_t P*err + lambda*bytes; lambda is bisected to the
// smallest value that fits, and the slack left under the budget is then
// filled greedily with the upgrades that the next-smaller lambda would make,
// best error reduction per byte first. One lambda across all tables keeps
// the allocation globally consistent.
func SolveBudget(tables []BudgetTable, budget int64, allowed [NumTiers]bool) ([][]Tier, error) {
	var tiers []Tier
	for t := Tier(0); t < NumTiers; t++ {
		if allowed[t] {
			tiers = append(tiers, t)
		}
	}
	if len(tiers) == 0 {
		return nil, fmt.Errorf("%w: no tier allowed", ErrInvalid)
	}
	for _, tb := range tables {
		if len(tb.Priority) != len(tb.Err) {
			return nil, fmt.Errorf("%w: %d priorities for %d rows", ErrInvalid, len(tb.Priority), len(tb.Err))
		}
	}
	choose := func(tb *BudgetTable, r int, lambda float64) Tier {
		best, bestCost := tiers[0], math.Inf(1)
		for _, t := range tiers {
			var w float64
			switch e := tb.Err[r].SSE[t]; {
			case math.IsInf(e, 0):
				w = math.Inf(1)
			case tb.Priority[r] != 0:
				w = tb.Priority[r] * e
			}
			c := w + lambda*float64(t.RowBytes(tb.Dim))
			// Ties go to the smaller row, then to the more precise tier.
			if c < bestCost || (c == bestCost && t.RowBytes(tb.Dim) < best.RowBytes(tb.Dim)) {
				best, bestCost = t, c
			}
		}
		return best
	}
	// total is the exact stored size of the assignment lambda gives.
	total := func(lambda float64) int64 {
		var s int64
		for i := range tables {
			tb := &tables[i]
			var c [NumTiers]int64
			for r := range tb.Err {
				c[choose(tb, r, lambda)]++
			}
			s += TableBytes(tb.Dim, c)
		}
		return s
	}
	// The cheapest assignment: every row in its smallest tier with a finite
	// error (non-finite rows must stay fp32).
	const lambdaMax = 1e300
	if need := total(lambdaMax); need > budget {
		return nil, fmt.Errorf("%w: the smallest possible encoding takes %d bytes, over the budget of %d", ErrBudget, need, budget)
	}
	lo, hi := 0.0, lambdaMax
	if total(lo) <= budget {
		hi = lo
	} else {
		// Bisect in log space: lambda spans hundreds of orders of magnitude.
		// hi always fits; lo never does.
		llo, lhi := -300.0, 300.0
		for i := 0; i < 200 && lhi-llo > 1e-9; i++ {
			mid := (llo + lhi) / 2
			if total(math.Pow(10, mid)) <= budget {
				lhi = mid
			} else {
				llo = mid
			}
		}
		lo, hi = math.Pow(10, llo), math.Pow(10, lhi)
		if total(hi) > budget {
			hi = lambdaMax // padding made the size non-monotone near the edge
		}
	}
	out := make([][]Tier, len(tables))
	counts := make([][NumTiers]int64, len(tables))
	var used int64
	type upgrade struct {
		table, row int
		to         Tier
		gain       float64 // error removed per extra byte
	}
	var ups []upgrade
	for i := range tables {
		tb := &tables[i]
		out[i] = make([]Tier, len(tb.Err))
		for r := range tb.Err {
			t := choose(tb, r, hi)
			out[i][r] = t
			counts[i][t]++
			if hi != lo {
				if u := choose(tb, r, lo); u != t && u.RowBytes(tb.Dim) > t.RowBytes(tb.Dim) {
					db := float64(u.RowBytes(tb.Dim) - t.RowBytes(tb.Dim))
					de := tb.Priority[r] * (tb.Err[r].SSE[t] - tb.Err[r].SSE[u])
					ups = append(ups, upgrade{i, r, u, de / db})
				}
			}
		}
		used += TableBytes(tb.Dim, counts[i])
	}
	sort.SliceStable(ups, func(a, b int) bool { return ups[a].gain > ups[b].gain })
	for _, u := range ups {
		tb := &tables[u.table]
		c := counts[u.table]
		before := TableBytes(tb.Dim, c)
		c[out[u.table][u.row]]--
		c[u.to]++
		after := TableBytes(tb.Dim, c)
		if used-before+after <= budget {
			out[u.table][u.row] = u.to
			counts[u.table] = c
			used += after - before
		}
	}
	return out, nil
}

// WeightedError is the objective the budget solver minimises.
func WeightedError(p []float64, errs []RowError, tiers []Tier) float64 {
	s := 0.0
	for r, t := range tiers {
		if p[r] != 0 {
			s += p[r] * errs[r].SSE[t]
		}
	}
	return s
}
