package pipeline

import (
	"errors"
	"fmt"

	"shark/core"
	"shark/ctr/model"
	"shark/formats/sharkfile"
)

// DefaultResolution is the budget search's step: it stops once the
// smallest budget within the tolerance is known to within this share of
// the kept tables' fp32 bytes.
const DefaultResolution = 0.005

// ErrNoValidation: a budget search needs validation rows apart from the
// scored ones, or the budget would be chosen on the rows it is judged by.
var ErrNoValidation = errors.New("pipeline: the budget search needs validation rows (Options.Validation) other than the scored rows")

// Probe is one budget the search tried.
type Probe struct {
	Budget      float64 `json:"budget"`       // a share of the kept tables' fp32 bytes
	BudgetBytes int64   `json:"budget_bytes"` // that share in bytes
	Bytes       int64   `json:"bytes"`        // the tables' stored bytes with the tiers chosen
	AUC         float64 `json:"auc"`          // on the validation rows
	Drop        float64 `json:"drop"`         // the unpruned model's validation AUC less AUC
	Within      bool    `json:"within"`       // Drop is at most the tolerance
}

// Search is what the budget search found: the smallest budget whose
// validation AUC stays within MaxAUCDrop of the unpruned model's, to
// within Resolution, and every probe in the order made.
type Search struct {
	MaxAUCDrop float64 `json:"max_auc_drop"`
	// BaseAUC is the unpruned model's AUC on the validation rows, the
	// one the drops are from; PrunedAUC the pruned model's, at fp32.
	BaseAUC    float64 `json:"validation_auc_before"`
	PrunedAUC  float64 `json:"validation_auc_after_prune"`
	MinBudget  float64 `json:"min_budget"` // the smallest budget the tiers allowed can meet
	Resolution float64 `json:"resolution"`
	// Budget is the budget found; Met says whether it is within the
	// tolerance (not when even the pruned model at fp32 is past it).
	Budget      float64 `json:"budget"`
	BudgetBytes int64   `json:"budget_bytes"`
	Met         bool    `json:"met"`
	Probes      []Probe `json:"probes"`
}

// search finds the smallest budget for m's kept tables whose AUC on valid
// stays within opt.MaxAUCDrop of base, by bisection over the budget's
// bytes between the least the tiers allowed can hold and the tables' fp32
// bytes. The rows' stats are measured once; each probe only assigns tiers,
// encodes a copy of the model and scores it. It returns the rule of the
// budget found.
func search(m *model.Model, train, valid *model.Dataset, base float64, opt Options) (core.Rule, *Search, error) {
	tables, fp32, err := measure(m, train, opt)
	if err != nil {
		return core.Rule{}, nil, err
	}
	pruned, err := m.Evaluate(valid)
	if err != nil {
		return core.Rule{}, nil, err
	}
	rule := opt.Rule(fp32)
	rule.By = core.ByBudget
	least, err := core.MinBytes(tables, rule.Allowed, sharkfile.Storage)
	if err != nil {
		return core.Rule{}, nil, err
	}
	res := opt.Resolution
	if !(res > 0) {
		res = DefaultResolution
	}
	s := &Search{MaxAUCDrop: opt.MaxAUCDrop, BaseAUC: base, PrunedAUC: pruned.AUC, MinBudget: share(least, fp32), Resolution: res}
	probe := func(bytes int64) (bool, error) {
		rule.Budget = bytes
		p, err := probeAt(m, valid, tables, rule, fp32, base, opt.MaxAUCDrop)
		if err != nil {
			return false, err
		}
		s.Probes = append(s.Probes, p)
		if opt.OnProbe != nil {
			opt.OnProbe(p)
		}
		return p.Within, nil
	}
	lo, hi := least, max(fp32, least)
	if ok, err := probe(lo); err != nil || ok {
		return s.found(rule, lo, fp32, ok), s, err
	}
	if ok, err := probe(hi); err != nil || !ok {
		return s.found(rule, hi, fp32, false), s, err
	}
	step := max(1, int64(res*float64(fp32)))
	for hi-lo > step {
		mid := lo + (hi-lo)/2
		ok, err := probe(mid)
		if err != nil {
			return core.Rule{}, nil, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	return s.found(rule, hi, fp32, true), s, nil
}

// found records the budget chosen and returns its rule.
func (s *Search) found(rule core.Rule, bytes, fp32 int64, met bool) core.Rule {
	rule.Budget = bytes
	s.Budget, s.BudgetBytes, s.Met = share(bytes, fp32), bytes, met
	return rule
}

// probeAt scores a copy of m with its tables stored under rule.
func probeAt(m *model.Model, valid *model.Dataset, tables []core.StatTable, rule core.Rule, fp32 int64, base, tol float64) (Probe, error) {
	tiers, err := tiersBy(tables, rule)
	if err != nil {
		return Probe{}, err
	}
	c := m.Clone()
	bytes, err := encode(c, tiers)
	if err != nil {
		return Probe{}, err
	}
	met, err := c.Evaluate(valid)
	if err != nil {
		return Probe{}, err
	}
	drop := base - met.AUC
	return Probe{Budget: share(rule.Budget, fp32), BudgetBytes: rule.Budget, Bytes: bytes, AUC: met.AUC, Drop: drop, Within: drop <= tol}, nil
}

func share(bytes, fp32 int64) float64 {
	if fp32 == 0 {
		return 0
	}
	return float64(bytes) / float64(fp32)
}

// Verdict is the budget found, in a line.
func (s *Search) Verdict() string {
	verdict := "the smallest within"
	if !s.Met {
		verdict = "NOT within: no budget is, the pruned model at fp32 is past"
	}
	return fmt.Sprintf("budget %.2f%% (%d bytes) after %d probes: %s the AUC drop %g of the unpruned model's validation AUC %.5f (to within %.1f%% of the fp32 bytes; the least budget the tiers allow is %.2f%%)",
		100*s.Budget, s.BudgetBytes, len(s.Probes), verdict, s.MaxAUCDrop, s.BaseAUC, 100*s.Resolution, 100*s.MinBudget)
}

// Line is probe number n (from 1) in a line, for a terminal.
func (p Probe) Line(n int) string {
	mark := "over"
	if p.Within {
		mark = "within"
	}
	return fmt.Sprintf("probe %d: budget %.2f%% (%d bytes, stored %d): validation AUC %.5f, drop %+.5f, %s", n, 100*p.Budget, p.BudgetBytes, p.Bytes, p.AUC, p.Drop, mark)
}

// searchBase checks that a budget search can be made and returns the
// unpruned model's AUC on the validation rows.
func searchBase(m *model.Model, scored *model.Dataset, opt Options) (float64, error) {
	if opt.Validation == nil || opt.Validation == scored {
		return 0, ErrNoValidation
	}
	if !opt.Quantize || opt.Uniform >= 0 {
		return 0, fmt.Errorf("%w: a budget search needs the solver's quantization", core.ErrInvalid)
	}
	met, err := m.Evaluate(opt.Validation)
	return met.AUC, err
}

// pruneTolerance is the rollback tolerance under a budget search: no
// more than the AUC drop allowed, so a pruning round past it is undone
// (a tolerance of 0 means never rolling back, so it becomes the drop).
func pruneTolerance(opt Options) float64 {
	if opt.Tolerance == 0 || opt.Tolerance > opt.MaxAUCDrop {
		return opt.MaxAUCDrop
	}
	return opt.Tolerance
}
