package core

import (
	"errors"
	"math"
	"math/rand/v2"
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
