package pipelines

import (
	"context"
	"fmt"
	"io"
	"path"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"shark/ctr/counts"
	"shark/ctr/modelfile"
)

// The counts pipeline: each worker counts whole log files (a file is a
// period, or all are one) with the model's encoding into per-table
// arrays; the arrays of a table are added up across workers; one worker
// writes the .npz. One pass over the logs; what crosses the network is
// each file's count arrays (16 bytes a table row a period), never a sample.

// CountsOptions configure Counts.
type CountsOptions struct {
	Model     string   // a model made by shark train
	Files     []string // the logs, oldest first
	OnePeriod bool     // every file in one period
	Out       string   // the folder to write counts.npz to
	SkipBad   bool
}

// FileSpec is a log file and its period.
type FileSpec struct {
	Path   string
	Period int
}

// TableCounts are one table's counts: Periods x Rows, period-major.
type TableCounts struct {
	Table    int
	Pos, Neg []int64
}

func init() {
	beam.RegisterType(reflect.TypeOf((*FileSpec)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*TableCounts)(nil)).Elem())
	register.DoFn3x1[context.Context, FileSpec, func(int, TableCounts), error](&countFileFn{})
	register.Emitter2[int, TableCounts]()
	register.DoFn3x1[context.Context, int, func(*TableCounts) bool, error](&writeCountsFn{})
	register.Iter1[TableCounts]()
	register.Function2x1(addCounts)
}

// countFileFn counts one log file.
type countFileFn struct {
	Model   string
	Periods int
	SkipBad bool
	l       *modelfile.Loaded
}

func (f *countFileFn) Setup(ctx context.Context) error {
	var err error
	f.l, err = loadModel(ctx, f.Model)
	return err
}

func (f *countFileFn) Teardown() {
	if f.l != nil {
		f.l.Close()
	}
}

func (f *countFileFn) ProcessElement(ctx context.Context, spec FileSpec, emit func(int, TableCounts)) error {
	rc, err := open(ctx, spec.Path)
	if err != nil {
		return err
	}
	defer rc.Close()
	c := counts.New(f.l, f.Periods)
	if _, err := c.Reader(f.l, rc, spec.Period, counts.Options{SkipBad: f.SkipBad}); err != nil {
		return fmt.Errorf("%s: %w", spec.Path, err)
	}
	for t := range c.Tables {
		emit(t, TableCounts{Table: t, Pos: c.Pos[t], Neg: c.Neg[t]})
	}
	return nil
}

// addCounts adds two files' counts of a table.
func addCounts(a, b TableCounts) TableCounts {
	out := TableCounts{Table: a.Table, Pos: append([]int64(nil), a.Pos...), Neg: append([]int64(nil), a.Neg...)}
	for i, v := range b.Pos {
		out.Pos[i] += v
	}
	for i, v := range b.Neg {
		out.Neg[i] += v
	}
	return out
}

// writeCountsFn writes every table's counts to one .npz.
type writeCountsFn struct {
	Model   string
	Periods int
	Out     string
}

func (f *writeCountsFn) ProcessElement(ctx context.Context, _ int, tables func(*TableCounts) bool) error {
	l, err := loadModel(ctx, f.Model)
	if err != nil {
		return err
	}
	defer l.Close()
	c := counts.New(l, f.Periods)
	var tc TableCounts
	for tables(&tc) {
		c.Pos[tc.Table], c.Neg[tc.Table] = tc.Pos, tc.Neg
	}
	return writeFile(ctx, f.Out, func(w io.Writer) error { return c.WriteNPZ(w) })
}

// CountsFile is where Counts writes: DIR/counts.npz.
func CountsFile(dir string) string { return path.Join(dir, "counts.npz") }

// Counts builds the counts pipeline.
func Counts(o CountsOptions) *beam.Pipeline {
	p, s := beam.NewPipelineWithRoot()
	periods := len(o.Files)
	if o.OnePeriod {
		periods = 1
	}
	var specs []FileSpec
	for i, f := range o.Files {
		specs = append(specs, FileSpec{Path: f, Period: min(i, periods-1)})
	}
	files := beam.Reshuffle(s, beam.CreateList(s, specs)) // spread the files over the workers
	perFile := beam.ParDo(s, &countFileFn{Model: o.Model, Periods: periods, SkipBad: o.SkipBad}, files)
	perTable := beam.CombinePerKey(s, addCounts, perFile)
	all := beam.GroupByKey(s, beam.AddFixedKey(s, beam.DropKey(s, perTable)))
	beam.ParDo0(s, &writeCountsFn{Model: o.Model, Periods: periods, Out: CountsFile(o.Out)}, all)
	return p
}
