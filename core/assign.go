package core

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// TierFunc gives a row's tier from its index and stats.
type TierFunc func(r int, s *RowStat) Tier

// Assignment names how tiers are chosen.
type Assignment int

const (
	// ByBudget: the Lagrangian solver within a byte budget (SolveStream).
	ByBudget Assignment = iota
	// ByFractions: fixed shares of rows, highest priority first.
	ByFractions
	// ByThresholds: priority thresholds per tier.
	ByThresholds
)

var assignmentNames = [...]string{"budget", "fractions", "thresholds"}

func (a Assignment) String() string {
	if int(a) < len(assignmentNames) {
		return assignmentNames[a]
	}
	return fmt.Sprintf("assignment(%d)", int(a))
}

// Rule is a complete choice of how to assign tiers.
type Rule struct {
	By         Assignment
	Budget     int64             // ByBudget: stored bytes of all tables, as a Storage counts them
	Allowed    [NumTiers]bool    // ByBudget: the tiers the solver may use
	Fractions  [NumTiers]float64 // ByFractions: shares of rows, summing to 1
	Thresholds [3]float64        // ByThresholds: fp32, fp16, int8 priority thresholds
}

// StatTable is one table's row stats, the input of an assignment.
type StatTable struct {
	Dim   int
	Stats StatStore
}

// Assign chooses the tier of every row of every table by rule: the one
// quantization path every caller takes, whether the stats are in memory or
// spilled to disk. A row goes to a lossy tier only if that tier holds it:
// a row holding a NaN or an infinity stays at fp32 whatever the rule says,
// and so does a row the chosen tier cannot hold (lossless).
func Assign(tables []StatTable, rule Rule, st Storage) ([]TierFunc, error) {
	// A zero Allowed names no choice (fractions and thresholds need none);
	// one leaving fp32 out is honoured only if every row fits elsewhere.
	if rule.Allowed != ([NumTiers]bool{}) {
		use, every := rule.Allowed, rule.By == ByFractions
		if every {
			for t, f := range rule.Fractions {
				use[t] = f > 0
			}
		}
		if err := checkHeld(tables, rule.Allowed, use, every); err != nil {
			return nil, err
		}
	}
	out := make([]TierFunc, len(tables))
	switch rule.By {
	case ByBudget:
		d, err := solveWithBlocks(tables, rule.Budget, rule.Allowed, st)
		if err != nil {
			return nil, err
		}
		for i, tb := range tables {
			dim := tb.Dim
			out[i] = lossless(d.TierFunc(dim))
		}
	case ByFractions:
		if err := CheckFractions(rule.Fractions); err != nil {
			return nil, err
		}
		for i, tb := range tables {
			cuts, err := fractionCuts(tb.Stats, rule.Fractions)
			if err != nil {
				return nil, err
			}
			out[i] = lossless(fractionTier(cuts))
		}
	case ByThresholds:
		th := rule.Thresholds
		if err := checkThresholds(th); err != nil {
			return nil, err
		}
		for i := range tables {
			out[i] = lossless(func(_ int, s *RowStat) Tier { return thresholdTier(float64(s.P), th) })
		}
	default:
		return nil, fmt.Errorf("%w: unknown assignment %d", ErrInvalid, rule.By)
	}
	return out, nil
}

// solveWithBlocks is SolveStream with the fixed costs of the tiers after
// int4 weighed: the block tiers' parameters, and the wider index of a
// table that uses any of them. When some are allowed, the budget is also
// solved without every tier after int4, without the block tiers, and with
// one block tier alone (what the least budget, MinBytes, stores rows in),
// and the decision of the least weighted error is taken (the one of fewer
// tiers on a tie); one whose fixed costs leave no room is passed over.
// When none fits, the error is the one with every tier allowed.
func solveWithBlocks(tables []StatTable, budget int64, allowed [NumTiers]bool, st Storage) (*Decision, error) {
	noBlock, narrow := allowed, allowed
	for t := Tier(DefaultTiers); t < NumTiers; t++ {
		narrow[t] = false
		if t.Block() {
			noBlock[t] = false
		}
	}
	if narrow == allowed {
		return SolveStream(tables, budget, allowed, st)
	}
	var sets [][NumTiers]bool // in order of more tiers, each once
	add := func(a [NumTiers]bool) {
		if a != ([NumTiers]bool{}) && !slices.Contains(sets, a) {
			sets = append(sets, a)
		}
	}
	add(narrow)
	add(noBlock)
	for t := INT8B; t < NumTiers; t++ {
		if one := noBlock; allowed[t] {
			one[t] = true
			add(one)
		}
	}
	add(allowed)
	var best *Decision
	var bestErr error
	bestW := math.Inf(1)
	for _, a := range sets {
		d, err := SolveStream(tables, budget, a, st)
		if err != nil {
			bestErr = err // with every tier allowed, last, when none fits
			continue
		}
		w, err := weightedError(tables, d)
		if err != nil {
			return nil, err
		}
		if best == nil || w < bestW {
			best, bestW = d, w
		}
	}
	if best == nil {
		return nil, leastError(tables, budget, allowed, st, bestErr)
	}
	return best, nil
}

// leastError is err of a budget none of the sets of tiers meets, saying
// the least (MinBytes) when it is a budget's: the least of every set, not
// of all tiers at once, whose error counts every block tier's parameters.
func leastError(tables []StatTable, budget int64, allowed [NumTiers]bool, st Storage, err error) error {
	if !errors.Is(err, ErrBudget) {
		return err
	}
	least, merr := MinBytes(tables, allowed, st)
	if merr != nil {
		return err
	}
	return fmt.Errorf("%w: the smallest possible encoding takes %d bytes, over the budget of %d", ErrBudget, least, budget)
}

// weightedError is sum P_r * SSE_r(tier) over every row of the tables
// under d (the solver's objective), summed in an order that does not
// depend on the number of cores.
func weightedError(tables []StatTable, d *Decision) (float64, error) {
	total := 0.0
	for _, tb := range tables {
		tier := lossless(d.TierFunc(tb.Dim))
		ts, err := Resolve(tb.Dim, tb.Stats, tier, RowsOnly, nil)
		if err != nil {
			return 0, err
		}
		total += ts.WeightedErr
	}
	return total, nil
}

// lossless keeps each row out of the lossy tiers that cannot hold it
// (measured as an infinite error: a NaN or an infinity in the row, or a
// value, scale or bias past binary16's range): where the rule chose one,
// the row stays at fp32, whatever the rule asked.
func lossless(tier TierFunc) TierFunc {
	return func(r int, s *RowStat) Tier {
		t := tier(r, s)
		if math.IsInf(s.Err(t), 1) {
			return FP32
		}
		return t
	}
}

func checkThresholds(th [3]float64) error {
	if !(th[0] >= th[1] && th[1] >= th[2]) {
		return fmt.Errorf("%w: thresholds must be non-increasing (fp32 >= fp16 >= int8), got %v", ErrInvalid, th)
	}
	return nil
}

func thresholdTier(p float64, th [3]float64) Tier {
	switch {
	case p >= th[0]:
		return FP32
	case p >= th[1]:
		return FP16
	case p >= th[2]:
		return INT8
	}
	return INT4
}

// AssignThresholds puts a row with priority >= th[0] in fp32, >= th[1] in
// fp16, >= th[2] in int8, and the rest in int4. Thresholds must not increase.
func AssignThresholds(p []float64, th [3]float64) ([]Tier, error) {
	if err := checkThresholds(th); err != nil {
		return nil, err
	}
	out := make([]Tier, len(p))
	for r, v := range p {
		out[r] = thresholdTier(v, th)
	}
	return out, nil
}

// CheckFractions reports whether f is a valid split of rows: each share in
// [0, 1], summing to 1.
func CheckFractions(f [NumTiers]float64) error {
	sum := 0.0
	for t, v := range f {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("%w: fraction for %v must be in [0, 1], got %v", ErrInvalid, Tier(t), v)
		}
		sum += v
	}
	if math.Abs(sum-1) > 1e-6 {
		return fmt.Errorf("%w: tier fractions must sum to 1, got %v", ErrInvalid, sum)
	}
	return nil
}

// AssignFractions ranks rows by priority (highest first, ties by row id; a
// NaN last) and gives the first f[FP32] of them fp32, the next f[FP16]
// fp16, and so on. The fractions must be in [0, 1] and sum to 1. Assign
// makes the same choice streaming; this is its reference, in memory.
func AssignFractions(p []float64, f [NumTiers]float64) ([]Tier, error) {
	if err := CheckFractions(f); err != nil {
		return nil, err
	}
	order := make([]int, len(p))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rankKey(float32(p[order[a]])) > rankKey(float32(p[order[b]])) })
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

// MinBytes is the smallest stored size of the tables with the allowed
// tiers: every row in the smallest allowed tier that can hold it (fp32 for
// a row with a NaN or an infinity), as st lays them out. A budget below it
// cannot be met.
func MinBytes(tables []StatTable, allowed [NumTiers]bool, st Storage) (int64, error) {
	var total int64
	for _, tb := range tables {
		rb := rowBytesAll(tb.Dim)
		accs, err := scanAll(tb.Stats, func() *[NumTiers]int64 { return new([NumTiers]int64) }, func(a *[NumTiers]int64, _ int, s *RowStat) {
			best := FP32
			for t := Tier(0); t < NumTiers; t++ {
				if allowed[t] && !math.IsInf(s.Err(t), 0) && rb[t] < rb[best] {
					best = t
				}
			}
			a[best]++
		})
		if err != nil {
			return 0, err
		}
		var counts [NumTiers]int64
		for _, a := range accs {
			for t, c := range a {
				counts[t] += c
			}
		}
		total += st.Bytes(tb.Dim, counts)
	}
	return total, nil
}
