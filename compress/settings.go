package compress

import (
	"fmt"
	"regexp"
	"strings"

	"shark/core"
)

// DefaultMinRows: a 2-D float tensor with fewer rows is taken for a dense
// weight, not an embedding table, unless other evidence (a Gather node, an
// embedding module's name) or Settings.Tables says it is one.
const DefaultMinRows = 1000

// Settings are everything a user chooses about a compression, the same in
// every face: the CLI's flags, the page's controls (posted as JSON to its
// worker), the desktop's widgets. Start from DefaultSettings.
type Settings struct {
	// Tables selects the tables by name (a regular expression); empty:
	// every tensor formats.Tensor.IsTable(MinRows) takes for one (read by
	// a Gather node, named as an embedding module's weight, or with at
	// least MinRows rows: the size rule).
	Tables  string `json:"tables,omitempty"`
	MinRows int64  `json:"min_rows,omitempty"`

	// Assign is "budget", "fractions" or "thresholds".
	Assign string `json:"assign"`
	// Budget is a share of the tables' fp32 bytes (0.3 for 30%), unless
	// BudgetBytes is set.
	Budget      float64 `json:"budget,omitempty"`
	BudgetBytes int64   `json:"budget_bytes,omitempty"`
	// NoInt4 keeps the budget to the paper's fp32, fp16 and int8.
	NoInt4 bool `json:"no_int4,omitempty"`
	// Tiers names the tiers the budget's solver and the fractions may use
	// (core.ParseTiers: "fp32,fp16,int8", or "all"); empty: fp32, fp16, int8 and int4. NoInt4
	// drops int4 from them. fp32 may be left out only if the others hold
	// every row (core.UnheldError).
	Tiers string `json:"tiers,omitempty"`
	// Block is the rows per block of the block tiers (int8-block,
	// int4-block, int2-block), which share an fp16 scale and bias per
	// block; 0: core.DefaultBlock (64), or in CompressModel with
	// MaxAUCDrop, the block size its search chooses. Set only with a
	// block tier allowed (Validate).
	Block int `json:"block,omitempty"`
	// Fractions of rows per tier (fp32, fp16, int8, int4), highest priority
	// first, summing to 1.
	Fractions [core.NumTiers]float64 `json:"fractions"`
	// Thresholds on the priority: fp32 at or above the first, fp16, int8,
	// and int4 below the last.
	Thresholds [3]float64 `json:"thresholds"`

	// F-Quantization's weights of a positive and a negative access and the
	// decay per period of the access counts.
	WPos  float64 `json:"w_pos"`
	WNeg  float64 `json:"w_neg"`
	Gamma float64 `json:"gamma"`

	// Created is the creation time recorded in the file, in Unix seconds;
	// 0 means SOURCE_DATE_EPOCH when it is set (as reproducible builds do),
	// else now.
	Created int64 `json:"created,omitempty"`
}

// DefaultSettings: tables by the default rule, priorities by the default
// parameters, a budget of 30% of the tables' fp32 bytes, the default tiers (fp32 to int4) allowed.
func DefaultSettings() Settings {
	p := core.DefaultPriorityParams()
	return Settings{MinRows: DefaultMinRows, Assign: "budget", Budget: 0.30, WPos: p.WPos, WNeg: p.WNeg, Gamma: p.Gamma}
}

// Priority is the settings' F-Quantization parameters.
func (s Settings) Priority() core.PriorityParams {
	return core.PriorityParams{WPos: s.WPos, WNeg: s.WNeg, Gamma: s.Gamma}
}

// Validate checks every setting's domain.
func (s Settings) Validate() error {
	if _, err := s.tables(); err != nil {
		return err
	}
	if err := s.Priority().Validate(); err != nil {
		return err
	}
	if s.MinRows < 0 {
		return fmt.Errorf("%w: the size rule's rows must be at least 0, got %d", core.ErrInvalid, s.MinRows)
	}
	allowed, err := s.Allowed()
	if err != nil {
		return err
	}
	if s.Block < 0 || s.Block > MaxBlock {
		return fmt.Errorf("%w: blocks of %d rows (want 1 to %d, or 0 for %d)", core.ErrInvalid, s.Block, MaxBlock, core.DefaultBlock)
	}
	if s.Block != 0 && !anyBlock(allowed) {
		// Rows per block with no block tier would be silently unused.
		return fmt.Errorf("%w: --block %d sets the rows per block of the block tiers (int8-block, int4-block, int2-block), and none is allowed (%s): name one in --tiers (e.g. --tiers all), or leave --block out", ErrTiers, s.Block, strings.Join(core.AllowedNames(allowed), ", "))
	}
	switch s.Assign {
	case "budget":
		if s.BudgetBytes < 0 || (s.BudgetBytes == 0 && !(s.Budget > 0 && s.Budget <= 10)) {
			return fmt.Errorf("%w: budget must be a share above 0%% (up to 1000%%) or a positive size, got %v", core.ErrInvalid, s.Budget)
		}
	case "fractions":
		if err := core.CheckFractions(s.Fractions); err != nil {
			return err
		}
		return fractionsAllowed(s.Fractions, allowed)
	case "thresholds":
		if allowed != defaultTiers {
			return thresholdsRefused(allowed)
		}
		_, err := core.AssignThresholds(nil, s.Thresholds) // NaN fails its ordering
		return err
	default:
		return fmt.Errorf("%w: assign %q (budget, fractions or thresholds)", core.ErrInvalid, s.Assign)
	}
	return nil
}

func (s Settings) tables() (*regexp.Regexp, error) {
	if s.Tables == "" {
		return nil, nil
	}
	re, err := regexp.Compile(s.Tables)
	if err != nil {
		return nil, fmt.Errorf("%w: tables %q: %v", core.ErrInvalid, s.Tables, err)
	}
	return re, nil
}

// Rule is the assignment the settings choose for tables of fp32 bytes at
// fp32 (a budget's share is of those bytes): the one mapping of a user's
// settings to core's rule, for the tables' faces, the model wing
// (CompressModel) and the distributed quantize alike.
func (s Settings) Rule(fp32 int64) core.Rule {
	allowed, _ := s.Allowed() // Validate reports a bad list
	r := core.Rule{Fractions: s.Fractions, Thresholds: s.Thresholds, Allowed: allowed}
	switch s.Assign {
	case "fractions":
		r.By = core.ByFractions
	case "thresholds":
		r.By = core.ByThresholds
	default:
		r.By, r.Budget = core.ByBudget, s.BudgetBytes
		if r.Budget == 0 {
			r.Budget = int64(s.Budget * float64(fp32))
		}
	}
	return r
}

// ErrTiers: the tiers allowed cannot do what the other settings ask. Its
// words head every such message ("invalid argument: tier choice: --block
// 16 sets ...").
var ErrTiers = fmt.Errorf("%w: tier choice", core.ErrInvalid)

// thresholdsRefused says why thresholds cannot keep to the tiers allowed:
// they put each band of priorities in one of the four default tiers, so
// they need all four and reach no other.
func thresholdsRefused(allowed [core.NumTiers]bool) error {
	names := strings.Join(core.AllowedNames(allowed), ", ")
	for t := core.Tier(core.DefaultTiers); t < core.NumTiers; t++ {
		if allowed[t] {
			return fmt.Errorf("%w: --thresholds put every row in fp32, fp16, int8 or int4 (a band of priorities each), never in %s; only a budget gives rows the tiers after int4 (allowed: %s)", ErrTiers, t, names)
		}
	}
	return fmt.Errorf("%w: --thresholds put rows in each of fp32, fp16, int8 and int4 (a band of priorities each), and --tiers allows only %s; a budget or fixed fractions keep to those", ErrTiers, names)
}

// defaultTiers is the tiers allowed when Tiers is empty: fp32, fp16, int8
// and int4; int2 and the block tiers are opt-in (Tiers "all").
var defaultTiers = core.DefaultAllowed()

// Allowed is the tiers the settings let rows take: Tiers (the default
// tiers, fp32 to int4, when empty), less int4 with NoInt4. An error names
// the valid tier names.
func (s Settings) Allowed() ([core.NumTiers]bool, error) {
	allowed := defaultTiers
	if s.Tiers != "" {
		var err error
		if allowed, err = core.ParseTiers(s.Tiers); err != nil {
			return allowed, fmt.Errorf("%w: %w", core.ErrInvalid, err)
		}
	}
	if s.NoInt4 && s.Tiers != "" {
		// --no-int4 is --tiers fp32,fp16,int8: with a list of its own,
		// one of the two would be silently overruled.
		return allowed, fmt.Errorf("%w: --no-int4 with --tiers %s: --no-int4 means --tiers fp32,fp16,int8; give one of them", ErrTiers, s.Tiers)
	}
	if s.NoInt4 {
		allowed[core.INT4] = false
	}
	if allowed == ([core.NumTiers]bool{}) {
		return allowed, fmt.Errorf("%w: no tier left (--tiers %q)", ErrTiers, s.Tiers)
	}
	return allowed, nil
}

// anyBlock says whether allowed holds a block tier.
func anyBlock(allowed [core.NumTiers]bool) bool {
	for t, ok := range allowed {
		if ok && core.Tier(t).Block() {
			return true
		}
	}
	return false
}

// MaxBlock bounds the rows per block: a block is measured whole, in one
// chunk of rows.
const MaxBlock = 1 << 16

// measure is what the settings' rule needs measured: the tiers allowed,
// in the settings' blocks.
func (s Settings) measure() core.Measure {
	allowed, _ := s.Allowed() // Validate reports a bad list
	return core.MeasureFor(allowed, s.Block)
}

// fractionsAllowed refuses a share of rows in a tier not allowed, and in
// the tiers after int4, which only a budget's solver gives rows.
func fractionsAllowed(f [core.NumTiers]float64, allowed [core.NumTiers]bool) error {
	for t, share := range f[core.DefaultTiers:] {
		if share > 0 {
			return fmt.Errorf("%w: a share %g of rows in %s: only a budget gives rows the tiers after int4", ErrTiers, share, core.Tier(core.DefaultTiers+t))
		}
	}
	for t, share := range f {
		if share > 0 && !allowed[t] {
			return fmt.Errorf("%w: a share %g of rows in %s, which is not among the tiers allowed (%s)", ErrTiers, share, core.Tier(t), strings.Join(core.AllowedNames(allowed), ", "))
		}
	}
	return nil
}
