// Package pipeline is SHARK end to end on the reference model: F-Permutation
// prunes the weak tables, F-Quantization stores the rest at mixed precision
// within a budget, and the model is scored before and after with
// dequantize-on-lookup. The experiments of the paper and their baselines are
// built from the same steps.
package pipeline

import (
	"errors"
	"fmt"
	"math"
	"time"

	"shark/core"
	"shark/ctr/importance"
	"shark/ctr/model"
	"shark/formats/sharkfile"
)

// Options of Compress.
type Options struct {
	KeepFraction   float64 // share of the fields to keep (by count); 1 = no pruning
	Keep           int     // if > 0, the number of fields to keep (overrides KeepFraction)
	Rounds         int     // pruning rounds
	FinetuneEpochs int     // fine-tuning epochs after each round
	Tolerance      float64 // AUC tolerance for rolling a round back (0: never)
	Scorer         string  // taylor, exact, random
	Repeats        int     // exact: shuffles per field

	Quantize bool // false: prune only, tables stay fp32
	// Rule is how the kept tables' rows get their tiers, given the kept
	// tables' fp32 bytes: compress.Settings.Rule, the one mapping of a
	// user's settings (a budget's share, the tiers allowed) to a rule.
	// Needed when Quantize (it also names the method a file records).
	Rule func(fp32 int64) core.Rule
	// Block is the rows per block of the block tiers (0:
	// core.DefaultBlock), when Rule allows them.
	Block    int
	Uniform  int // >= 0: every row in this tier (a baseline); -1: the solver
	Priority core.PriorityParams
	// PriorityEpochs replays the training stream this many times to
	// accumulate priorities, the time unit being one epoch.
	PriorityEpochs int

	// Validation is the rows pruning makes its choices on (scores,
	// rollbacks); nil: the scored rows. A test file's score is independent
	// of those choices only when they come from other rows.
	Validation *model.Dataset

	// MaxAUCDrop > 0 chooses the budget: the smallest whose AUC on
	// Validation (which must be given, apart from the scored rows) stays
	// within it of the unpruned model's, found by bisection to within
	// Resolution (0: DefaultResolution) of the kept tables' fp32 bytes;
	// Rule then gives only the tiers allowed. Pruning rolls back a round
	// past it too. OnProbe is told each budget tried.
	MaxAUCDrop float64
	Resolution float64
	OnProbe    func(Probe)
	OnKeep     func(KeepProbe) // told each keep count tried, when pruning

	Seed     uint64
	Progress func(stage string, done, total int64)
}

// DefaultOptions: keep half the fields in one round with one epoch of
// fine-tuning, then quantize what is kept by rule.
func DefaultOptions(rule func(fp32 int64) core.Rule) Options {
	return Options{KeepFraction: 0.5, Rounds: 1, FinetuneEpochs: 1, Scorer: "taylor", Repeats: 3,
		Quantize: true, Rule: rule, Uniform: -1, Priority: core.DefaultPriorityParams(), PriorityEpochs: 1, Seed: 1}
}

// ErrNoRule: quantizing by the solver needs a rule.
var ErrNoRule = errors.New("pipeline: quantizing needs a rule (Options.Rule)")

// Result of Compress.
type Result struct {
	AUCBefore           float64                 `json:"auc_before"`
	AUCAfter            float64                 `json:"auc_after"`
	LogLossBefore       float64                 `json:"logloss_before"`
	LogLossAfter        float64                 `json:"logloss_after"`
	AUCAfterPrune       float64                 `json:"auc_after_prune"`
	EmbeddingBytesFP32  int64                   `json:"embedding_bytes_before"`
	EmbeddingBytesAfter int64                   `json:"embedding_bytes_after"`
	KeptFields          []string                `json:"kept_fields"`
	DroppedFields       []string                `json:"dropped_fields"`
	Tiers               []FieldTiers            `json:"tiers"`                   // the kept fields' rows per tier, when quantized
	AllowedTiers        []string                `json:"allowed_tiers,omitempty"` // the tiers the rule let rows take, when quantized by it
	Block               int                     `json:"block,omitempty"`         // rows per block of the block tiers, when the rule allowed them
	Prune               *importance.PruneResult `json:"prune,omitempty"`
	Search              *Search                 `json:"budget_search,omitempty"` // with Options.MaxAUCDrop
	// HeldOutWithin says, with Options.MaxAUCDrop, whether the scored
	// rows' drop (AUCBefore less AUCAfter) is within it too: the search
	// chose on the validation rows, which need not foresee the scored ones.
	HeldOutWithin *bool                         `json:"held_out_within,omitempty"`
	Seconds       map[string]float64            `json:"seconds"`
	Scores        map[string]map[string]float64 `json:"-"`
	Method        *sharkfile.Method             `json:"-"` // how the tables were quantized, for the model file
}

// Priorities accumulates F-Quantization priorities of every active table
// over epochs replays of the training stream (time = epoch index).
func Priorities(m *model.Model, train *model.Dataset, p core.PriorityParams, epochs int) (map[int][]float64, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	epochs = max(1, epochs)
	acc := map[int]*core.Priorities{}
	for _, f := range m.Slots {
		acc[f] = core.NewPriorities(m.Emb[f].Rows(), p)
	}
	for e := 0; e < epochs; e++ {
		for s := 0; s < train.Rows(); s++ {
			ids := train.Sample(s)
			pos := train.Labels[s] > 0.5
			for _, f := range m.Slots {
				acc[f].Observe(int(ids[f]), pos, float64(e))
			}
		}
	}
	out := map[int][]float64{}
	for f, a := range acc {
		out[f] = a.At(float64(epochs - 1))
	}
	return out, nil
}

// Quantize chooses tiers for every active table of m and swaps each table
// for its in-memory compressed form (dequantize-on-lookup). Its tiers come
// by the path every face's quantize takes: every row measured with its
// priority (core.MeasureStats), then one assignment across the tables
// (core.Assign) within the .shark file's bytes. It returns the stored bytes.
func Quantize(m *model.Model, train *model.Dataset, opt Options) (int64, error) {
	tiers, err := assignTiers(m, train, opt)
	if err != nil {
		return 0, err
	}
	return encode(m, tiers, opt.storage())
}

// storage is the .shark file's layout, with the options' blocks.
func (o Options) storage() core.Storage {
	st := sharkfile.Storage
	st.Block = o.Block
	return st
}

// encode swaps each active table of m for its rows in tiers (in slot
// order), returning their stored bytes as st lays them out.
func encode(m *model.Model, tiers [][]core.Tier, st core.Storage) (int64, error) {
	var bytes int64
	for i, f := range m.Slots {
		mx, err := core.EncodeBlocks(m.Emb[f], tiers[i], st.BlockRows())
		if err != nil {
			return 0, err
		}
		mx.Name = m.Fields[f]
		m.Emb[f] = mx
		bytes += st.Bytes(mx.D, mx.TierCounts())
	}
	return bytes, nil
}

// assignTiers is every active table's tiers, in slot order.
func assignTiers(m *model.Model, train *model.Dataset, opt Options) ([][]core.Tier, error) {
	out := make([][]core.Tier, len(m.Slots))
	if opt.Uniform >= 0 {
		for i, f := range m.Slots {
			out[i] = make([]core.Tier, m.Emb[f].Rows())
			for r := range out[i] {
				out[i][r] = core.Tier(opt.Uniform)
			}
		}
		return out, nil
	}
	if opt.Rule == nil {
		return nil, ErrNoRule
	}
	tables, fp32, err := measure(m, train, opt)
	if err != nil {
		return nil, err
	}
	return tiersBy(tables, opt.Rule(fp32), opt.storage())
}

// measure is every active table's row stats (priorities over train, each
// row's error in each tier), in slot order, and the tables' fp32 bytes:
// what any budget's tiers follow from, measured once.
func measure(m *model.Model, train *model.Dataset, opt Options) ([]core.StatTable, int64, error) {
	prio, err := Priorities(m, train, opt.Priority, opt.PriorityEpochs)
	if err != nil {
		return nil, 0, err
	}
	return measureWith(m, prio, opt)
}

// measureWith is measure with the priorities given (by slot), so that a
// search over block sizes accumulates them once.
func measureWith(m *model.Model, prio map[int][]float64, opt Options) ([]core.StatTable, int64, error) {
	var tables []core.StatTable
	var fp32 int64
	var what core.Measure // the tiers the rule allows, measured
	if opt.Rule != nil {
		what = core.MeasureFor(opt.Rule(0).Allowed, opt.Block)
	}
	for _, f := range m.Slots {
		st := make(core.MemStats, 0, m.Emb[f].Rows())
		p := prio[f]
		read := func(lo, hi int, dst []float64) error { copy(dst, p[lo:hi]); return nil }
		emit := func(_ int, s core.RowStat) error { st = append(st, s); return nil }
		if err := core.MeasureStatsWith(m.Emb[f], read, what, emit, nil); err != nil {
			return nil, 0, err
		}
		tables = append(tables, core.StatTable{Dim: m.Cfg.Dim, Stats: st})
		fp32 += int64(m.Emb[f].Rows()) * int64(m.Cfg.Dim) * 4
	}
	return tables, fp32, nil
}

// tiersBy is every row's tier under rule, from measured stats.
func tiersBy(tables []core.StatTable, rule core.Rule, st core.Storage) ([][]core.Tier, error) {
	out := make([][]core.Tier, len(tables))
	fns, err := core.Assign(tables, rule, st)
	if err != nil {
		return nil, err
	}
	for i, tb := range tables {
		st := tb.Stats.(core.MemStats)
		out[i] = make([]core.Tier, len(st))
		for r := range st {
			out[i][r] = fns[i](r, &st[r])
		}
	}
	return out, nil
}

// Method is what a model file records of how Compress quantized it.
func (o Options) Method(fp32 int64) sharkfile.Method {
	return sharkfile.NewMethod(o.Priority, o.Rule(fp32), "training stream")
}

// Compress runs the pipeline on m (modified in place: clone it to keep the
// original). valid scores the model (and, unless opt.Validation is set,
// guides pruning); train fine-tunes it and feeds priorities.
func Compress(m *model.Model, train, valid *model.Dataset, opt Options) (*Result, error) {
	if opt.Quantize && opt.Rule == nil {
		return nil, ErrNoRule
	}
	res := &Result{Seconds: map[string]float64{}}
	before, err := m.Evaluate(valid)
	if err != nil {
		return nil, err
	}
	var base float64 // the unpruned model's validation AUC, for the budget search
	if opt.MaxAUCDrop > 0 {
		if base, err = searchBase(m, valid, opt); err != nil {
			return nil, err
		}
	}
	res.AUCBefore, res.LogLossBefore = before.AUC, before.LogLoss
	for _, f := range m.Slots {
		res.EmbeddingBytesFP32 += int64(m.Emb[f].Rows()) * int64(m.Cfg.Dim) * 4
	}
	t0 := time.Now()
	var searched *core.Rule // the budget the keep count's search chose with it
	if opt.KeepFraction < 1 || opt.Keep > 0 {
		keep := max(1, int(math.Round(opt.KeepFraction*float64(len(m.Slots)))))
		if opt.Keep > 0 {
			keep = min(opt.Keep, len(m.Slots))
		}
		decide := valid
		if opt.Validation != nil {
			decide = opt.Validation
		}
		var pr *importance.PruneResult
		if opt.MaxAUCDrop > 0 {
			var rule core.Rule
			pr, res.Search, rule, err = searchKeep(m, train, keep, base, opt)
			searched = &rule
		} else {
			pr, err = prune(m, train, decide, keep, opt.Tolerance, opt)
		}
		if err != nil {
			return nil, err
		}
		res.Prune = pr
		if pr != nil {
			res.DroppedFields = pr.Dropped
		}
		if pr != nil && len(pr.Rounds) > 0 {
			res.Scores = map[string]map[string]float64{}
			for f, s := range pr.Rounds[0].Scores {
				res.Scores[m.Fields[f]] = map[string]float64{opt.Scorer: s}
			}
		}
	}
	res.Seconds["prune"] = time.Since(t0).Seconds()
	for _, f := range m.Slots {
		res.KeptFields = append(res.KeptFields, m.Fields[f])
	}
	pruned, err := m.Evaluate(valid)
	if err != nil {
		return nil, err
	}
	res.AUCAfterPrune = pruned.AUC
	t0 = time.Now()
	if opt.Quantize {
		fp32 := m.EmbeddingBytes()
		if opt.MaxAUCDrop > 0 && searched == nil {
			rule, s, err := search(m, train, opt.Validation, base, opt)
			if err != nil {
				return nil, err
			}
			res.Search, searched = s, &rule
		}
		if searched != nil {
			rule := *searched
			opt.Rule = func(int64) core.Rule { return rule }
			opt.Block = res.Search.Block // the block size chosen with it
		}
		bytes, err := Quantize(m, train, opt)
		if err != nil {
			return nil, err
		}
		res.EmbeddingBytesAfter = bytes
		for _, f := range m.Slots {
			c := m.Emb[f].(*core.Mixed).TierCounts()
			res.Tiers = append(res.Tiers, FieldTiers{Field: m.Fields[f], FP32: c[core.FP32], FP16: c[core.FP16], INT8: c[core.INT8], INT4: c[core.INT4],
				INT2: c[core.INT2], INT8B: c[core.INT8B], INT4B: c[core.INT4B], INT2B: c[core.INT2B]})
		}
		meth := opt.Method(fp32)
		res.Method = &meth
		if opt.Uniform < 0 {
			allowed := opt.Rule(fp32).Allowed
			res.AllowedTiers = core.AllowedNames(allowed)
			if anyBlock(allowed) {
				res.Block = opt.storage().BlockRows()
			}
		}
	} else {
		res.EmbeddingBytesAfter = m.EmbeddingBytes() // plain fp32 arrays, no index
	}
	res.Seconds["quantize"] = time.Since(t0).Seconds()
	after, err := m.Evaluate(valid)
	if err != nil {
		return nil, err
	}
	res.AUCAfter, res.LogLossAfter = after.AUC, after.LogLoss
	if opt.MaxAUCDrop > 0 {
		within := res.HeldOutDrop() <= opt.MaxAUCDrop
		res.HeldOutWithin = &within
	}
	return res, nil
}

// HeldOutDrop is the scored rows' AUC drop, before less after.
func (r *Result) HeldOutDrop() float64 { return r.AUCBefore - r.AUCAfter }

// prune drops m's fields down to keep, lowest score first, in opt's
// rounds, choosing on decide and rolling a round back past tolerance.
func prune(m *model.Model, train, decide *model.Dataset, keep int, tolerance float64, opt Options) (*importance.PruneResult, error) {
	return importance.Prune(m, train, decide, importance.PruneOptions{
		Keep: keep, Rounds: opt.Rounds, FinetuneEpochs: opt.FinetuneEpochs, Tolerance: tolerance,
		Scorer: opt.Scorer, Repeats: opt.Repeats, Seed: opt.Seed, Progress: opt.Progress})
}

// FieldTiers is a field's table's rows per tier.
type FieldTiers struct {
	Field string `json:"field"`
	FP32  int64  `json:"fp32"`
	FP16  int64  `json:"fp16"`
	INT8  int64  `json:"int8"`
	INT4  int64  `json:"int4"`
	// The tiers after int4, opt-in (--tiers), named only when rows take
	// them.
	INT2  int64 `json:"int2,omitempty"`
	INT8B int64 `json:"int8-block,omitempty"`
	INT4B int64 `json:"int4-block,omitempty"`
	INT2B int64 `json:"int2-block,omitempty"`
}

// Describe is a one-line summary.
func (r *Result) Describe() string {
	return fmt.Sprintf("AUC %.4f -> %.4f, embedding bytes %d -> %d (%.1f%% less), kept %d fields, dropped %d",
		r.AUCBefore, r.AUCAfter, r.EmbeddingBytesFP32, r.EmbeddingBytesAfter,
		100*(1-float64(r.EmbeddingBytesAfter)/float64(r.EmbeddingBytesFP32)), len(r.KeptFields), len(r.DroppedFields))
}
