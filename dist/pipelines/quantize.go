package pipelines

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"shark/compress"
	"shark/core"
	"shark/formats"
	"shark/formats/sharkfile"
	"shark/internal/provenance"
)

// The quantize pipelines: a table stored as row shards, quantized under
// one budget. The driver holds a core.Budget; for each pass it asks for,
// every worker measures its shards' rows (their error in every tier and
// their priority) and summarises them for the pass; the summaries are
// added and taken by the Budget, which asks again or decides. Then every
// worker measures its shards once more, gives each row its tier under the
// decision, and writes its part; the driver writes the manifest. Passes
// over the data: two to decide (three or more in the rare cases the
// solver narrows again), one to write. What crosses the network: the
// passes' summaries (a histogram's non-empty bins and a few per-table
// counts, kilobytes a shard), the decision (one float), and each part's
// name and row count; never a row.

// QuantizeOptions configure Quantize.
type QuantizeOptions struct {
	Shards []string // the table's row shards, in row order
	Tensor string   // the tensor in each shard ("": the one Settings select)
	Table  string   // the table's name in the parts (default "table")
	// Settings are shark quantize's for the table joined: its tiers by a
	// budget, fixed fractions or thresholds, and the priority weights.
	// Each shard's table is the one they select in it (Settings.Tables,
	// Settings.MinRows), or Tensor.
	Settings    compress.Settings
	Counts      string // a counts .npz of the whole table, or ""
	CountsTable string // the table's name in Counts (default Table)
	Out         string // the folder for the parts and the manifest
	Work        string // a folder for the passes' summaries
}

// ShardSpec is a shard and where its rows start in the table.
type ShardSpec struct {
	Index  int
	Path   string
	Offset int
	Rows   int
}

// PartInfo is a written part.
type PartInfo struct {
	Index int
	File  string
	Rows  int64
}

func init() {
	beam.RegisterType(reflect.TypeOf((*ShardSpec)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*PartInfo)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Travelling)(nil)).Elem())
	register.DoFn3x1[context.Context, ShardSpec, func(Travelling), error](&summarizeFn{})
	register.Emitter1[Travelling]()
	register.Function2x1(addSummaries)
	register.DoFn2x1[context.Context, Travelling, error](&writeBytesFn{})
	register.DoFn3x1[context.Context, ShardSpec, func(PartInfo), error](&writePartFn{})
	register.Emitter1[PartInfo]()
	register.DoFn3x1[context.Context, int, func(*PartInfo) bool, error](&collectPartsFn{})
	register.Iter1[PartInfo]()
}

// ShardJob is what every worker needs to measure a shard as the others.
type ShardJob struct {
	Settings                compress.Settings // selecting the shard's one table
	CountsPath, CountsTable string
	TotalRows               int
}

// measure opens a shard and measures its table's rows, as shark quantize
// measures a whole table.
func (j ShardJob) measure(spec ShardSpec) (*compress.Plan, *compress.Input, func(), error) {
	in, err := compress.Open(spec.Path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("shard %s: %w", spec.Path, err)
	}
	closers := []func(){func() { in.Close() }}
	done := func() {
		for _, c := range closers {
			c()
		}
	}
	s := j.Settings
	env := compress.Env{CountsTable: j.CountsTable, CountsOffset: spec.Offset, CountsRows: j.TotalRows}
	if j.CountsPath != "" {
		c, err := compress.Open(j.CountsPath)
		if err != nil {
			done()
			return nil, nil, nil, err
		}
		closers = append(closers, func() { c.Close() })
		env.Counts = c.File
	}
	p, err := compress.Measure(in, s, env)
	if err != nil {
		done()
		return nil, nil, nil, fmt.Errorf("shard %s: %w", spec.Path, err)
	}
	if len(p.Tables) != 1 {
		p.Close()
		done()
		return nil, nil, nil, fmt.Errorf("shard %s: %d tables (name one with --tensor or --tables)", spec.Path, len(p.Tables))
	}
	return p, in, done, nil
}

// summarizeFn summarises a shard's stats for a pass.
type summarizeFn struct {
	Job  ShardJob
	Pass core.Pass
}

// Travelling is a summary as it crosses between workers: JSON, and the
// bytes every shard's summary took (added up as they are).
type Travelling struct {
	JSON  []byte
	Bytes int64
}

func (f *summarizeFn) ProcessElement(ctx context.Context, spec ShardSpec, emit func(Travelling)) error {
	p, _, done, err := f.Job.measure(spec)
	if err != nil {
		return err
	}
	defer done()
	defer p.Close()
	sum, err := p.Summarize(f.Pass)
	if err != nil {
		return fmt.Errorf("shard %s: %w", spec.Path, err)
	}
	b, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	emit(Travelling{JSON: b, Bytes: int64(len(b))})
	return nil
}

// addSummaries adds two shards' summaries.
func addSummaries(a, b Travelling) Travelling {
	var x, y core.Summary
	if json.Unmarshal(a.JSON, &x) != nil || json.Unmarshal(b.JSON, &y) != nil {
		panic("a summary that does not decode") // both made by summarizeFn
	}
	x.Add(&y)
	out, _ := json.Marshal(&x)
	return Travelling{JSON: out, Bytes: a.Bytes + b.Bytes}
}

// writeBytesFn writes a pass's sum for the driver.
type writeBytesFn struct{ Out string }

func (f *writeBytesFn) ProcessElement(ctx context.Context, t Travelling) error {
	return writeFile(ctx, f.Out, func(w io.Writer) error { return json.NewEncoder(w).Encode(t) })
}

// writePartFn writes a shard's part under the decision: a budget's
// multiplier, the thresholds, or the fractions of its own rows that the
// table's fractions cut (Fractions[spec.Index], see fractions.go).
type writePartFn struct {
	Job       ShardJob
	Lambda    float64
	Fractions [][]float64
	Table     string
	Out       string
}

func (f *writePartFn) ProcessElement(ctx context.Context, spec ShardSpec, emit func(PartInfo)) error {
	p, _, done, err := f.Job.measure(spec)
	if err != nil {
		return err
	}
	defer done()
	defer p.Close()
	if err := f.assign(p, spec); err != nil {
		return fmt.Errorf("shard %s: %w", spec.Path, err)
	}
	p.Tables[0].OutName, p.TablesOnly = f.Table, true
	name := fmt.Sprintf("part-%05d.shark", spec.Index)
	if err := writeFile(ctx, path.Join(f.Out, name), p.Write); err != nil {
		return fmt.Errorf("shard %s: %w", spec.Path, err)
	}
	emit(PartInfo{Index: spec.Index, File: name, Rows: int64(spec.Rows)})
	return nil
}

// assign gives the shard's rows their tiers.
func (f *writePartFn) assign(p *compress.Plan, spec ShardSpec) error {
	s := f.Job.Settings
	switch s.Rule(0).By {
	case core.ByBudget:
		return p.AssignAt(f.Lambda)
	case core.ByFractions:
		copy(s.Fractions[:], f.Fractions[spec.Index])
	}
	return p.Reassign(s)
}

// collectPartsFn writes the written parts' list for the driver.
type collectPartsFn struct{ Out string }

func (f *collectPartsFn) ProcessElement(ctx context.Context, _ int, parts func(*PartInfo) bool) error {
	var all []PartInfo
	var p PartInfo
	for parts(&p) {
		all = append(all, p)
	}
	return writeFile(ctx, f.Out, func(w io.Writer) error { return json.NewEncoder(w).Encode(all) })
}

// ManifestFile is where Quantize writes the manifest: DIR/TABLE.manifest.
func ManifestFile(dir, table string) string { return path.Join(dir, table+".manifest") }

// QuantizeResult is what a distributed quantize did.
type QuantizeResult struct {
	Manifest    string  `json:"manifest"`
	Rows        int64   `json:"rows"`
	Dim         int     `json:"dim"`
	Parts       int     `json:"parts"`
	Passes      int     `json:"passes"`        // over the data, to decide and to write
	SummaryByte int64   `json:"summary_bytes"` // of every shard's summaries of every pass, as they crossed
	Assign      string  `json:"assign"`        // budget, fractions or thresholds
	BudgetBytes int64   `json:"budget_bytes"`
	Bytes       int64   `json:"bytes"`  // of a budget's decision, as one file would store it
	Lambda      float64 `json:"lambda"` // a budget decision's multiplier
}

// Quantize runs the passes with run: the table's shards quantized under
// one budget, written as parts and a manifest.
func Quantize(ctx context.Context, o QuantizeOptions, run func(context.Context, *beam.Pipeline) error) (*QuantizeResult, error) {
	if o.Table == "" {
		o.Table = "table"
	}
	if o.CountsTable == "" {
		o.CountsTable = o.Table
	}
	job := ShardJob{Settings: o.Settings, CountsPath: o.Counts, CountsTable: o.CountsTable}
	if o.Tensor != "" {
		job.Settings.Tables = "^" + regexp.QuoteMeta(o.Tensor) + "$"
	}
	if o.Counts == "" {
		job.CountsTable = ""
	}
	if job.Settings.Created == 0 { // one time for every part, the driver's, whatever the workers' clocks and environments
		job.Settings.Created = provenance.CreatedTime(0).Unix()
	}
	if err := job.Settings.Validate(); err != nil {
		return nil, err
	}
	specs, dim, err := shardSpecs(o.Shards, job.Settings)
	if err != nil {
		return nil, err
	}
	total := specs[len(specs)-1].Offset + specs[len(specs)-1].Rows
	job.TotalRows = total
	rule := job.Settings.Rule(int64(total) * int64(dim) * 4)
	res := &QuantizeResult{Rows: int64(total), Dim: dim, Parts: len(specs), Assign: job.Settings.Assign}
	w := &writePartFn{Job: job, Table: o.Table, Out: o.Out}
	switch rule.By {
	case core.ByBudget:
		err = decideBudget(ctx, o, job, specs, dim, rule, res, w, run)
	case core.ByFractions:
		w.Fractions, err = cutFractions(ctx, o, job, specs, rule.Fractions, res, run)
	}
	if err != nil {
		return nil, err
	}
	if err := writeParts(ctx, o, w, specs, dim, run); err != nil {
		removeParts(o.Out, len(specs))
		return nil, err
	}
	res.Passes++
	res.Manifest = ManifestFile(o.Out, o.Table)
	return res, nil
}

// decideBudget runs the budget's passes until it decides its multiplier.
func decideBudget(ctx context.Context, o QuantizeOptions, job ShardJob, specs []ShardSpec, dim int, rule core.Rule, res *QuantizeResult, w *writePartFn, run func(context.Context, *beam.Pipeline) error) error {
	b, err := core.NewBudget([]int{dim}, rule.Budget, rule.Allowed, sharkfile.Storage)
	if err != nil {
		return err
	}
	res.BudgetBytes = rule.Budget
	for !b.Done() {
		sum, n, err := runPass(ctx, o, job, specs, b.Next(), run)
		if err != nil {
			return err
		}
		res.Passes++
		res.SummaryByte += n
		if err := b.Take(sum); err != nil {
			return err
		}
	}
	d := b.Decision()
	res.Lambda, res.Bytes, w.Lambda = d.Lambda(), d.Bytes, d.Lambda()
	return nil
}

// shardSpecs reads every shard's header: its rows, and the table's width.
func shardSpecs(shards []string, s compress.Settings) ([]ShardSpec, int, error) {
	var specs []ShardSpec
	dim, offset := 0, 0
	for i, p := range shards {
		in, err := compress.Open(p)
		if err != nil {
			return nil, 0, fmt.Errorf("shard %s: %w", p, err)
		}
		t, err := shardTensor(in.File, s)
		in.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("shard %s: %w", p, err)
		}
		if dim != 0 && int(t.Shape[1]) != dim {
			return nil, 0, fmt.Errorf("shard %s: rows of %d values, the shards before %d", p, t.Shape[1], dim)
		}
		dim = int(t.Shape[1])
		specs = append(specs, ShardSpec{Index: i, Path: p, Offset: offset, Rows: int(t.Shape[0])})
		offset += int(t.Shape[0])
	}
	if len(specs) == 0 {
		return nil, 0, fmt.Errorf("no shards")
	}
	return specs, dim, nil
}

// shardTensor is the shard's table: the one tensor the settings select,
// as shark quantize selects its tables.
func shardTensor(f *formats.File, s compress.Settings) (*formats.Tensor, error) {
	sel, err := compress.Select(f, s)
	if err != nil {
		return nil, err
	}
	switch len(sel) {
	case 0:
		return nil, fmt.Errorf("no table (a 2-D float tensor of at least %d rows, or named by --tensor or --tables)", s.MinRows)
	case 1:
		return sel[0], nil
	}
	return nil, fmt.Errorf("tables %q and %q: name one with --tensor or --tables", sel[0].Name, sel[1].Name)
}

// runPass runs one pass of the budget over every shard and reads the sum.
func runPass(ctx context.Context, o QuantizeOptions, job ShardJob, specs []ShardSpec, pass core.Pass, run func(context.Context, *beam.Pipeline) error) (*core.Summary, int64, error) {
	out := path.Join(o.Work, fmt.Sprintf("pass-%d-%x-%x.json", pass.Kind, pass.Lo, pass.Hi))
	p, s := beam.NewPipelineWithRoot()
	shards := beam.Reshuffle(s, beam.CreateList(s, specs))
	sums := beam.ParDo(s, &summarizeFn{Job: job, Pass: pass}, shards)
	beam.ParDo0(s, &writeBytesFn{Out: out}, beam.Combine(s, addSummaries, sums))
	if err := run(ctx, p); err != nil {
		return nil, 0, err
	}
	var t Travelling
	if err := readJSON(ctx, out, &t); err != nil {
		return nil, 0, err
	}
	var sum core.Summary
	if err := json.Unmarshal(t.JSON, &sum); err != nil {
		return nil, 0, err
	}
	return &sum, t.Bytes, nil
}

// writeParts writes every shard's part with w, then the manifest.
func writeParts(ctx context.Context, o QuantizeOptions, w *writePartFn, specs []ShardSpec, dim int, run func(context.Context, *beam.Pipeline) error) error {
	list := path.Join(o.Work, "parts.json")
	p, s := beam.NewPipelineWithRoot()
	shards := beam.Reshuffle(s, beam.CreateList(s, specs))
	parts := beam.ParDo(s, w, shards)
	beam.ParDo0(s, &collectPartsFn{Out: list}, beam.GroupByKey(s, beam.AddFixedKey(s, parts)))
	if err := run(ctx, p); err != nil {
		return err
	}
	var written []PartInfo
	if err := readJSON(ctx, list, &written); err != nil {
		return err
	}
	if len(written) != len(specs) {
		return fmt.Errorf("%d parts written of %d shards", len(written), len(specs))
	}
	m := &sharkfile.Manifest{Table: o.Table, Dim: dim, Parts: make([]sharkfile.ManifestPart, len(specs)),
		Provenance: provenance.Record(provenance.Origin{Step: "shark-dist quantize", Input: filepath.Base(o.Shards[0]), Created: w.Job.Settings.Created})}
	for _, w := range written {
		m.Parts[w.Index] = sharkfile.ManifestPart{File: w.File, Rows: w.Rows}
		m.Rows += w.Rows
	}
	return writeFile(ctx, ManifestFile(o.Out, o.Table), func(w io.Writer) error { return sharkfile.WriteManifest(w, m) })
}

// removeParts removes what a failed job wrote of its parts.
func removeParts(dir string, n int) {
	for i := range n {
		os.Remove(filepath.Join(dir, fmt.Sprintf("part-%05d.shark", i)))
	}
}
