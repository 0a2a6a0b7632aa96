// Package convert turns model files into .shark containers and back: it picks
// the embedding tables, derives row priorities, assigns tiers (core) and
// writes the container (sharkfile); Export writes .npz or safetensors.
// Every face (CLI, wasm, desktop) calls it, so they agree byte for byte.
package compress

import (
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"

	"shark/core"
	"shark/formats"
	"shark/formats/sharkfile"
)

// DefaultMinRows: a 2-D float tensor with fewer rows is taken for a dense
// weight, not an embedding table, unless --tables names it.
const DefaultMinRows = 1000

// Assignment selects how tiers are chosen.
type Assignment int

const (
	ByBudget Assignment = iota
	ByFractions
	ByThresholds
)

// Options of Quantize. The zero value is not valid; start from DefaultOptions.
type Options struct {
	Tables  *regexp.Regexp // nil: every 2-D float tensor with >= MinRows rows
	MinRows int64

	Counts   *formats.File // optional: <table>.pos / <table>.neg per-row counts
	Priority core.PriorityParams

	Assign         Assignment
	BudgetFraction float64 // of the tables' fp32 bytes, when BudgetBytes is 0
	BudgetBytes    int64
	Fractions      [core.NumTiers]float64
	Thresholds     [3]float64
	Allowed        [core.NumTiers]bool

	// SpillRows: tables with more rows keep their per-row stats (28 bytes
	// a row) in a temporary file instead of memory. 0 never spills.
	SpillRows int

	Provenance map[string]string
	// Progress, if set, is told stage names and counts of rows done.
	Progress func(stage string, done, total int64)
	// Warn, if set, receives warnings (e.g. the row-norm fallback).
	Warn func(string)
}

// DefaultOptions: tables by the default rule, priorities by the default
// parameters, a budget of 30% of the tables' fp32 bytes, every tier allowed.
func DefaultOptions() Options {
	return Options{
		MinRows:        DefaultMinRows,
		Priority:       core.DefaultPriorityParams(),
		Assign:         ByBudget,
		BudgetFraction: 0.30,
		Allowed:        [core.NumTiers]bool{true, true, true, true},
		SpillRows:      1 << 20,
	}
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

	tier func(r int, s *core.RowStat) core.Tier
}

// Scan gives every row's tier in row order (a sharkfile.TierSource).
func (t *TablePlan) Scan(fn func(r int, tier core.Tier) error) error {
	var err error
	serr := t.Stats.Scan(func(r int, s *core.RowStat) {
		if err == nil {
			err = fn(r, t.tier(r, s))
		}
	})
	if serr != nil {
		return serr
	}
	return err
}

// Tiers returns every row's tier in memory.
func (t *TablePlan) Tiers() []core.Tier {
	out := make([]core.Tier, t.Stats.Len())
	t.Stats.Scan(func(r int, s *core.RowStat) { out[r] = t.tier(r, s) })
	return out
}

// Plan is a complete assignment, ready to write. Close it to remove any
// spilled stats.
type Plan struct {
	In     *formats.File
	Opt    Options
	Tables []*TablePlan
	Budget int64 // bytes, when Assign is ByBudget
	spills []*fileStats
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
	return first
}

func (o *Options) progress(stage string, done, total int64) {
	if o.Progress != nil {
		o.Progress(stage, done, total)
	}
}

// Select returns the tensors Quantize would compress.
func Select(in *formats.File, opt Options) ([]*formats.Tensor, error) {
	var out []*formats.Tensor
	for _, t := range in.Tensors {
		if t.Tiers != nil {
			continue // already compressed
		}
		if opt.Tables != nil {
			if !opt.Tables.MatchString(t.Name) {
				continue
			}
			if len(t.Shape) != 2 || !t.DType.IsFloat() || t.Shape[1] < 1 {
				return nil, fmt.Errorf("%w: --tables matches %q, which is %s %v, not a 2-D float table", core.ErrInvalid, t.Name, t.DType, t.Shape)
			}
		} else if !t.IsTable(opt.MinRows) {
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no 2-D float tensor with at least %d rows (name tables with --tables)", ErrNoTables, opt.MinRows)
	}
	return out, nil
}

// NewPlan measures every row of the selected tables in every tier (one pass
// over each, on all cores), derives priorities, and assigns tiers. Tables
// are read through the file and their per-row stats spilled to disk above
// Options.SpillRows rows, so memory does not grow with the tables. Nothing
// is written to the output.
func NewPlan(in *formats.File, opt Options) (_ *Plan, err error) {
	if err := opt.Priority.Validate(); err != nil {
		return nil, err
	}
	sel, err := Select(in, opt)
	if err != nil {
		return nil, err
	}
	p := &Plan{In: in, Opt: opt}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	var total int64
	for _, t := range sel {
		total += t.Shape[0]
	}
	var done int64
	for _, t := range sel {
		tp := &TablePlan{Name: t.Name, Source: t}
		if rows, ok := formats.TensorRows(t); ok {
			tp.Rows = rows
		} else {
			vals, err := t.Float32s()
			if err != nil {
				return nil, err
			}
			tp.Rows = &core.Table{Name: t.Name, R: int(t.Shape[0]), D: int(t.Shape[1]), Data: vals}
		}
		var prio func(lo, hi int, dst []float64) error
		tp.PrioritySource = "row-norm"
		spill := opt.SpillRows > 0 && tp.Rows.Rows() > opt.SpillRows
		if opt.Counts != nil {
			// Counts are streamed into priorities: in memory, or for a table
			// large enough to spill its stats, in a temporary file.
			var pst priorityStore
			if spill {
				pf, err := newPriorityFile()
				if err != nil {
					return nil, err
				}
				defer pf.remove() // when NewPlan returns: the table is measured by then
				pst = pf
			} else {
				pst = make(memPriorities, tp.Rows.Rows())
			}
			if err := countsPriorities(t.Name, int(t.Shape[0]), opt, pst); err != nil {
				return nil, err
			}
			prio = pst.read
			tp.PrioritySource = "counts"
		} else if opt.Warn != nil {
			opt.Warn(fmt.Sprintf("table %q: no access counts given (--counts); using row L2 norms as priorities", t.Name))
		}
		var store interface {
			core.StatStore
			add(core.RowStat) error
		}
		if spill {
			fs, err := newFileStats()
			if err != nil {
				return nil, err
			}
			p.spills = append(p.spills, fs)
			store = fs
		} else {
			store = &memStats{make(core.MemStats, 0, tp.Rows.Rows())}
		}
		base := done
		err := core.MeasureStats(tp.Rows, prio, func(_ int, s core.RowStat) error { return store.add(s) },
			func(n int) { opt.progress("measure", base+int64(n), total) })
		if err != nil {
			return nil, fmt.Errorf("table %q: %w", t.Name, err)
		}
		if fs, ok := store.(*fileStats); ok {
			if err := fs.finish(); err != nil {
				return nil, err
			}
		}
		tp.Stats = store
		done += t.Shape[0]
		p.Tables = append(p.Tables, tp)
	}
	if err := p.assign(); err != nil {
		return nil, err
	}
	return p, nil
}

// countsTensor finds a table's <name><suffix> counts and checks their shape:
// [rows] or [periods, rows].
func countsTensor(name, suffix string, rows int, opt Options) (*formats.Tensor, int64, error) {
	t, err := opt.Counts.Tensor(name + suffix)
	if err != nil {
		return nil, 0, fmt.Errorf("counts file: %w (it needs %s.pos and %s.neg)", err, name, name)
	}
	var periods, n int64
	switch len(t.Shape) {
	case 1:
		periods, n = 1, t.Shape[0]
	case 2:
		periods, n = t.Shape[0], t.Shape[1]
	default:
		return nil, 0, fmt.Errorf("counts %q: shape %v, want [rows] or [periods, rows]", t.Name, t.Shape)
	}
	if n != int64(rows) {
		return nil, 0, fmt.Errorf("counts %q has %d rows, table %q has %d", t.Name, n, name, rows)
	}
	return t, periods, nil
}

// countsPriorities computes a table's priorities from its counts into pst:
// the .pos and .neg streams are read side by side, a stretch of rows at a
// time, and each period's share is added to the priorities (core.AddCounts:
// the sums of core.FromCounts, in the same order). Only a stretch of the
// counts is held at once.
func countsPriorities(name string, rows int, opt Options, pst priorityStore) error {
	if err := opt.Priority.Validate(); err != nil {
		return err
	}
	pt, K, err := countsTensor(name, ".pos", rows, opt)
	if err != nil {
		return err
	}
	nt, Kn, err := countsTensor(name, ".neg", rows, opt)
	if err != nil {
		return err
	}
	if K != Kn {
		return fmt.Errorf("counts for %q: %w: counts need the same number (>= 1) of positive and negative periods, got %d and %d", name, core.ErrInvalid, K, Kn)
	}
	pr, err := pt.Open()
	if err != nil {
		return err
	}
	defer pr.Close()
	nr, err := nt.Open()
	if err != nil {
		return err
	}
	defer nr.Close()
	const stretch = 1 << 16
	ps, ns := pt.DType.Size(), nt.DType.Size()
	pb, nb := make([]byte, stretch*ps), make([]byte, stretch*ns)
	acc := make([]float64, stretch)
	var pv, nv []float64
	for k := 0; k < int(K); k++ {
		for r0 := 0; r0 < rows; r0 += stretch {
			m := min(stretch, rows-r0)
			if _, err := io.ReadFull(pr, pb[:m*ps]); err != nil {
				return fmt.Errorf("counts %q: %w", pt.Name, err)
			}
			if _, err := io.ReadFull(nr, nb[:m*ns]); err != nil {
				return fmt.Errorf("counts %q: %w", nt.Name, err)
			}
			pv = formats.DecodeFloat64(pv[:0], pt.DType, pb[:m*ps])
			nv = formats.DecodeFloat64(nv[:0], nt.DType, nb[:m*ns])
			a := acc[:m]
			if k == 0 {
				clear(a)
			} else if err := pst.read(r0, r0+m, a); err != nil {
				return err
			}
			if err := core.AddCounts(a, pv, nv, r0, k, int(K), opt.Priority); err != nil {
				return fmt.Errorf("counts for %q: %w", name, err)
			}
			if err := pst.write(r0, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// FP32Bytes is the selected tables' size at fp32.
func (p *Plan) FP32Bytes() int64 {
	var b int64
	for _, t := range p.Tables {
		b += int64(t.Rows.Rows()) * int64(t.Rows.Dim()) * 4
	}
	return b
}

// lossless keeps rows that hold a NaN or an infinity at fp32 whatever the
// assignment says: no quantized tier can represent them.
func lossless(tier func(r int, s *core.RowStat) core.Tier) func(r int, s *core.RowStat) core.Tier {
	return func(r int, s *core.RowStat) core.Tier {
		if math.IsInf(float64(s.SSE[core.INT4-1]), 0) {
			return core.FP32
		}
		return tier(r, s)
	}
}

func (p *Plan) assign() error {
	o := &p.Opt
	switch o.Assign {
	case ByBudget:
		p.Budget = o.BudgetBytes
		if p.Budget == 0 {
			if !(o.BudgetFraction > 0) {
				return fmt.Errorf("%w: budget must be positive", core.ErrInvalid)
			}
			p.Budget = int64(o.BudgetFraction * float64(p.FP32Bytes()))
		}
		var in []core.StatTable
		for _, t := range p.Tables {
			in = append(in, core.StatTable{Dim: t.Rows.Dim(), Stats: t.Stats})
		}
		d, err := core.SolveStream(in, p.Budget, o.Allowed)
		if err != nil {
			return err
		}
		for _, t := range p.Tables {
			dim := t.Rows.Dim()
			t.tier = lossless(func(_ int, s *core.RowStat) core.Tier { return d.Tier(dim, s) })
		}
	case ByFractions:
		for _, t := range p.Tables {
			// The ranking needs every priority at once: 8 bytes a row.
			pr := make([]float64, t.Stats.Len())
			t.Stats.Scan(func(r int, s *core.RowStat) { pr[r] = float64(s.P) })
			tiers, err := core.AssignFractions(pr, o.Fractions)
			if err != nil {
				return err
			}
			t.tier = lossless(func(r int, _ *core.RowStat) core.Tier { return tiers[r] })
		}
	case ByThresholds:
		th := o.Thresholds
		if _, err := core.AssignThresholds(nil, th); err != nil {
			return err
		}
		for _, t := range p.Tables {
			t.tier = lossless(func(_ int, s *core.RowStat) core.Tier {
				tiers, _ := core.AssignThresholds([]float64{float64(s.P)}, th)
				return tiers[0]
			})
		}
	default:
		return fmt.Errorf("%w: unknown assignment %d", core.ErrInvalid, o.Assign)
	}
	for _, t := range p.Tables {
		var err error
		if t.Summary, err = core.StatsOf(t.Rows.Dim(), t.Stats, t.tier); err != nil {
			return err
		}
	}
	return nil
}

// Write streams the container: tensors in input order, tables compressed,
// everything else bit for bit.
func (p *Plan) Write(w io.Writer) error {
	sw, err := sharkfile.NewWriter(w)
	if err != nil {
		return err
	}
	m := sharkfile.Method{WPos: p.Opt.Priority.WPos, WNeg: p.Opt.Priority.WNeg, Gamma: p.Opt.Priority.Gamma}
	switch p.Opt.Assign {
	case ByBudget:
		m.Assignment, m.BudgetBytes = "budget", p.Budget
	case ByFractions:
		m.Assignment, m.Fractions = "fractions", p.Opt.Fractions[:]
	case ByThresholds:
		m.Assignment, m.Thresholds = "thresholds", p.Opt.Thresholds[:]
	}
	if len(p.Tables) > 0 {
		m.PrioritySource = p.Tables[0].PrioritySource
	}
	sw.SetMethod(m)
	sw.SetProvenance(p.Opt.Provenance)
	byName := map[string]*TablePlan{}
	var total, done int64
	for _, t := range p.Tables {
		byName[t.Name] = t
		total += int64(t.Rows.Rows())
	}
	for _, t := range p.In.Tensors {
		if tp, ok := byName[t.Name]; ok {
			s := tp.Summary
			info := sharkfile.TableInfo{SourceDType: t.DType, Stats: &sharkfile.Stats{
				RMSE: s.RMSE, MaxAbsErr: s.MaxAbsErr, WeightedErr: s.WeightedErr, BytesBefore: s.BytesBefore}}
			base := done
			if err := sw.WriteTableFrom(t.Name, tp.Rows, tp, info, func(n int) { p.Opt.progress("write", base+int64(n), total) }); err != nil {
				return err
			}
			done += int64(tp.Rows.Rows())
			continue
		}
		if t.Tiers != nil {
			return fmt.Errorf("%w: %q is already a compressed table; export it first", core.ErrInvalid, t.Name)
		}
		rc, err := t.Open()
		if err != nil {
			return err
		}
		err = sw.WriteDense(t.Name, t.DType, t.Shape, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return sw.Close()
}

// Result is the machine-readable summary of a quantize run.
type Result struct {
	InputBytes  int64         `json:"input_bytes"`
	OutputBytes int64         `json:"output_bytes"`
	BudgetBytes int64         `json:"budget_bytes,omitempty"`
	Tables      []TableResult `json:"tables"`
}

// TableResult is one table's line of Result.
type TableResult struct {
	Name        string           `json:"name"`
	Rows        int              `json:"rows"`
	Dim         int              `json:"dim"`
	BytesBefore int64            `json:"bytes_before"`
	BytesAfter  int64            `json:"bytes_after"`
	Tiers       map[string]int64 `json:"tiers"`
	RMSE        float64          `json:"rmse"`
	MaxAbsErr   float64          `json:"max_abs_err"`
	Priority    string           `json:"priority"`
}

// Result summarises the plan; OutputBytes is filled in by the caller.
func (p *Plan) Result() Result {
	r := Result{InputBytes: p.In.Size, BudgetBytes: p.Budget}
	for _, t := range p.Tables {
		s := t.Summary
		r.Tables = append(r.Tables, TableResult{
			Name: t.Name, Rows: s.Rows, Dim: s.Dim, BytesBefore: s.BytesBefore, BytesAfter: s.BytesAfter,
			Tiers: TierMap(s.Tiers), RMSE: s.RMSE, MaxAbsErr: s.MaxAbsErr, Priority: t.PrioritySource,
		})
	}
	return r
}

// TierMap names tier counts for JSON.
func TierMap(c [core.NumTiers]int64) map[string]int64 {
	m := map[string]int64{}
	for t := core.Tier(0); t < core.NumTiers; t++ {
		m[t.String()] = c[t]
	}
	return m
}

// Reassign chooses tiers again with opt's assignment and priority weights
// kept from the measurement: what a budget control calls on every change,
// without reading the tables again. Priority parameters that change the
// stats (w_pos, w_neg, gamma with counts) need a new plan.
func (p *Plan) Reassign(opt Options) error {
	if opt.Priority != p.Opt.Priority && p.Opt.Counts != nil {
		return fmt.Errorf("%w: priority weights changed: make a new plan", core.ErrInvalid)
	}
	keep := p.Opt
	p.Opt.Assign, p.Opt.BudgetFraction, p.Opt.BudgetBytes = opt.Assign, opt.BudgetFraction, opt.BudgetBytes
	p.Opt.Fractions, p.Opt.Thresholds, p.Opt.Allowed = opt.Fractions, opt.Thresholds, opt.Allowed
	p.Opt.Progress, p.Opt.Provenance = opt.Progress, opt.Provenance
	if err := p.assign(); err != nil {
		p.Opt = keep
		return err
	}
	return nil
}

// Histogram of values: counts per bin between Min and Max.
type Histogram struct {
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Counts []int64 `json:"counts"`
	Rows   int     `json:"rows"`    // rows in the table
	Sample int     `json:"sampled"` // rows the histogram was made of
}

// NormHistogram is the histogram of the row L2 norms of src, from at most
// maxRows rows spread evenly over the table.
func NormHistogram(src core.RowSource, maxRows, bins int) (*Histogram, error) {
	n, d := src.Rows(), src.Dim()
	if bins < 1 || bins > 1000 {
		return nil, fmt.Errorf("%w: bins must be 1..1000", core.ErrInvalid)
	}
	step := max(1, n/max(1, maxRows))
	row := make([]float32, d)
	var norms []float64
	for r := 0; r < n; r += step {
		if err := src.Row(r, row); err != nil {
			return nil, err
		}
		s := 0.0
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		norms = append(norms, math.Sqrt(s))
	}
	h := &Histogram{Counts: make([]int64, bins), Rows: n, Sample: len(norms)}
	if len(norms) == 0 {
		return h, nil
	}
	h.Min, h.Max = norms[0], norms[0]
	for _, v := range norms {
		h.Min, h.Max = math.Min(h.Min, v), math.Max(h.Max, v)
	}
	w := (h.Max - h.Min) / float64(bins)
	for _, v := range norms {
		b := bins - 1
		if w > 0 {
			b = min(bins-1, int((v-h.Min)/w))
		}
		h.Counts[b]++
	}
	return h, nil
}
