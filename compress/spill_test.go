package compress

import (
	"bytes"
	"os"
	"testing"
)

// Spilling the per-row stats to disk changes nothing in the output, with
// the default tiers and with every tier (the larger records of int2's and
// the block tiers' errors, and 4-bit tier codes).
func TestSpillIsTransparent(t *testing.T) {
	for _, tiers := range []string{"", "all"} {
		spillIsTransparent(t, tiers)
	}
}

func spillIsTransparent(t *testing.T, tiers string) {
	in := openNCF(t)
	var outs [3][]byte
	defer func(n int) { codesInMemory = n }(codesInMemory)
	for i, spill := range []int{0, 1000, 1000} {
		if i == 2 {
			codesInMemory = 100 // and the tiers too
		}
		s := DefaultSettings()
		s.Created = 1 // the same creation time in both
		if s.Tiers = tiers; tiers != "" {
			s.Budget = 0.1
		}
		plan, err := NewPlan(in, s, Env{SpillRows: spill})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(plan.spills); (spill > 0) != (got == 2) {
			t.Fatalf("spill %d: %d tables spilled", spill, got)
		}
		var buf bytes.Buffer
		if err := plan.Write(&buf); err != nil {
			t.Fatal(err)
		}
		name := plan.spills
		if err := plan.Close(); err != nil {
			t.Fatal(err)
		}
		for _, f := range name {
			if _, err := os.Stat(f.f.Name()); !os.IsNotExist(err) {
				t.Fatal("spill file left behind")
			}
		}
		outs[i] = buf.Bytes()
	}
	if !bytes.Equal(outs[0], outs[1]) || !bytes.Equal(outs[0], outs[2]) {
		t.Fatalf("tiers %q: spilled and in-memory plans wrote different files", tiers)
	}
}
