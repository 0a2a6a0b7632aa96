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
// period, or all are one, or a CSV column names each row's period) with
// the model's encoding into per-table, per-period arrays; the arrays of a
// table and period are added up across workers; one worker lays the
// periods out oldest first and writes the .npz. One pass over the logs;
// what crosses the network is each file's count arrays (16 bytes a table
// row a period it holds), never a sample.

// CountsOptions configure Counts.
type CountsOptions struct {
	Model        string   // a model made by shark train
	Files        []string // the logs, oldest first
	OnePeriod    bool     // every file in one period
	PeriodColumn string   // a CSV column naming each row's period
	Out          string   // the folder to write counts.npz to
	SkipBad      bool
}

// FileSpec is a log file and its period.
type FileSpec struct {
	Path   string
	Period int64
}

// TableCounts are one table's counts in one period.
type TableCounts struct {
	Table    int
	Period   int64
	Pos, Neg []int64
}

func init() {
	beam.RegisterType(reflect.TypeOf((*FileSpec)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*TableCounts)(nil)).Elem())
	register.DoFn3x1[context.Context, FileSpec, func(string, TableCounts), error](&countFileFn{})
	register.Emitter2[string, TableCounts]()
	register.DoFn3x1[context.Context, int, func(*TableCounts) bool, error](&writeCountsFn{})
	register.Iter1[TableCounts]()
	register.Function2x1(addCounts)
}

// countFileFn counts one log file.
type countFileFn struct {
	Model   string
	Column  string
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

func (f *countFileFn) ProcessElement(ctx context.Context, spec FileSpec, emit func(string, TableCounts)) error {
	rc, err := open(ctx, spec.Path)
	if err != nil {
		return err
	}
	defer rc.Close()
	ps := counts.NewPeriods()
	if _, err := ps.Reader(f.l, rc, spec.Period, counts.Options{SkipBad: f.SkipBad, Column: f.Column}); err != nil {
		return fmt.Errorf("%s: %w", spec.Path, err)
	}
	for k, c := range ps.By {
		for t := range c.Tables {
			emit(fmt.Sprintf("%d/%d", t, k), TableCounts{Table: t, Period: k, Pos: c.Pos[t], Neg: c.Neg[t]})
		}
	}
	return nil
}

// addCounts adds two files' counts of a table in a period.
func addCounts(a, b TableCounts) TableCounts {
	out := TableCounts{Table: a.Table, Period: a.Period, Pos: append([]int64(nil), a.Pos...), Neg: append([]int64(nil), a.Neg...)}
	for i, v := range b.Pos {
		out.Pos[i] += v
	}
	for i, v := range b.Neg {
		out.Neg[i] += v
	}
	return out
}

// writeCountsFn lays every table's periods out and writes one .npz.
type writeCountsFn struct {
	Model       string
	First, Last int64 // the periods, unless ByColumn
	ByColumn    bool  // the periods are those the data named
	Out         string
}

func (f *writeCountsFn) ProcessElement(ctx context.Context, _ int, tables func(*TableCounts) bool) error {
	l, err := loadModel(ctx, f.Model)
	if err != nil {
		return err
	}
	defer l.Close()
	ps := counts.NewPeriods()
	var tc TableCounts
	for tables(&tc) {
		c := ps.By[tc.Period]
		if c == nil {
			c = counts.New(l, 1)
			ps.By[tc.Period] = c
		}
		if tc.Table < 0 || tc.Table >= len(c.Tables) || len(tc.Pos) != c.Rows[tc.Table] || len(tc.Neg) != c.Rows[tc.Table] {
			return fmt.Errorf("counts of table %d with %d rows do not fit the model %s", tc.Table, len(tc.Pos), f.Model)
		}
		c.Pos[tc.Table], c.Neg[tc.Table] = tc.Pos, tc.Neg
	}
	first, last := f.First, f.Last
	if f.ByColumn {
		var ok bool
		if first, last, ok = ps.Span(); !ok {
			return fmt.Errorf("%w: no samples in the logs, so no period to count", counts.ErrPeriods)
		}
	}
	c, err := ps.Join(l, first, last)
	if err != nil {
		return err
	}
	return writeFile(ctx, f.Out, func(w io.Writer) error { return c.WriteNPZ(w) })
}

// CountsFile is where Counts writes: DIR/counts.npz.
func CountsFile(dir string) string { return path.Join(dir, "counts.npz") }

// Counts builds the counts pipeline.
func Counts(o CountsOptions) *beam.Pipeline {
	p, s := beam.NewPipelineWithRoot()
	var specs []FileSpec
	for i, f := range o.Files {
		period := int64(i)
		if o.OnePeriod {
			period = 0
		}
		specs = append(specs, FileSpec{Path: f, Period: period})
	}
	files := beam.Reshuffle(s, beam.CreateList(s, specs)) // spread the files over the workers
	perFile := beam.ParDo(s, &countFileFn{Model: o.Model, Column: o.PeriodColumn, SkipBad: o.SkipBad}, files)
	perKey := beam.CombinePerKey(s, addCounts, perFile)
	all := beam.GroupByKey(s, beam.AddFixedKey(s, beam.DropKey(s, perKey)))
	w := &writeCountsFn{Model: o.Model, Last: int64(len(o.Files) - 1), ByColumn: o.PeriodColumn != "", Out: CountsFile(o.Out)}
	if o.OnePeriod {
		w.Last = 0
	}
	beam.ParDo0(s, w, all)
	return p
}
