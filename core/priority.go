package core

import (
	"fmt"
	"math"
)

// PriorityParams are F-Quantization's knobs: on every access by a sample with
// label y at time t, a row's priority becomes
//
//	P <- Gamma^(t - t_r) * P + (y == 1 ? WPos : WNeg);  t_r <- t
type PriorityParams struct {
	WPos  float64 // weight of an access by a positive sample
	WNeg  float64 // weight of an access by a negative sample
	Gamma float64 // decay per time unit, in (0, 1]; 1 means no decay
}

// DefaultPriorityParams: a click counts four times a non-click, no decay
// (the time unit of the data is unknown until the user says).
func DefaultPriorityParams() PriorityParams {
	return PriorityParams{WPos: 1, WNeg: 0.25, Gamma: 1}
}

// Validate checks the domain of every parameter.
func (p PriorityParams) Validate() error {
	switch {
	case !(p.WPos >= 0) || math.IsInf(p.WPos, 0):
		return fmt.Errorf("%w: w-pos must be a finite number >= 0, got %v", ErrInvalid, p.WPos)
	case !(p.WNeg >= 0) || math.IsInf(p.WNeg, 0):
		return fmt.Errorf("%w: w-neg must be a finite number >= 0, got %v", ErrInvalid, p.WNeg)
	case !(p.Gamma > 0 && p.Gamma <= 1):
		return fmt.Errorf("%w: gamma must be in (0, 1], got %v", ErrInvalid, p.Gamma)
	}
	return nil
}

// Priorities accumulates the priority of every row of one table.
type Priorities struct {
	Params PriorityParams
	P      []float64 // priority as of T[r]
	T      []float64 // time of row r's last access
}

// NewPriorities returns an accumulator for rows rows, all at priority 0.
func NewPriorities(rows int, p PriorityParams) *Priorities {
	return &Priorities{Params: p, P: make([]float64, rows), T: make([]float64, rows)}
}

// Observe records an access to row r by a sample with the given label at
// time t. Times must not go backwards for a row; an earlier t is treated as
// simultaneous with the row's last access.
func (a *Priorities) Observe(r int, positive bool, t float64) {
	w := a.Params.WNeg
	if positive {
		w = a.Params.WPos
	}
	if dt := t - a.T[r]; dt > 0 && a.Params.Gamma != 1 && a.P[r] != 0 {
		a.P[r] *= math.Pow(a.Params.Gamma, dt)
	}
	if t > a.T[r] {
		a.T[r] = t
	}
	a.P[r] += w
}

// At returns every row's priority decayed to time t (t >= every access).
func (a *Priorities) At(t float64) []float64 {
	out := make([]float64, len(a.P))
	for r, p := range a.P {
		if dt := t - a.T[r]; dt > 0 && a.Params.Gamma != 1 {
			p *= math.Pow(a.Params.Gamma, dt)
		}
		out[r] = p
	}
	return out
}

// Latest is the time of the most recent access to any row.
func (a *Priorities) Latest() float64 {
	m := 0.0
	for _, t := range a.T {
		m = math.Max(m, t)
	}
	return m
}

// Merge adds b into a: each row's two priorities are decayed to the later of
// their two times and summed, which is what one accumulator would hold had
// it seen both streams (priorities are linear in the accesses).
func (a *Priorities) Merge(b *Priorities) error {
	if len(a.P) != len(b.P) {
		return fmt.Errorf("%w: merging priorities of %d and %d rows", ErrInvalid, len(a.P), len(b.P))
	}
	if a.Params != b.Params {
		return fmt.Errorf("%w: merging priorities with different parameters %+v and %+v", ErrInvalid, a.Params, b.Params)
	}
	g := a.Params.Gamma
	for r := range a.P {
		ta, tb := a.T[r], b.T[r]
		t := math.Max(ta, tb)
		pa, pb := a.P[r], b.P[r]
		if g != 1 {
			pa *= math.Pow(g, t-ta)
			pb *= math.Pow(g, t-tb)
		}
		a.P[r], a.T[r] = pa+pb, t
	}
	return nil
}

// FromCounts builds priorities from per-row access counts split into
// periods, oldest first: pos[k][r] and neg[k][r] are row r's positive and
// negative accesses in period k. Period k is decayed by Gamma^(K-1-k), as if
// each period's accesses happened at its end and the time unit is one period.
// One period (K = 1) is plain aggregated counts.
func FromCounts(pos, neg [][]float64, p PriorityParams) ([]float64, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(pos) != len(neg) || len(pos) == 0 {
		return nil, fmt.Errorf("%w: counts need the same number (>= 1) of positive and negative periods, got %d and %d", ErrInvalid, len(pos), len(neg))
	}
	rows := len(pos[0])
	out := make([]float64, rows)
	K := len(pos)
	for k := range pos {
		if len(pos[k]) != rows || len(neg[k]) != rows {
			return nil, fmt.Errorf("%w: counts period %d has %d/%d rows, want %d", ErrInvalid, k, len(pos[k]), len(neg[k]), rows)
		}
		if err := AddCounts(out, pos[k], neg[k], 0, k, K, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AddCounts adds period k of K's counts of rows first.. (pos, neg and acc
// alike) to their priorities in acc, as FromCounts does: the piece of it
// that a streaming reader of the counts repeats, period by period and
// stretch by stretch, with the same arithmetic in the same order.
func AddCounts(acc, pos, neg []float64, first, k, K int, p PriorityParams) error {
	d := math.Pow(p.Gamma, float64(K-1-k))
	pos, neg = pos[:len(acc)], neg[:len(acc)]
	for i := range acc {
		cp, cn := pos[i], neg[i]
		if !(cp >= 0) || !(cn >= 0) || math.IsInf(cp, 0) || math.IsInf(cn, 0) {
			return fmt.Errorf("%w: counts of row %d in period %d are not finite non-negative numbers (%v, %v)", ErrInvalid, first+i, k, cp, cn)
		}
		acc[i] += d * (p.WPos*cp + p.WNeg*cn)
	}
	return nil
}
