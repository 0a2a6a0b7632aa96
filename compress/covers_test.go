package compress

import (
	"testing"
)

// A face keeps its plan while the tiers chosen were measured, and
// measures again when they were not: Covers says which, and agrees with
// Reassign's refusal.
func TestCoversTheTiersMeasured(t *testing.T) {
	in := openNCF(t)
	s := DefaultSettings()
	p, err := Measure(in, s, Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cases := []struct {
		tiers  string
		block  int
		covers bool
	}{
		{"", 0, true},
		{"fp32,fp16,int8", 0, true},
		{"all", 0, false},
		{"fp32,int2", 0, false},
	}
	for _, c := range cases {
		want := s
		want.Tiers, want.Block = c.tiers, c.block
		if got := p.Covers(want); got != c.covers {
			t.Errorf("a plan of the default tiers covers %q: %v, want %v", c.tiers, got, c.covers)
		}
		if err := p.Reassign(want); (err == nil) != c.covers {
			t.Errorf("%q: Reassign %v, Covers %v", c.tiers, err, c.covers)
		}
	}
	s.Tiers, s.Block = "all", 32
	all, err := Measure(in, s, Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	for _, c := range []struct {
		tiers  string
		block  int
		covers bool
	}{{"", 0, true}, {"all", 32, true}, {"fp32,int4-block", 32, true}, {"all", 0, false}, {"fp32,int4-block", 64, false}, {"fp32,int2", 64, true}} {
		want := s
		want.Tiers, want.Block = c.tiers, c.block
		if got := all.Covers(want); got != c.covers {
			t.Errorf("a plan of every tier in blocks of 32 covers %q in blocks of %d: %v, want %v", c.tiers, c.block, got, c.covers)
		}
	}
}
