package pipelines

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"reflect"
	"sort"
	"strings"

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

// Sums are Taylor's per-field sums over some samples, and the rows of
// their files left out as training rows and as validation rows.
type Sums struct {
	Q          []float64
	N          int64
	Excluded   int64
	Validation int64
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

// heldOut reads a data file with the model's encoding (its format sniffed)
// and keeps the rows shark score scores: those the model was not trained
// on, told by their content against the model's record of its training
// rows (a Bloom filter of their dataset.RowKey), wherever they are, and
// not the validation rows its training kept out (compress chooses on
// those: never held-out). It returns them, the count of training rows and
// that of validation rows left out.
func heldOut(ctx context.Context, l *modelfile.Loaded, path string, skipBad bool) (*model.Dataset, int64, int64, error) {
	ds, keys, err := encodeFile(ctx, l, path, skipBad)
	if err != nil {
		return nil, 0, 0, err
	}
	if l.Training.RowsKnown() {
		trained, fresh := dataset.Partition(ds, keys, l.Training.Trained)
		valid, held := dataset.Partition(fresh.Dataset, fresh.Keys, l.Training.Validation)
		return held.Dataset, int64(trained.Rows()), int64(valid.Rows()), nil
	}
	held, excluded, err := heldOutByFile(l, path, ds)
	return held, excluded, 0, err
}

// ErrNoRowRecord: a model saved before shark recorded its training rows,
// scored on files its workers cannot identify.
var ErrNoRowRecord = errors.New("the model has no record of its training rows")

// heldOutByFile chooses the rows of a model saved without a record of its
// training rows as shark score does, by the file's identity: of the file
// it was trained on, the share it held out; of another, every row.
func heldOutByFile(l *modelfile.Loaded, path string, ds *model.Dataset) (*model.Dataset, int64, error) {
	if strings.Contains(path, "://") {
		return nil, 0, fmt.Errorf("%w, so its held-out rows are told by the data file's identity, which %s does not give here: train it again to record them", ErrNoRowRecord, path)
	}
	id, err := dataset.Identify(path)
	if err != nil {
		return nil, 0, err
	}
	// A model with no record at all was trained on the data it is given,
	// holding out its split share (modelfile.Loaded.Data).
	on, trained := dataset.TrainedOn{Split: l.Model.Cfg.Split, Seed: l.Model.Cfg.Seed}, true
	if l.Training != nil {
		on, trained = l.Training.Find(id)
	}
	switch {
	case !trained:
		return ds, 0, nil
	case on.Split == 0:
		return ds.Subset(nil), int64(ds.Rows()), nil
	}
	_, eval := ds.Split(on.Split, on.Seed)
	return eval, int64(ds.Rows() - eval.Rows()), nil
}

// encodeFile reads a data file with the model's encoding (its format
// sniffed), with its rows' keys.
func encodeFile(ctx context.Context, l *modelfile.Loaded, path string, skipBad bool) (*model.Dataset, []dataset.RowKey, error) {
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
	ds, keys, _, err := l.Encoding.EncodeKeys(open, skipBad)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return ds, keys, nil
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
	ds, _, _, err := heldOut(ctx, f.l, path, f.SkipBad)
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
	ds, excluded, valid, err := heldOut(ctx, f.l, path, f.SkipBad)
	if err != nil {
		return err
	}
	q, err := importance.TaylorSums(f.l.Model, ds, f.Ebar)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	emit(Sums{Q: q, N: int64(ds.Rows()), Excluded: excluded, Validation: valid})
	return nil
}

func addSums(a, b Sums) Sums {
	out := Sums{Q: append([]float64(nil), a.Q...), N: a.N + b.N, Excluded: a.Excluded + b.Excluded, Validation: a.Validation + b.Validation}
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

// ScoreRows say which rows a score came from, as shark score's rows do.
type ScoreRows struct {
	Kind     string `json:"kind"` // "held-out": the rows the model was not trained on
	Files    int    `json:"files"`
	Count    int64  `json:"count"`
	Excluded int64  `json:"excluded"` // rows left out as training rows, not in Count
	// Validation is the rows left out as the validation rows the model's
	// training kept out (compress chooses on them), not in Count.
	Validation int64  `json:"validation,omitempty"`
	Text       string `json:"text"`
}

// RowsHeldOut is the kind of ScoreRows.
const RowsHeldOut = "held-out"

func scoreRows(files int, s Sums) ScoreRows {
	text := fmt.Sprintf("the %s rows of %d file(s) the model was not trained on", dataset.Count(int(s.N)), files)
	if s.Excluded > 0 {
		text += fmt.Sprintf("; %s rows it was trained on left out", dataset.Count(int(s.Excluded)))
	}
	if s.Validation > 0 {
		text += fmt.Sprintf("; %s validation rows left out", dataset.Count(int(s.Validation)))
	}
	return ScoreRows{Kind: RowsHeldOut, Files: files, Count: s.N, Excluded: s.Excluded, Validation: s.Validation, Text: text}
}

// ErrNoHeldOut: every row of the files is a training row of the model.
var ErrNoHeldOut = errors.New("no held-out rows")

// Score runs the two passes with run and returns every field's Taylor
// importance over the files' held-out rows, and which rows those are.
func Score(ctx context.Context, o ScoreOptions, run func(context.Context, *beam.Pipeline) error) ([]FieldScore, ScoreRows, error) {
	var none ScoreRows
	idsPath, sumsPath := path.Join(o.Work, "ids.json"), path.Join(o.Work, "sums.json")
	p, s := beam.NewPipelineWithRoot()
	files := beam.Reshuffle(s, beam.CreateList(s, o.Files))
	perField := beam.CombinePerKey(s, addFieldIDs, beam.ParDo(s, &idCountsFn{ModelFn: ModelFn{Model: o.Model}, SkipBad: o.SkipBad}, files))
	beam.ParDo0(s, &writeIDsFn{Out: idsPath}, beam.GroupByKey(s, beam.AddFixedKey(s, beam.DropKey(s, perField))))
	if err := run(ctx, p); err != nil {
		return nil, none, err
	}
	l, err := loadModel(ctx, o.Model)
	if err != nil {
		return nil, none, err
	}
	defer l.Close()
	counts, n, err := readIDs(ctx, idsPath)
	if err != nil {
		return nil, none, err
	}
	if n == 0 {
		return nil, none, fmt.Errorf("%w: the model was trained on every row of the %d file(s)", ErrNoHeldOut, len(o.Files))
	}
	ebar, err := importance.Means(l.Model, counts, n)
	if err != nil {
		return nil, none, err
	}
	p, s = beam.NewPipelineWithRoot()
	files = beam.Reshuffle(s, beam.CreateList(s, o.Files))
	sums := beam.Combine(s, addSums, beam.ParDo(s, &taylorFn{ModelFn: ModelFn{Model: o.Model}, Ebar: ebar, SkipBad: o.SkipBad}, files))
	beam.ParDo0(s, &writeSumsFn{Out: sumsPath}, sums)
	if err := run(ctx, p); err != nil {
		return nil, none, err
	}
	var total Sums
	if err := readJSON(ctx, sumsPath, &total); err != nil {
		return nil, none, err
	}
	var out []FieldScore
	for _, f := range l.Model.Slots {
		out = append(out, FieldScore{Name: l.Model.Fields[f], Taylor: total.Q[f] / float64(total.N)})
	}
	return out, scoreRows(len(o.Files), total), nil
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
