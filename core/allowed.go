package core

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// ErrTierNames: a list of tiers names none, or a name that is no tier.
var ErrTierNames = errors.New("bad list of tiers")

// TierNames is every tier's name, in tier order: what ParseTiers accepts.
func TierNames() []string { return tierNames[:] }

// ParseTiers reads a comma-separated list of tier names ("fp32,fp16,int8")
// into the set of tiers allowed; "all" names every tier, the opt-in ones
// (int2 and the block tiers) too. Blanks around names and repeats are
// accepted; an empty list, an empty name or an unknown one is an error
// naming the valid names.
func ParseTiers(list string) ([NumTiers]bool, error) {
	var allowed [NumTiers]bool
	if strings.TrimSpace(list) == "" {
		return allowed, fmt.Errorf("%w: no tier named (want some of %s, or all)", ErrTierNames, strings.Join(tierNames[:], ", "))
	}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if strings.EqualFold(name, "all") {
			allowed = AllTiers()
			continue
		}
		t, ok := tierByName(name)
		if !ok {
			return allowed, fmt.Errorf("%w: %q is not a tier (want some of %s, comma-separated, or all)", ErrTierNames, name, strings.Join(tierNames[:], ", "))
		}
		allowed[t] = true
	}
	return allowed, nil
}

// AllTiers is every tier allowed: what --tiers all names.
func AllTiers() (a [NumTiers]bool) {
	for t := range a {
		a[t] = true
	}
	return a
}

// DefaultAllowed is the tiers a rule allows unless told otherwise: fp32,
// fp16, int8 and int4 (DefaultTiers).
func DefaultAllowed() (a [NumTiers]bool) {
	for t := range DefaultTiers {
		a[t] = true
	}
	return a
}

func tierByName(s string) (Tier, bool) {
	for i, n := range tierNames {
		if strings.EqualFold(s, n) {
			return Tier(i), true
		}
	}
	return 0, false
}

// AllowedNames is the names of the allowed tiers, in tier order.
func AllowedNames(allowed [NumTiers]bool) []string {
	var out []string
	for t, ok := range allowed {
		if ok {
			out = append(out, tierNames[t])
		}
	}
	return out
}

// UnheldError: fp32 was left out of the tiers allowed, but a row holds
// what none of the allowed tiers can (a NaN, an infinity, or a value,
// scale or bias past binary16's range). Such a row is stored at fp32
// whatever a rule says (lossless), so leaving fp32 out cannot be honoured.
type UnheldError struct {
	Table, Row int // the table's index among those assigned, the row's
	Allowed    [NumTiers]bool
}

func (e *UnheldError) Error() string {
	return fmt.Sprintf("row %d of table %d holds a value that none of the tiers allowed (%s) can hold (a NaN, an infinity, or past binary16's range): allow fp32",
		e.Row, e.Table, strings.Join(AllowedNames(e.Allowed), ", "))
}

// CheckHeld returns an *UnheldError for the first row that no allowed
// tier can hold, when fp32 is not allowed (fp32 holds every row).
func CheckHeld(tables []StatTable, allowed [NumTiers]bool) error {
	return checkHeld(tables, allowed, allowed, false)
}

// checkHeld is CheckHeld over the tiers a rule may give a row (use): by
// the solver, some of them must hold it (it picks one that does); by
// fixed fractions, every one of them (every), since a row's place in the
// order alone picks its tier.
func checkHeld(tables []StatTable, allowed, use [NumTiers]bool, every bool) error {
	if allowed[FP32] {
		return nil
	}
	for i, tb := range tables {
		first := -1
		accs, err := scanAll(tb.Stats, func() *int { v := -1; return &v }, func(a *int, r int, s *RowStat) {
			if *a < 0 && !heldBy(s, use, every) {
				*a = r
			}
		})
		if err != nil {
			return err
		}
		for _, a := range accs {
			if *a >= 0 && (first < 0 || *a < first) {
				first = *a
			}
		}
		if first >= 0 {
			return &UnheldError{Table: i, Row: first, Allowed: allowed}
		}
	}
	return nil
}

// heldBy reports whether some (or, every, each) tier of use holds the
// row (a finite error).
func heldBy(s *RowStat, use [NumTiers]bool, every bool) bool {
	for t, ok := range use {
		if !ok {
			continue
		}
		held := !math.IsInf(s.Err(Tier(t)), 0)
		if held != every {
			return held
		}
	}
	return every
}
