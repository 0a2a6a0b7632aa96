package compress

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"

	"shark/core"
	"shark/formats"
	"shark/formats/sharkfile"
)

// Env is what a face supplies to a plan beside the user's settings.
type Env struct {
	// Counts, if set, holds <table>.pos and <table>.neg: per-row access
	// counts by positive and negative samples, [rows] or [periods, rows].
	Counts *formats.File
	// SpillRows: tables with more rows keep their per-row stats (60 bytes
	// a row) in a temporary file instead of memory. 0 never spills.
	SpillRows int
	// Progress, if set, is told stage names and counts of rows done.
	Progress func(stage string, done, total int64)
	// Warn, if set, receives warnings (e.g. the row-norm fallback).
	Warn func(string)
	// Context, if set, cancels measuring and writing.
	Context context.Context
	// A row shard of a larger table (a distributed quantize) takes its
	// priorities from rows [CountsOffset, CountsOffset+rows) of the counts
	// of CountsTable, a table of CountsRows rows; zero values: the table's
	// own counts.
	CountsTable  string
	CountsOffset int
	CountsRows   int
	// Helpers, if set, measure row ranges of the larger tables elsewhere
	// (the page's other Web Workers, each with the same file open), while
	// this one measures the first range: see Helper.
	Helpers []Helper
	// Encoders, if set, encode row ranges of the larger tables elsewhere
	// as they are written (the page's other Web Workers), while this one
	// encodes the first range: see Encoder.
	Encoders []Encoder
	// PartBuffer, if set, gives the buffer a table's range encoded here
	// waits in for the encoders' (the page keeps it in JavaScript's
	// memory, not its own); nil: memory.
	PartBuffer func() PartBuffer
}

// DefaultSpillRows is the SpillRows of a face with a disk.
const DefaultSpillRows = 1 << 20

func (e *Env) progress(stage string, done, total int64) {
	if e.Progress != nil {
		e.Progress(stage, done, total)
	}
}

func (e *Env) err() error {
	if e.Context == nil {
		return nil
	}
	return e.Context.Err()
}

// ErrNoTables: nothing in the input qualifies as an embedding table.
var ErrNoTables = errors.New("no embedding tables selected")

// TablePlan is one table's assignment and its predicted result.
type TablePlan struct {
	Name           string
	Source         *formats.Tensor
	Rows           core.RowSource // behind the file when it allows, else in memory
	Stats          core.StatStore // per-row priority and errors, spilled to disk for large tables
	Summary        core.TableStats
	PrioritySource string // "counts" or "row-norm"
	// OutName, if set, is the table's name in the written file (a row
	// shard's part is named for the table, not for its shard file).
	OutName string

	codes *tierCodes // every row's tier, resolved by the assignment
}

// Scan gives every row's tier in row order (a sharkfile.TierSource).
func (t *TablePlan) Scan(fn func(r int, tier core.Tier) error) error { return t.codes.Scan(fn) }

// Tiers returns every row's tier in memory.
func (t *TablePlan) Tiers() []core.Tier {
	out := make([]core.Tier, 0, t.codes.n)
	t.codes.Scan(func(_ int, tier core.Tier) error { out = append(out, tier); return nil })
	return out
}

// Plan is a complete assignment, ready to write. Close it to remove any
// spilled stats.
type Plan struct {
	In       *Input
	Settings Settings
	Tables   []*TablePlan
	Budget   int64 // bytes, when assigning by budget
	env      Env
	spills   []*fileStats
	// errorsMeasured: the rows' errors were measured with their priorities
	// (a budget needs them); otherwise the write measures each row's in its
	// tier.
	errorsMeasured bool
	// measured is what was measured of the rows besides the default
	// tiers' errors: the tiers after int4 that the settings allowed, and
	// the blocks.
	measured core.Measure
	assigned bool // every table has its tiers, for the settings
	minBytes map[[core.NumTiers]bool]int64
	// Warnings say where the plan's choices rest on little (row norms that
	// cannot rank rows).
	Warnings []string
	// Dense is the float64 tables kept dense, bit for bit, because they
	// hold values no float32 can hold (keepExact).
	Dense []DenseNote
	// TablesOnly writes the compressed tables alone, without the input's
	// other tensors (a row shard's part).
	TablesOnly bool
	// tierWarnings is how many of Warnings, the last ones, the latest
	// assignment made: a new assignment replaces them.
	tierWarnings int
}

// Close removes temporary files.
func (p *Plan) Close() error {
	var first error
	for _, f := range p.spills {
		if err := f.remove(); err != nil && first == nil {
			first = err
		}
	}
	p.spills = nil
	for _, t := range p.Tables {
		if t.codes != nil {
			if err := t.codes.close(); err != nil && first == nil {
				first = err
			}
			t.codes = nil
		}
	}
	return first
}

// Select returns the tensors a plan under s compresses.
func Select(f *formats.File, s Settings) ([]*formats.Tensor, error) {
	re, err := s.tables()
	if err != nil {
		return nil, err
	}
	var out []*formats.Tensor
	for _, t := range f.Tensors {
		if (t.Tiers != nil && t.Tiers[core.FP32] != t.Shape[0]) || (len(t.Shape) == 2 && t.Shape[0] == 0) {
			continue // already compressed, or no rows to compress
		}
		if t.SameAs != "" {
			continue // tied to an earlier tensor: planned, and budgeted, as that one
		}
		if re != nil {
			if !re.MatchString(t.Name) {
				continue
			}
			if len(t.Shape) != 2 || !t.DType.IsFloat() || t.Shape[1] < 1 {
				return nil, fmt.Errorf("%w: tables %q matches %q, which is %s %v, not a 2-D float table", core.ErrInvalid, s.Tables, t.Name, t.DType, t.Shape)
			}
		} else if !t.IsTable(s.MinRows) {
			continue
		}
		out = append(out, t)
	}
	if done := compressedTables(f); len(out) == 0 && done != "" {
		return nil, fmt.Errorf("%w: the model's tables are already compressed by shark (%s): quantize the model they were exported from", ErrNoTables, done)
	}
	if len(out) == 0 && re != nil {
		return nil, fmt.Errorf("%w: no 2-D float tensor with rows matches --tables %q", ErrNoTables, s.Tables)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no 2-D float tensor is read by a Gather node, named as an embedding module's weight, or has at least %d rows (shark inspect says why for each; lower --min-rows, or name tables with --tables)", ErrNoTables, s.MinRows)
	}
	return out, nil
}

// compressedTables names the tables of f stored below fp32 already (an
// ONNX model shark exported, its quantized lookups), quoted, or "".
func compressedTables(f *formats.File) string {
	names := ""
	for _, t := range f.Tensors {
		if t.Tiers != nil && t.Tiers[core.FP32] != t.Shape[0] {
			if names != "" {
				names += ", "
			}
			names += fmt.Sprintf("%q", t.Name)
		}
	}
	return names
}

// NewPlan measures every row of the selected tables in every tier (one pass
// over each, on all cores), derives priorities, and assigns tiers. Tables
// are read through the file and their per-row stats spilled to disk above
// env.SpillRows rows, so memory does not grow with the tables. Nothing is
// written.
func NewPlan(in *Input, s Settings, env Env) (*Plan, error) {
	p, err := Measure(in, s, env)
	if err != nil {
		return nil, err
	}
	if err := p.Reassign(s); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Measure is NewPlan's measurement alone: a face measures once, then
// assigns (Reassign) as the user changes the budget, and keeps the
// measurement when a budget cannot be met.
func Measure(in *Input, s Settings, env Env) (_ *Plan, err error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if rd, ok := in.Shark(); ok && compressed(rd) {
		return nil, fmt.Errorf("%w: %s is compressed already (export it first to compress it again)", core.ErrInvalid, in.Name)
	}
	sel, err := Select(in.File, s)
	if err != nil {
		return nil, err
	}
	p := &Plan{In: in, Settings: s, env: env, errorsMeasured: s.Rule(0).By == core.ByBudget, measured: s.measure()}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if sel, err = p.keepExact(sel); err != nil {
		return nil, err
	}
	var total, done int64
	for _, t := range sel {
		total += t.Shape[0]
	}
	for _, t := range sel {
		tp, err := p.measure(t, done, total)
		if err != nil {
			return nil, fmt.Errorf("table %q: %w", t.Name, err)
		}
		done += t.Shape[0]
		p.Tables = append(p.Tables, tp)
	}
	return p, nil
}

// compressed reports whether a .shark file holds a table with rows below
// fp32: a model that shark train wrote keeps its tables at fp32, and can
// be compressed like any other.
func compressed(rd *sharkfile.Reader) bool {
	for _, t := range rd.Tables() {
		c := t.Counts()
		if c[core.FP16]+c[core.INT8]+c[core.INT4] > 0 {
			return true
		}
	}
	return false
}

// measure reads a table once: its priorities and its rows' error in every
// tier, kept in memory or spilled to disk by its size.
func (p *Plan) measure(t *formats.Tensor, done, total int64) (*TablePlan, error) {
	rows, err := Rows(p.In.File, t)
	if err != nil {
		return nil, err
	}
	tp := &TablePlan{Name: t.Name, Source: t, Rows: rows, PrioritySource: "row-norm"}
	spill := p.env.SpillRows > 0 && rows.Rows() > p.env.SpillRows
	var prio core.PriorityFunc
	if p.env.Counts != nil {
		pst, cleanup, err := p.countsPriorities(t, spill)
		if err != nil {
			return nil, err
		}
		defer cleanup() // the table is measured by then
		prio, tp.PrioritySource = pst.read, "counts"
	} else if p.env.Warn != nil {
		p.env.Warn(fmt.Sprintf("table %q: no access counts given (--counts); using row L2 norms as priorities", t.Name))
	}
	store, err := p.statStore(spill, rows.Rows())
	if err != nil {
		return nil, err
	}
	lo, hi := math.Inf(1), math.Inf(-1) // the priorities' range
	emit := func(_ int, s core.RowStat) error {
		if err := p.env.err(); err != nil {
			return err
		}
		if v := float64(s.P); !math.IsInf(v, 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
		return store.add(s)
	}
	if err := p.measureRows(t.Name, rows, prio, emit, func(n int) { p.env.progress("measure", done+int64(n), total) }); err != nil {
		return nil, err
	}
	// The file's own checksum of the rows (a zip member's CRC-32), from the
	// pass just made: what was measured is what the file holds.
	if v, ok := rows.(interface{ Verify() error }); ok {
		if err := v.Verify(); err != nil {
			return nil, err
		}
	}
	if err := store.finish(); err != nil {
		return nil, err
	}
	tp.Stats = store
	if prio == nil && rows.Rows() > 1 && hi > 0 && hi-lo <= 1e-4*hi {
		p.warn(fmt.Sprintf("table %q: every row's L2 norm is %.3g, so norms cannot rank its rows and the tiers fall to them arbitrarily; give access counts to rank them", t.Name, hi))
	}
	return tp, nil
}

// warn keeps a warning with the plan and tells the face.
func (p *Plan) warn(w string) {
	p.Warnings = append(p.Warnings, w)
	if p.env.Warn != nil {
		p.env.Warn(w)
	}
}

// statStore is where a table's row stats are kept while it is measured.
type statStore interface {
	core.StatStore
	add(core.RowStat) error
	finish() error
}

// A table measured in the default tiers only keeps them narrow
// (core.NarrowStat), in memory or spilled.
func (p *Plan) statStore(spill bool, rows int) (statStore, error) {
	narrow := !p.measuresLater()
	switch {
	case !spill && narrow:
		return &narrowStats{make(core.NarrowStats, 0, rows)}, nil
	case !spill:
		return &memStats{make(core.MemStats, 0, rows)}, nil
	}
	fs, err := newFileStats(narrow)
	if err != nil {
		return nil, err
	}
	p.spills = append(p.spills, fs)
	return fs, nil
}

// countsPriorities streams a table's counts into priorities: in memory, or
// for a table large enough to spill its stats, in a temporary file that the
// returned cleanup removes.
func (p *Plan) countsPriorities(t *formats.Tensor, spill bool) (priorityStore, func(), error) {
	var pst priorityStore
	cleanup := func() {}
	if spill {
		pf, err := newPriorityFile()
		if err != nil {
			return nil, nil, err
		}
		pst, cleanup = pf, pf.remove
	} else {
		pst = make(memPriorities, t.Shape[0])
	}
	name, offset, total := t.Name, p.env.CountsOffset, p.env.CountsRows
	if p.env.CountsTable != "" {
		name = p.env.CountsTable
	}
	if total == 0 {
		total = int(t.Shape[0])
	}
	if err := countsPrioritiesOf(p.env.Counts, name, int(t.Shape[0]), offset, total, p.Settings.Priority(), pst); err != nil {
		cleanup()
		return nil, nil, err
	}
	return pst, cleanup, nil
}

// SetProgress sets the context that cancels the plan's later work and the
// callback told its progress (for a write after the plan was made).
func (p *Plan) SetProgress(ctx context.Context, progress func(stage string, done, total int64)) {
	p.env.Context, p.env.Progress = ctx, progress
}

// FP32Bytes is the selected tables' size at fp32.
func (p *Plan) FP32Bytes() int64 {
	var b int64
	for _, t := range p.Tables {
		b += int64(t.Rows.Rows()) * int64(t.Rows.Dim()) * 4
	}
	return b
}

// rule is the plan's settings' rule for its tables.
func (p *Plan) rule() core.Rule { return p.Settings.Rule(p.FP32Bytes()) }

// assign chooses every row's tier by the settings, and summarises.
func (p *Plan) assign() error {
	rule := p.rule()
	var in []core.StatTable
	for _, t := range p.Tables {
		in = append(in, core.StatTable{Dim: t.Rows.Dim(), Stats: t.Stats})
	}
	p.assigned = false
	fns, err := core.Assign(in, rule, p.storage())
	if err != nil {
		return p.namedUnheld(err)
	}
	p.Budget = 0
	if rule.By == core.ByBudget {
		p.Budget = rule.Budget
	}
	return p.resolve(fns)
}

// AssignAt gives every row its tier under a budget's decision at lambda,
// found elsewhere (a core.Budget of a table's row shards, of which this
// plan's table is one).
func (p *Plan) AssignAt(lambda float64) error {
	rule := p.rule()
	fns := make([]core.TierFunc, len(p.Tables))
	var in []core.StatTable
	for i, t := range p.Tables {
		fns[i] = core.TierAt(lambda, rule.Allowed, t.Rows.Dim())
		in = append(in, core.StatTable{Dim: t.Rows.Dim(), Stats: t.Stats})
	}
	// As core.Assign does: leaving fp32 out needs every row held elsewhere.
	if err := core.CheckHeld(in, rule.Allowed); err != nil {
		return p.namedUnheld(err)
	}
	p.assigned = false
	return p.resolve(fns)
}

// Summarize makes a pass of a core.Budget over the plan's stats.
func (p *Plan) Summarize(pass core.Pass) (*core.Summary, error) {
	var in []core.StatTable
	for _, t := range p.Tables {
		in = append(in, core.StatTable{Dim: t.Rows.Dim(), Stats: t.Stats})
	}
	return core.Summarize(pass, p.rule().Allowed, in)
}

// resolve gives every row of each table its tier by fns[i], into the
// tables' tier codes and summaries.
func (p *Plan) resolve(fns []core.TierFunc) error {
	for i, t := range p.Tables {
		codes, err := newTierCodes(t.Stats.Len())
		if err != nil {
			return err
		}
		if t.codes != nil {
			t.codes.close()
		}
		t.codes = codes
		if t.Summary, err = core.Resolve(t.Rows.Dim(), t.Stats, fns[i], p.storage(), codes.put); err != nil {
			return err
		}
	}
	p.assigned = true
	p.warnTiers()
	return nil
}

// warnTiers replaces the last assignment's warnings with this one's: rows
// kept out of tiers that cannot hold them, and rows stored where every
// value rounds to zero.
func (p *Plan) warnTiers() {
	p.Warnings = p.Warnings[:len(p.Warnings)-p.tierWarnings]
	n := len(p.Warnings)
	for _, t := range p.Tables {
		if u := t.Summary.Unfit; u > 0 {
			p.warn(fmt.Sprintf("table %q: %d %s a NaN, an infinity or values past binary16's ±65504, which some lossy tiers cannot hold; kept out of those tiers, at fp32 where none holds them",
				t.Name, u, plural(u, "row holds", "rows hold")))
		}
		if z := t.Summary.Zeroed; z > 0 {
			p.warn(fmt.Sprintf("table %q: %d %s stored in a tier in which every value rounds to zero (values too small for it, such as an optimizer's squared-gradient averages); leave the table out (--tables) or keep it at fp32 if its values matter",
				t.Name, z, plural(z, "row is", "rows are")))
		}
	}
	p.tierWarnings = len(p.Warnings) - n
}

// plural is one or many by n.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Assigned reports whether the plan's tables have their tiers (a face's
// plan whose budget could not be met has none until one can).
func (p *Plan) Assigned() bool { return p.assigned }

// errUnassigned: a plan without tiers cannot be written or summarised.
var errUnassigned = fmt.Errorf("%w: no tiers are assigned (the budget could not be met)", core.ErrInvalid)

// Reassign chooses tiers again under s, keeping the measurement: what a
// budget control calls on every change, without reading the tables again.
// Settings that change what was measured (the tables, or the priority
// weights when counts drive the priorities) need a new plan.
func (p *Plan) Reassign(s Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.Tables != p.Settings.Tables || s.MinRows != p.Settings.MinRows ||
		(p.env.Counts != nil && s.Priority() != p.Settings.Priority()) {
		return fmt.Errorf("%w: the tables or priority weights changed: make a new plan", core.ErrInvalid)
	}
	if !p.errorsMeasured && s.Rule(0).By == core.ByBudget {
		return fmt.Errorf("%w: a budget needs the rows' errors, which a plan by %s did not measure: make a new plan", core.ErrInvalid, p.rule().By)
	}
	if err := p.measuredFor(s); err != nil {
		return err
	}
	keep, was := p.Settings, p.assigned
	p.Settings = s
	if err := p.assign(); err != nil {
		err = p.budgetError(err) // under the settings refused
		p.Settings = keep
		if was {
			p.assign() // the settings before, which were met
		}
		return err
	}
	return nil
}

// measuredFor refuses settings that allow a tier after int4 that was not
// measured, or block tiers in other blocks: the rows would need measuring
// again.
func (p *Plan) measuredFor(s Settings) error {
	want := s.measure()
	for t := core.Tier(core.DefaultTiers); t < core.NumTiers; t++ {
		if want.Tiers[t] && (!p.measured.Tiers[t] || (t.Block() && want.Block != p.measured.Block)) {
			return fmt.Errorf("%w: %s was not measured (in blocks of %d rows) by this plan: make a new plan", core.ErrInvalid, t, max(want.Block, 1))
		}
	}
	return nil
}

// Covers reports whether the plan measured what s allows (every tier after
// int4, in s's blocks): a face that lets the user choose the tiers keeps
// the plan for s, or measures again, since Reassign refuses s otherwise.
func (p *Plan) Covers(s Settings) bool { return p.measuredFor(s) == nil }

// storage is the .shark layout the plan's sizes are counted in, with the
// settings' blocks.
func (p *Plan) storage() core.Storage {
	st := sharkfile.Storage
	st.Block = p.Settings.Block
	return st
}

// measuresLater reports whether the plan measures a tier after int4.
func (p *Plan) measuresLater() bool {
	for t := core.Tier(core.DefaultTiers); t < core.NumTiers; t++ {
		if p.measured.Tiers[t] {
			return true
		}
	}
	return false
}

// blockTiers reports whether the settings allow a block tier.
func (p *Plan) blockTiers() bool {
	for t := core.INT8B; t < core.NumTiers; t++ {
		if p.measured.Tiers[t] {
			return true
		}
	}
	return false
}

// Fit is a plan's answer to a budget control: whether the budget asked
// can be met, and the smallest that can.
type Fit struct {
	// Refused is the budget asked when the tables cannot meet it (the plan
	// keeps the settings before); nil when it is met.
	Refused *BudgetError
	// Min is the smallest budget the tables can take under the settings
	// asked, in bytes and as a share of their fp32 bytes, when MinKnown.
	Min      int64
	MinShare float64
	MinKnown bool
}

// Fit chooses tiers again under s, as a budget control does on every
// change (Reassign), for every face alike: a budget the tables cannot
// meet is no error but Fit.Refused, and Fit says the smallest that can.
func (p *Plan) Fit(s Settings) (Fit, error) {
	var f Fit
	if err := p.Reassign(s); err != nil && !errors.As(err, &f.Refused) {
		return f, err
	}
	if f.Refused != nil {
		f.Min, f.MinKnown = f.Refused.Min, true // the plan keeps the settings before
	} else if b, err := p.MinBytes(); err == nil {
		f.Min, f.MinKnown = b, true
	}
	f.MinShare = float64(f.Min) / float64(max(1, p.FP32Bytes()))
	return f, nil
}

// BudgetError is a budget below the smallest the tables can take.
type BudgetError struct {
	Budget, Min, FP32 int64 // bytes
}

func (e *BudgetError) Error() string {
	pct := func(b int64) float64 { return 100 * float64(b) / float64(max(1, e.FP32)) }
	return fmt.Sprintf("a budget of %.1f%% (%s) is below the smallest these tables can take: %.1f%% (%s), every row in its smallest allowed tier",
		pct(e.Budget), Size(e.Budget), pct(e.Min), Size(e.Min))
}

func (e *BudgetError) Unwrap() error { return core.ErrBudget }

// budgetError makes the solver's "cannot be met" say what can be.
func (p *Plan) budgetError(err error) error {
	if !errors.Is(err, core.ErrBudget) {
		return err
	}
	minimum, merr := p.MinBytes()
	if merr != nil {
		return err
	}
	return &BudgetError{Budget: p.rule().Budget, Min: minimum, FP32: p.FP32Bytes()}
}

// MinBytes is the smallest the plan's tables can be stored in under its
// settings' tiers (int4 or not): the least budget that can be met.
func (p *Plan) MinBytes() (int64, error) {
	rule := p.rule()
	key := rule.Allowed
	if b, ok := p.minBytes[key]; ok {
		return b, nil
	}
	var in []core.StatTable
	for _, t := range p.Tables {
		in = append(in, core.StatTable{Dim: t.Rows.Dim(), Stats: t.Stats})
	}
	b, err := core.MinBytes(in, rule.Allowed, p.storage())
	if err == nil {
		if p.minBytes == nil {
			p.minBytes = map[[core.NumTiers]bool]int64{}
		}
		p.minBytes[key] = b
	}
	return b, err
}

// Result is the machine-readable summary of a plan.
type Result struct {
	InputBytes  int64 `json:"input_bytes"`
	OutputBytes int64 `json:"output_bytes"`
	BudgetBytes int64 `json:"budget_bytes,omitempty"`
	FP32Bytes   int64 `json:"fp32_bytes"`
	// AllowedTiers names the tiers the settings let rows take.
	AllowedTiers []string `json:"allowed_tiers"`
	// SourceBytes is the tables' size in their own dtypes (half FP32Bytes
	// for float16 and bfloat16 tables): a budget share stays one of
	// FP32Bytes, for every face and every source alike.
	SourceBytes int64 `json:"source_bytes"`
	// Block is the rows per block of the block tiers when the settings
	// allow one (core.DefaultBlock unless set): what the file's header
	// stores as each such table's block.
	Block  int           `json:"block,omitempty"`
	Tables []TableResult `json:"tables"`
	// KeptDense is the float64 tables left uncompressed, bit for bit,
	// because they hold values no float32 can hold.
	KeptDense []DenseNote `json:"kept_dense,omitempty"`
}

// TableResult is one table's line of Result.
type TableResult struct {
	Name        string           `json:"name"`
	Rows        int              `json:"rows"`
	Dim         int              `json:"dim"`
	BytesBefore int64            `json:"bytes_before"`
	BytesAfter  int64            `json:"bytes_after"`
	Tiers       map[string]int64 `json:"tiers"`
	RMSE        Number           `json:"rmse"`
	MaxAbsErr   Number           `json:"max_abs_err"`
	Priority    string           `json:"priority"`
	// UnfitRows is the rows that some lossy tier cannot hold (a NaN or an
	// infinity, or values, an int8/int4 scale or bias past binary16's
	// +-65504): kept out of those tiers, at fp32 where no tier holds them,
	// whatever fractions or thresholds asked.
	UnfitRows int64 `json:"unfit_rows"`
	// ZeroedRows is the rows stored in a tier in which every value rounds
	// to zero.
	ZeroedRows int64 `json:"zeroed_rows"`
}

// Result summarises the plan; OutputBytes is set once it is written.
func (p *Plan) Result() Result {
	r := Result{InputBytes: p.In.File.InputBytes(), BudgetBytes: p.Budget, FP32Bytes: p.FP32Bytes(), KeptDense: p.Dense,
		AllowedTiers: core.AllowedNames(p.rule().Allowed)}
	if anyBlock(p.rule().Allowed) {
		r.Block = cmp.Or(p.Settings.Block, core.DefaultBlock)
	}
	for _, t := range p.Tables {
		r.SourceBytes += int64(t.Rows.Rows()) * int64(t.Rows.Dim()) * int64(t.Source.DType.Size())
		s := t.Summary
		r.Tables = append(r.Tables, TableResult{
			Name: t.Name, Rows: s.Rows, Dim: s.Dim, BytesBefore: s.BytesBefore, BytesAfter: s.BytesAfter,
			Tiers: TierMap(s.Tiers), RMSE: Number(s.RMSE), MaxAbsErr: Number(s.MaxAbsErr), Priority: t.PrioritySource,
			UnfitRows: s.Unfit, ZeroedRows: s.Zeroed,
		})
	}
	return r
}

// namedUnheld names the table of a core.UnheldError, which core knows by
// its index alone; other errors pass as they are.
func (p *Plan) namedUnheld(err error) error {
	if ue := (*core.UnheldError)(nil); errors.As(err, &ue) && ue.Table < len(p.Tables) {
		return fmt.Errorf("table %q: %w", p.Tables[ue.Table].Name, err)
	}
	return err
}
