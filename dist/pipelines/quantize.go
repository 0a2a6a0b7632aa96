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
	Shards      []string // the table's row shards, in row order
	Tensor      string   // the tensor in each shard ("": its only table)
	Table       string   // the table's name in the parts (default "table")
	Budget      float64  // a share of the table's fp32 bytes
	BudgetBytes int64    // or bytes
	NoInt4      bool
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
	Tensor, CountsPath, CountsTable string
	TotalRows                       int
	NoInt4                          bool
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
	s := compress.DefaultSettings()
	s.NoInt4 = j.NoInt4
	if j.Tensor != "" {
		s.Tables = "^" + regexp.QuoteMeta(j.Tensor) + "$"
	} else {
		s.MinRows = 1
	}
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
		return nil, nil, nil, fmt.Errorf("shard %s: %d tables (name one with --tensor)", spec.Path, len(p.Tables))
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

// writePartFn writes a shard's part under the decision.
type writePartFn struct {
	Job    ShardJob
	Lambda float64
	Table  string
	Out    string
}

func (f *writePartFn) ProcessElement(ctx context.Context, spec ShardSpec, emit func(PartInfo)) error {
	p, _, done, err := f.Job.measure(spec)
	if err != nil {
		return err
	}
	defer done()
	defer p.Close()
	if err := p.AssignAt(f.Lambda); err != nil {
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
	BudgetBytes int64   `json:"budget_bytes"`
	Bytes       int64   `json:"bytes"`  // of the decision, as one file would store it
	Lambda      float64 `json:"lambda"` // the decision's multiplier
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
	specs, dim, err := shardSpecs(o)
	if err != nil {
		return nil, err
	}
	total := specs[len(specs)-1].Offset + specs[len(specs)-1].Rows
	rule := o.settings().Rule(int64(total) * int64(dim) * 4)
	job := ShardJob{Tensor: o.Tensor, CountsPath: o.Counts, CountsTable: o.CountsTable, TotalRows: total, NoInt4: o.NoInt4}
	if o.Counts == "" {
		job.CountsTable = ""
	}
	b, err := core.NewBudget([]int{dim}, rule.Budget, rule.Allowed, sharkfile.Storage)
	if err != nil {
		return nil, err
	}
	res := &QuantizeResult{Rows: int64(total), Dim: dim, Parts: len(specs), BudgetBytes: rule.Budget}
	for !b.Done() {
		sum, n, err := runPass(ctx, o, job, specs, b.Next(), run)
		if err != nil {
			return nil, err
		}
		res.Passes++
		res.SummaryByte += n
		if err := b.Take(sum); err != nil {
			return nil, err
		}
	}
	d := b.Decision()
	res.Lambda, res.Bytes = d.Lambda(), d.Bytes
	if err := writeParts(ctx, o, job, specs, d.Lambda(), dim, run); err != nil {
		removeParts(o.Out, len(specs))
		return nil, err
	}
	res.Passes++
	res.Manifest = ManifestFile(o.Out, o.Table)
	return res, nil
}

// settings are the options' budget as the settings of shark quantize, so
// that the budget means the same here.
func (o QuantizeOptions) settings() compress.Settings {
	s := compress.DefaultSettings()
	s.Budget, s.BudgetBytes, s.NoInt4 = o.Budget, o.BudgetBytes, o.NoInt4
	return s
}

// shardSpecs reads every shard's header: its rows, and the table's width.
func shardSpecs(o QuantizeOptions) ([]ShardSpec, int, error) {
	var specs []ShardSpec
	dim, offset := 0, 0
	for i, p := range o.Shards {
		in, err := compress.Open(p)
		if err != nil {
			return nil, 0, fmt.Errorf("shard %s: %w", p, err)
		}
		t, err := shardTensor(in.File, o.Tensor)
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

// shardTensor is the shard's table: the named tensor, or its only 2-D
// float tensor.
func shardTensor(f *formats.File, name string) (*formats.Tensor, error) {
	if name != "" {
		return f.Tensor(name)
	}
	var found *formats.Tensor
	for _, t := range f.Tensors {
		if t.IsTable(1) {
			if found != nil {
				return nil, fmt.Errorf("tables %q and %q: name one with --tensor", found.Name, t.Name)
			}
			found = t
		}
	}
	if found == nil {
		return nil, fmt.Errorf("no 2-D float tensor")
	}
	return found, nil
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

// writeParts writes every shard's part, then the manifest.
func writeParts(ctx context.Context, o QuantizeOptions, job ShardJob, specs []ShardSpec, lambda float64, dim int, run func(context.Context, *beam.Pipeline) error) error {
	list := path.Join(o.Work, "parts.json")
	p, s := beam.NewPipelineWithRoot()
	shards := beam.Reshuffle(s, beam.CreateList(s, specs))
	parts := beam.ParDo(s, &writePartFn{Job: job, Lambda: lambda, Table: o.Table, Out: o.Out}, shards)
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
		Provenance: provenance.Record(provenance.Origin{Step: "shark-dist quantize", Input: filepath.Base(o.Shards[0])})}
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
