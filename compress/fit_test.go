package compress

import (
	"errors"
	"testing"

	"shark/core"
)

// Fit answers a budget control as every face shows it: a refused budget
// is no error but Refused, with the smallest budget of the settings
// refused, and the plan keeps the settings before; a met one has the
// smallest budget of its own settings; invalid settings are an error.
func TestFitSaysTheSmallestBudget(t *testing.T) {
	p, err := NewPlan(openNCF(t), DefaultSettings(), Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	withInt4, err := p.MinBytes()
	if err != nil {
		t.Fatal(err)
	}
	s := DefaultSettings()
	s.NoInt4, s.Budget = true, 0.25 // int8 rows of 32 values take 28% of fp32
	f, err := p.Fit(s)
	if err != nil || f.Refused == nil || !f.MinKnown || f.Min != f.Refused.Min || f.Min <= withInt4 {
		t.Fatalf("refused budget: %+v, %v (smallest with int4 %d)", f, err, withInt4)
	}
	if want := float64(f.Min) / float64(p.FP32Bytes()); f.MinShare != want || !p.Assigned() || p.Settings.NoInt4 {
		t.Fatalf("share %v, want %v; the plan keeps the settings before: assigned %v, no-int4 %v", f.MinShare, want, p.Assigned(), p.Settings.NoInt4)
	}
	f, err = p.Fit(DefaultSettings())
	if err != nil || f.Refused != nil || !f.MinKnown || f.Min != withInt4 {
		t.Fatalf("met budget: %+v, %v (smallest %d)", f, err, withInt4)
	}
	bad := DefaultSettings()
	bad.Assign = "nonsense"
	if _, err := p.Fit(bad); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("invalid settings: %v", err)
	}
}
