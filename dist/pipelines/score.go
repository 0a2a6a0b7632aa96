package pipelines

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"reflect"
	"sort"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"shark/ctr/dataset"
	"shark/ctr/importance"
	"shark/ctr/model"
	"shark/ctr/modelfile"
)

// The score pipelines: Taylor importance (DESIGN.md) of data beyond one
// machine, in two passes over it. The first counts, per field, the rows
// the samples look up (exact integers, added across workers), from which
// the driver makes each field's mean embedding ebar, as importance.Means
// does for one machine; the second, given ebar, sums |g . (ebar - e)| per
// field on each worker's files, and the sums are added. What crosses the
// network: each file's row-id counts (12 bytes a distinct row a field),
// then ebar (fields x dim floats) out to the workers and a float per field
// back from each file.

// ScoreOptions configure Score.
type ScoreOptions struct {
	Model   string
	Files   []string
	Work    string // a folder for the passes' results
	SkipBad bool
}

// FieldIDs are one field's row-id counts.
type FieldIDs struct {
	Field  int
	IDs    []int32
	Counts []int64
	N      int64 // the samples counted (the same for every field of a file)
}

// Sums are Taylor's per-field sums over some samples.
type Sums struct {
	Q []float64
	N int64
}

func init() {
	beam.RegisterType(reflect.TypeOf((*FieldIDs)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Sums)(nil)).Elem())
	register.DoFn3x1[context.Context, string, func(int, FieldIDs), error](&idCountsFn{})
	register.Emitter2[int, FieldIDs]()
	register.Function2x1(addFieldIDs)
	register.DoFn3x1[context.Context, int, func(*FieldIDs) bool, error](&writeIDsFn{})
	register.Iter1[FieldIDs]()
	register.DoFn3x1[context.Context, string, func(Sums), error](&taylorFn{})
	register.Emitter1[Sums]()
	register.Function2x1(addSums)
	register.DoFn2x1[context.Context, Sums, error](&writeSumsFn{})
}

// encodeFile reads a data file with the model's encoding (its format
// sniffed).
func encodeFile(ctx context.Context, l *modelfile.Loaded, path string, skipBad bool) (*model.Dataset, error) {
	opt := l.Encoding.Options
	opt.Format = ""
	open := func() (dataset.Reader, io.Closer, error) {
		rc, err := open(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		r, err := dataset.Open(rc, opt)
		if err != nil {
			rc.Close()
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		return r, rc, nil
	}
	ds, _, err := l.Encoding.Encode(open, skipBad)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ds, nil
}

// ModelFn is a DoFn's model, loaded once per worker (embedded in the DoFns
// that need it; exported, as Beam sends a DoFn's exported fields).
type ModelFn struct {
	Model string
	l     *modelfile.Loaded
}

func (f *ModelFn) Setup(ctx context.Context) (err error) {
	f.l, err = loadModel(ctx, f.Model)
	return err
}

func (f *ModelFn) Teardown() {
	if f.l != nil {
		f.l.Close()
	}
}

// idCountsFn counts a file's row ids per field.
type idCountsFn struct {
	ModelFn
	SkipBad bool
}

func (f *idCountsFn) ProcessElement(ctx context.Context, path string, emit func(int, FieldIDs)) error {
	ds, err := encodeFile(ctx, f.l, path, f.SkipBad)
	if err != nil {
		return err
	}
	for field, cnt := range importance.CountIDs(f.l.Model, ds) {
		fi := FieldIDs{Field: field, N: int64(ds.Rows())}
		for id := range cnt {
			fi.IDs = append(fi.IDs, id)
		}
		sort.Slice(fi.IDs, func(a, b int) bool { return fi.IDs[a] < fi.IDs[b] })
		for _, id := range fi.IDs {
			fi.Counts = append(fi.Counts, cnt[id])
		}
		emit(field, fi)
	}
	return nil
}

// addFieldIDs merges two files' counts of a field.
func addFieldIDs(a, b FieldIDs) FieldIDs {
	m := map[int32]int64{}
	for i, id := range a.IDs {
		m[id] += a.Counts[i]
	}
	for i, id := range b.IDs {
		m[id] += b.Counts[i]
	}
	out := FieldIDs{Field: a.Field, N: a.N + b.N}
	for id := range m {
		out.IDs = append(out.IDs, id)
	}
	sort.Slice(out.IDs, func(x, y int) bool { return out.IDs[x] < out.IDs[y] })
	for _, id := range out.IDs {
		out.Counts = append(out.Counts, m[id])
	}
	return out
}

// writeIDsFn writes the counts of every field for the driver.
type writeIDsFn struct{ Out string }

func (f *writeIDsFn) ProcessElement(ctx context.Context, _ int, fields func(*FieldIDs) bool) error {
	var all []FieldIDs
	var fi FieldIDs
	for fields(&fi) {
		all = append(all, fi)
	}
	return writeFile(ctx, f.Out, func(w io.Writer) error { return json.NewEncoder(w).Encode(all) })
}

// taylorFn sums a file's |g . (ebar - e)| per field.
type taylorFn struct {
	ModelFn
	Ebar    [][]float64
	SkipBad bool
}

func (f *taylorFn) ProcessElement(ctx context.Context, path string, emit func(Sums)) error {
	ds, err := encodeFile(ctx, f.l, path, f.SkipBad)
	if err != nil {
		return err
	}
	q, err := importance.TaylorSums(f.l.Model, ds, f.Ebar)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	emit(Sums{Q: q, N: int64(ds.Rows())})
	return nil
}

func addSums(a, b Sums) Sums {
	out := Sums{Q: append([]float64(nil), a.Q...), N: a.N + b.N}
	for i, v := range b.Q {
		out.Q[i] += v
	}
	return out
}

type writeSumsFn struct{ Out string }

func (f *writeSumsFn) ProcessElement(ctx context.Context, s Sums) error {
	return writeFile(ctx, f.Out, func(w io.Writer) error { return json.NewEncoder(w).Encode(s) })
}

// FieldScore is one field's Taylor importance.
type FieldScore struct {
	Name   string  `json:"name"`
	Taylor float64 `json:"taylor"`
}

// Score runs the two passes with run and returns every field's Taylor
// importance over all the files' samples.
func Score(ctx context.Context, o ScoreOptions, run func(context.Context, *beam.Pipeline) error) ([]FieldScore, int64, error) {
	idsPath, sumsPath := path.Join(o.Work, "ids.json"), path.Join(o.Work, "sums.json")
	p, s := beam.NewPipelineWithRoot()
	files := beam.Reshuffle(s, beam.CreateList(s, o.Files))
	perField := beam.CombinePerKey(s, addFieldIDs, beam.ParDo(s, &idCountsFn{ModelFn: ModelFn{Model: o.Model}, SkipBad: o.SkipBad}, files))
	beam.ParDo0(s, &writeIDsFn{Out: idsPath}, beam.GroupByKey(s, beam.AddFixedKey(s, beam.DropKey(s, perField))))
	if err := run(ctx, p); err != nil {
		return nil, 0, err
	}
	l, err := loadModel(ctx, o.Model)
	if err != nil {
		return nil, 0, err
	}
	defer l.Close()
	counts, n, err := readIDs(ctx, idsPath)
	if err != nil {
		return nil, 0, err
	}
	if n == 0 {
		return nil, 0, fmt.Errorf("no samples in %d file(s)", len(o.Files))
	}
	ebar, err := importance.Means(l.Model, counts, n)
	if err != nil {
		return nil, 0, err
	}
	p, s = beam.NewPipelineWithRoot()
	files = beam.Reshuffle(s, beam.CreateList(s, o.Files))
	sums := beam.Combine(s, addSums, beam.ParDo(s, &taylorFn{ModelFn: ModelFn{Model: o.Model}, Ebar: ebar, SkipBad: o.SkipBad}, files))
	beam.ParDo0(s, &writeSumsFn{Out: sumsPath}, sums)
	if err := run(ctx, p); err != nil {
		return nil, 0, err
	}
	var total Sums
	if err := readJSON(ctx, sumsPath, &total); err != nil {
		return nil, 0, err
	}
	var out []FieldScore
	for _, f := range l.Model.Slots {
		out = append(out, FieldScore{Name: l.Model.Fields[f], Taylor: total.Q[f] / float64(total.N)})
	}
	return out, total.N, nil
}

// readIDs reads the first pass's counts.
func readIDs(ctx context.Context, path string) (importance.IDCounts, int64, error) {
	var all []FieldIDs
	if err := readJSON(ctx, path, &all); err != nil {
		return nil, 0, err
	}
	c := importance.IDCounts{}
	var n int64
	for _, fi := range all {
		m := map[int32]int64{}
		for i, id := range fi.IDs {
			m[id] = fi.Counts[i]
		}
		c[fi.Field] = m
		n = fi.N
	}
	return c, n, nil
}

// readJSON reads what a pass wrote, through Beam's filesystem.
func readJSON(ctx context.Context, path string, v any) error {
	rc, err := open(ctx, path)
	if err != nil {
		return err
	}
	defer rc.Close()
	return json.NewDecoder(rc).Decode(v)
}
