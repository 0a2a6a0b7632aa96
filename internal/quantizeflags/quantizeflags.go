// Package quantizeflags defines, once, the options that choose a
// quantization's tables and tiers, for every command line that quantizes:
// shark quantize (pflag, through cobra) and shark-dist quantize (Go's
// flag package, beside Beam's flags). So the two take the same flags,
// with the same names, defaults, checks and help.
package quantizeflags

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"shark/compress"
	"shark/core"
)

// Flags are the choices. Start from New: the defaults are compress's.
type Flags struct {
	Tables            string
	MinRows           int64
	NoInt4            bool
	Tiers             string // --tiers, as compress.Settings.Tiers
	Block             int64  // --block, as compress.Settings.Block
	WPos, WNeg, Gamma float64
	budget            budget
	fractions         [core.NumTiers]optFloat
	thresholds        thresholds
}

// New is Flags at compress's defaults: a budget of 30%.
func New() *Flags {
	def := compress.DefaultSettings()
	f := &Flags{MinRows: def.MinRows, WPos: def.WPos, WNeg: def.WNeg, Gamma: def.Gamma}
	f.budget.Set("30%")
	f.budget.given = false
	return f
}

// FlagSet is what both flag packages' sets offer with one signature.
type FlagSet interface {
	StringVar(p *string, name, value, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
	Int64Var(p *int64, name string, value int64, usage string)
	Float64Var(p *float64, name string, value float64, usage string)
}

// value is a flag of a type of ours, a Value of both packages.
type value interface {
	String() string
	Set(string) error
	Type() string
}

// Define defines the flags on fs, a *pflag.FlagSet or a *flag.FlagSet.
func (f *Flags) Define(fs FlagSet) {
	def := func(v value, name, usage string) {
		switch s := fs.(type) {
		case *pflag.FlagSet:
			s.Var(v, name, usage)
		case *flag.FlagSet:
			s.Var(v, name, usage)
		default:
			panic(fmt.Sprintf("quantizeflags: a flag set of type %T", fs)) // a programming error
		}
	}
	fs.StringVar(&f.Tables, "tables", f.Tables, "a regular expression selecting the tables by name")
	fs.Int64Var(&f.MinRows, "min-rows", f.MinRows, "the size rule: 2-D float tensors with at least this many rows are tables")
	def(&f.budget, "budget", "a share of the tables' fp32 bytes (30%) or a size (1.5MB, 800KiB)")
	for t := core.Tier(0); t < core.DefaultTiers; t++ { // fractions of the default tiers only
		def(&f.fractions[t], t.String(), "fraction of rows (highest priority first) stored in "+t.String())
	}
	def(&f.thresholds, "thresholds", "priority thresholds: P >= T32 fp32, >= T16 fp16, >= T8 int8, else int4")
	fs.BoolVar(&f.NoInt4, "no-int4", f.NoInt4, "with --budget: fp32, fp16 and int8 only, as in the SHARK paper")
	DefineTiers(fs, &f.Tiers)
	DefineBlock(fs, &f.Block)
	fs.Float64Var(&f.WPos, "w-pos", f.WPos, "priority weight of an access by a positive sample")
	fs.Float64Var(&f.WNeg, "w-neg", f.WNeg, "priority weight of an access by a negative sample")
	fs.Float64Var(&f.Gamma, "gamma", f.Gamma, "decay per period of --counts, in (0, 1]")
}

// ErrModes: more than one way of choosing tiers was given.
var ErrModes = errors.New("choose one of --budget, the tier fractions, or --thresholds")

// Settings are the flags as compress.Settings, checked. Every error is
// the user's: a command line to mend.
func (f *Flags) Settings() (compress.Settings, error) {
	s := compress.DefaultSettings()
	s.Tables, s.NoInt4, s.MinRows = f.Tables, f.NoInt4, f.MinRows
	s.Tiers, s.Block = f.Tiers, int(min(max(f.Block, -1), 1<<31)) // out of range: Validate says so
	s.WPos, s.WNeg, s.Gamma = f.WPos, f.WNeg, f.Gamma
	s.Budget, s.BudgetBytes = f.budget.share, f.budget.bytes
	modes := 0
	if f.budget.given {
		modes++
	}
	for t := range f.fractions {
		if f.fractions[t].set {
			s.Assign = "fractions"
			s.Fractions[t] = f.fractions[t].v
		}
	}
	if s.Assign == "fractions" {
		modes++
	}
	if f.thresholds.set {
		modes++
		s.Assign, s.Thresholds = "thresholds", f.thresholds.v
	}
	if modes > 1 {
		return s, ErrModes
	}
	return s, s.Validate()
}

// budget is a --budget value: a share of the tables' fp32 bytes ("30%") or
// a size with a unit ("1.5MB", "800KiB"). A bare number is refused: 30
// could be either.
type budget struct {
	share float64
	bytes int64
	text  string
	given bool
}

func (b *budget) String() string { return b.text }
func (b *budget) Type() string   { return "size" }

func (b *budget) Set(s string) error {
	share, bytes, err := compress.ParseBudget(s)
	if err != nil {
		return err
	}
	*b = budget{share: share, bytes: bytes, text: strings.TrimSpace(s), given: true}
	return nil
}

// optFloat is a float flag with no default: unset until given, so that the
// help shows no made-up default. NaN and infinities are refused.
type optFloat struct {
	v   float64
	set bool
}

func (f *optFloat) String() string {
	if !f.set {
		return ""
	}
	return strconv.FormatFloat(f.v, 'g', -1, 64)
}
func (f *optFloat) Type() string { return "float" }
func (f *optFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%q is not a finite number", s)
	}
	f.v, f.set = v, true
	return nil
}

// thresholds is a --thresholds value: three priorities T32,T16,T8.
type thresholds struct {
	v   [3]float64
	set bool
}

func (t *thresholds) String() string {
	if !t.set {
		return ""
	}
	return fmt.Sprintf("%g,%g,%g", t.v[0], t.v[1], t.v[2])
}
func (t *thresholds) Type() string { return "T32,T16,T8" }
func (t *thresholds) Set(s string) error {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return fmt.Errorf("%q: want three numbers T32,T16,T8", s)
	}
	for i, p := range parts {
		var f optFloat
		if err := f.Set(strings.TrimSpace(p)); err != nil {
			return err
		}
		t.v[i] = f.v
	}
	t.set = true
	return nil
}

// TiersUsage is --tiers's help.
const TiersUsage = "the tiers rows may take, comma-separated (fp32,fp16,int8 is the paper's setting); with --budget or the tier fractions; fp32 may be left out only if the others hold every row (default: fp32,fp16,int8,int4; int2, int8-block, int4-block and int2-block are opt-in; all names every tier)"

// BlockUsage is --block's help.
const BlockUsage = "rows per block of the block tiers (int8-block, int4-block, int2-block: a block's rows share one fp16 scale and bias; only with one of them in --tiers); 0: 64, or with compress --max-auc-drop, chosen by its search"

// DefineBlock defines --block on fs into p, beside --tiers.
func DefineBlock(fs FlagSet, p *int64) {
	fs.Int64Var(p, "block", *p, BlockUsage)
}

// DefineTiers defines --tiers on fs into p: the one definition of the
// flag for every command that takes --no-int4. Names are checked when the
// settings are (compress.Settings.Allowed), so every face says the same.
func DefineTiers(fs FlagSet, p *string) {
	fs.StringVar(p, "tiers", *p, TiersUsage)
}
