package pipeline

import (
	"errors"
	"fmt"

	"shark/core"
	"shark/ctr/importance"
	"shark/ctr/model"
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
	// Block is the rows per block of the block tiers at this probe (0:
	// no block tier allowed).
	Block int `json:"block,omitempty"`
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
	Bytes       int64   `json:"bytes"` // stored at Budget
	Met         bool    `json:"met"`
	// Block is the rows per block chosen with Budget: the one given, or
	// of the block sizes tried (DefaultBlocks) the one of the fewest
	// bytes within (0: no block tier allowed).
	Block  int     `json:"block,omitempty"`
	Probes []Probe `json:"probes"`
	// Keeps is the keep counts tried when the model is pruned: the one
	// chosen is that of the fewest bytes within the tolerance, and
	// Probes are its budget search's.
	Keeps []KeepProbe `json:"keep_probes,omitempty"`
}

// Line is the keep count tried in a line, for a terminal.
func (k KeepProbe) Line(fields int) string {
	mark := "over: no budget can be within"
	if k.Within {
		mark = "within; its budget search:"
	}
	how := "pruned, fine-tuned"
	if k.Keep == fields {
		how = "unpruned"
	}
	return fmt.Sprintf("keep %d of %d fields (%s, fp32): validation AUC %.5f, drop %+.5f, %s", k.Keep, fields, how, k.AUC, k.Drop, mark)
}

// KeepProbe is one keep count the search tried: the model pruned to Keep
// fields and fine-tuned, scored at fp32 on the validation rows, and when
// within the tolerance, the smallest budget found for it.
type KeepProbe struct {
	Keep   int     `json:"keep"`
	AUC    float64 `json:"auc"`
	Drop   float64 `json:"drop"`
	Within bool    `json:"within"`
	Budget float64 `json:"budget"` // when within, else 0
	Bytes  int64   `json:"bytes"`  // stored at Budget
}

// DefaultBlocks are the rows per block the budget search tries when
// Options.Block is 0 and the rule allows a block tier: the default first,
// searched over the whole range, then the others, each searched below the
// fewest bytes found so far. The best block size differs by model (a
// block's rows share one scale and bias: larger blocks cost fewer
// parameter bytes and fit each row worse), and is judged like the budget,
// on the validation rows.
var DefaultBlocks = []int{core.DefaultBlock, 16, 32, 128, 256, 512}

// blocks is the rows per block the search tries under allowed: the one
// given, or DefaultBlocks when none is and a block tier is allowed.
func (o Options) blocks(allowed [core.NumTiers]bool) []int {
	if o.Block > 0 || !anyBlock(allowed) {
		return []int{o.Block}
	}
	return DefaultBlocks
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

// search finds the smallest stored bytes for m's kept tables whose AUC on
// valid stays within opt.MaxAUCDrop of base: for each block size tried
// (Options.blocks), a bisection over the budget's bytes between the least
// the tiers allowed can hold and, for the first, the tables' fp32 bytes,
// for the others, the budget found so far (a block size that is over
// there cannot do better, short of noise, and is left). The rows' stats
// are measured once per block size (priorities once); each probe only
// assigns tiers, encodes a copy of the model and scores it. It returns
// the rule of the budget found; Search.Block is its block size.
func search(m *model.Model, train, valid *model.Dataset, base float64, opt Options) (core.Rule, *Search, error) {
	prio, err := Priorities(m, train, opt.Priority, opt.PriorityEpochs)
	if err != nil {
		return core.Rule{}, nil, err
	}
	pruned, err := m.Evaluate(valid)
	if err != nil {
		return core.Rule{}, nil, err
	}
	res := opt.Resolution
	if !(res > 0) {
		res = DefaultResolution
	}
	s := &Search{MaxAUCDrop: opt.MaxAUCDrop, BaseAUC: base, PrunedAUC: pruned.AUC, Resolution: res}
	b := &bisection{m: m, valid: valid, s: s, base: base}
	for i, block := range opt.blocks(opt.Rule(0).Allowed) {
		o := opt
		o.Block = block
		tables, fp32, err := measureWith(m, prio, o)
		if err != nil {
			return core.Rule{}, nil, err
		}
		if err := b.run(tables, fp32, o, i == 0); err != nil || !s.Met {
			return b.rule, s, err // none within: not even fp32 is
		}
	}
	return b.rule, s, nil
}

// bisection is the budget search's state across block sizes: the best
// found (rule, in s) so far.
type bisection struct {
	m     *model.Model
	valid *model.Dataset
	s     *Search
	base  float64
	rule  core.Rule
	best  *Probe // the within probe of the fewest stored bytes
}

// run searches one block size's tables (first: the whole range, from the
// least budget to fp32; else below the best found).
func (b *bisection) run(tables []core.StatTable, fp32 int64, o Options, first bool) error {
	rule := o.Rule(fp32)
	rule.By = core.ByBudget
	st := o.storage()
	least, err := core.MinBytes(tables, rule.Allowed, st)
	if err != nil {
		return err
	}
	if m := share(least, fp32); first || m < b.s.MinBudget {
		b.s.MinBudget = m
	}
	if !first && least >= b.best.BudgetBytes {
		return nil // this block size cannot go below the best
	}
	probe := func(bytes int64) (bool, error) {
		rule.Budget = bytes
		p, err := probeAt(b.m, b.valid, tables, rule, st, fp32, b.base, o.MaxAUCDrop)
		if err != nil {
			return false, err
		}
		p.Block = o.Block
		b.s.Probes = append(b.s.Probes, p)
		if o.OnProbe != nil {
			o.OnProbe(p)
		}
		if p.Within && (b.best == nil || p.Bytes < b.best.Bytes) {
			b.best, b.rule = &p, rule
			b.s.found(p, true)
		}
		return p.Within, nil
	}
	lo, hi, done, err := b.bracket(probe, least, max(fp32, least), first)
	if err != nil || done {
		if first && err == nil && !b.s.Met { // not even fp32 is within
			b.rule = rule
			b.s.found(b.s.Probes[len(b.s.Probes)-1], false)
		}
		return err
	}
	return bisect(probe, lo, hi, max(1, int64(b.s.Resolution*float64(fp32))))
}

// bracket probes the ends of a block size's range: the least budget then
// fp32 for the first; for the others the best budget found first (a block
// size over there is left at one probe, as most are when the best is near
// the least budget), then the least. done: nothing is left between.
func (b *bisection) bracket(probe func(int64) (bool, error), lo, hi int64, first bool) (int64, int64, bool, error) {
	if !first {
		hi = b.best.BudgetBytes
		if ok, err := probe(hi); err != nil || !ok {
			return 0, 0, true, err
		}
	}
	if ok, err := probe(lo); err != nil || ok {
		return 0, 0, true, err
	}
	if first {
		if ok, err := probe(hi); err != nil || !ok {
			return 0, 0, true, err
		}
	}
	return lo, hi, false, nil
}

// bisect narrows (lo over, hi within) to within step, probing midpoints.
func bisect(probe func(int64) (bool, error), lo, hi, step int64) error {
	for hi-lo > step {
		mid := lo + (hi-lo)/2
		ok, err := probe(mid)
		if err != nil {
			return err
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	return nil
}

// found records p's budget as the one chosen.
func (s *Search) found(p Probe, met bool) {
	s.Budget, s.BudgetBytes, s.Bytes, s.Block, s.Met = p.Budget, p.BudgetBytes, p.Bytes, p.Block, met
}

// probeAt scores a copy of m with its tables stored under rule.
func probeAt(m *model.Model, valid *model.Dataset, tables []core.StatTable, rule core.Rule, st core.Storage, fp32 int64, base, tol float64) (Probe, error) {
	tiers, err := tiersBy(tables, rule, st)
	if err != nil {
		return Probe{}, err
	}
	c := m.Clone()
	bytes, err := encode(c, tiers, st)
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
	kept := ""
	if len(s.Keeps) > 0 {
		kept = fmt.Sprintf(" with the keep count of the fewest bytes of the %d tried", len(s.Keeps))
	}
	if s.Block > 0 {
		kept += fmt.Sprintf(" in blocks of %d rows", s.Block)
	}
	return fmt.Sprintf("budget %.2f%% (%d bytes)%s after %d probes: %s the AUC drop %g of the unpruned model's validation AUC %.5f (to within %.1f%% of the fp32 bytes; the least budget the tiers allow is %.2f%%)",
		100*s.Budget, s.BudgetBytes, kept, len(s.Probes), verdict, s.MaxAUCDrop, s.BaseAUC, 100*s.Resolution, 100*s.MinBudget)
}

// Line is probe number n (from 1) in a line, for a terminal.
func (p Probe) Line(n int) string {
	mark := "over"
	if p.Within {
		mark = "within"
	}
	blocks := ""
	if p.Block > 0 {
		blocks = fmt.Sprintf(", blocks of %d rows", p.Block)
	}
	return fmt.Sprintf("probe %d: budget %.2f%% (%d bytes%s, stored %d): validation AUC %.5f, drop %+.5f, %s", n, 100*p.Budget, p.BudgetBytes, blocks, p.Bytes, p.AUC, p.Drop, mark)
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

// searchKeep prunes m to the keep count of the fewest stored bytes within
// the tolerance, its budget found by search: a bisection over the keep
// count between keep and every field, for the fewest fields whose pruned
// model (fine-tuned, at fp32) stays within the tolerance on validation,
// each such count's smallest budget searched; the count chosen is the one
// of these of the fewest bytes. m ends pruned to it (unpruned if none of
// fewer fields is within).
func searchKeep(m *model.Model, train *model.Dataset, keep int, base float64, opt Options) (*importance.PruneResult, *Search, core.Rule, error) {
	type cand struct {
		m    *model.Model
		pr   *importance.PruneResult
		s    *Search
		rule core.Rule
	}
	var best *cand
	var keeps []KeepProbe
	try := func(k int) (bool, error) {
		c := m.Clone()
		var pr *importance.PruneResult
		if k < len(m.Slots) {
			var err error
			if pr, err = prune(c, train, opt.Validation, k, 0, opt); err != nil {
				return false, err
			}
		}
		met, err := c.Evaluate(opt.Validation)
		if err != nil {
			return false, err
		}
		kp := KeepProbe{Keep: k, AUC: met.AUC, Drop: base - met.AUC}
		kp.Within = kp.Drop <= opt.MaxAUCDrop
		if opt.OnKeep != nil {
			opt.OnKeep(kp) // before its budget search, whose probes follow
		}
		if kp.Within {
			rule, s, err := search(c, train, opt.Validation, base, opt)
			if err != nil {
				return false, err
			}
			kp.Budget, kp.Bytes = s.Budget, s.Bytes
			if s.Met && (best == nil || s.Bytes < best.s.Bytes) {
				best = &cand{c, pr, s, rule}
			}
		}
		keeps = append(keeps, kp)
		return kp.Within, nil
	}
	// Every field is tried too: the fewest fields within the tolerance
	// may leave too little of it for quantization to beat them.
	lo, hi := keep, len(m.Slots)
	ok, err := try(lo)
	if err == nil && hi != lo {
		_, err = try(hi)
	}
	if err == nil && !ok {
		err = bisectKeep(lo, hi, try)
	}
	if err != nil {
		return nil, nil, core.Rule{}, err
	}
	if best == nil { // no budget within, even unpruned at fp32
		rule, s, err := search(m, train, opt.Validation, base, opt)
		if err != nil {
			return nil, nil, core.Rule{}, err
		}
		s.Keeps = keeps
		return nil, s, rule, nil
	}
	*m = *best.m
	best.s.Keeps = keeps
	return best.pr, best.s, best.rule, nil
}

// bisectKeep narrows (lo over, hi within) to neighbours, trying midpoints.
func bisectKeep(lo, hi int, try func(int) (bool, error)) error {
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := try(mid)
		if err != nil {
			return err
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	return nil
}
