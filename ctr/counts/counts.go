// Package counts computes F-Quantization's access counts from logged data:
// for each table of a model and each of its rows, how many positive and
// negative samples looked the row up, per period (oldest first). They are
// the --counts file shark quantize reads: <table>.pos and <table>.neg,
// int64 [periods, rows]. One machine counts with Count; the distributed
// pipeline (dist/) counts files apart and adds them with Add, which gives
// the same numbers whatever the grouping, so the same bytes.
package counts

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"shark/ctr/dataset"
	"shark/ctr/modelfile"
	"shark/formats"
	"shark/formats/npz"
)

// Counts are a model's tables' access counts.
type Counts struct {
	Tables  []string // table names, in the model's slot order
	Fields  []int    // the data field of each table
	Rows    []int    // each table's rows
	Periods int
	// Pos and Neg hold, per table, Periods x Rows counts, period-major.
	Pos, Neg [][]int64
}

// New makes zero counts for the model's tables over periods.
func New(l *modelfile.Loaded, periods int) *Counts {
	c := &Counts{Periods: periods}
	for _, f := range l.Model.Slots {
		c.Tables = append(c.Tables, modelfile.TableName(l.Model.Fields[f]))
		c.Fields = append(c.Fields, f)
		rows := l.Model.Emb[f].Rows()
		c.Rows = append(c.Rows, rows)
		c.Pos = append(c.Pos, make([]int64, periods*rows))
		c.Neg = append(c.Neg, make([]int64, periods*rows))
	}
	return c
}

// Options say how data files are read.
type Options struct {
	SkipBad bool
	MaxLine int // the longest line; 0: the model's
}

// File adds one data file's samples to period, reading it with the
// model's encoding; its format is sniffed (a model trained on Criteo TSV
// can count libSVM logs of the same fields).
func (c *Counts) File(l *modelfile.Loaded, path string, period int, o Options) (dataset.Stats, error) {
	if period < 0 || period >= c.Periods {
		return dataset.Stats{}, fmt.Errorf("period %d of %d", period, c.Periods)
	}
	f, err := os.Open(path)
	if err != nil {
		return dataset.Stats{}, err
	}
	defer f.Close()
	st, err := c.Reader(l, f, period, o)
	if err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// Reader is File of data read from r.
func (c *Counts) Reader(l *modelfile.Loaded, r io.Reader, period int, o Options) (dataset.Stats, error) {
	opt := l.Encoding.Options
	opt.Format = "" // sniffed per file
	if o.MaxLine > 0 {
		opt.MaxLine = o.MaxLine
	}
	open := func() (dataset.Reader, io.Closer, error) {
		rd, err := dataset.Open(r, opt)
		return rd, io.NopCloser(nil), err
	}
	row := make([]string, len(l.Encoding.Fields))
	var ids []int32
	return dataset.Each(open, o.SkipBad, func(rec *dataset.Record) error {
		var err error
		if ids, err = l.Encoding.IDs(rec, row, ids); err != nil {
			return err
		}
		dst := c.Neg
		if rec.Label > 0.5 {
			dst = c.Pos
		}
		for t, f := range c.Fields {
			if id := int(ids[f]); id < c.Rows[t] {
				dst[t][period*c.Rows[t]+id]++
			}
		}
		return nil
	})
}

// Add adds o, counts of the same model and periods, into c.
func (c *Counts) Add(o *Counts) error {
	if len(o.Tables) != len(c.Tables) || o.Periods != c.Periods {
		return fmt.Errorf("counts of %d tables over %d periods added to %d over %d", len(o.Tables), o.Periods, len(c.Tables), c.Periods)
	}
	for t := range c.Pos {
		for i, v := range o.Pos[t] {
			c.Pos[t][i] += v
		}
		for i, v := range o.Neg[t] {
			c.Neg[t][i] += v
		}
	}
	return nil
}

// WriteNPZ writes the counts as the .npz shark quantize's --counts reads.
func (c *Counts) WriteNPZ(w io.Writer) error {
	zw := npz.NewWriter(w, false)
	for t, name := range c.Tables {
		shape := []int64{int64(c.Periods), int64(c.Rows[t])}
		for _, part := range []struct {
			suffix string
			v      []int64
		}{{".pos", c.Pos[t]}, {".neg", c.Neg[t]}} {
			if err := zw.Write(name+part.suffix, formats.I64, shape, int64Reader(part.v)); err != nil {
				return err
			}
		}
	}
	return zw.Close()
}

// int64Reader is the little-endian bytes of v, a stretch at a time.
func int64Reader(v []int64) io.Reader {
	return &i64r{v: v}
}

type i64r struct{ v []int64 }

func (r *i64r) Read(p []byte) (int, error) {
	if len(r.v) == 0 {
		return 0, io.EOF
	}
	n := min(len(p)/8, len(r.v))
	if n == 0 {
		return 0, io.ErrShortBuffer
	}
	for i := range n {
		binary.LittleEndian.PutUint64(p[8*i:], uint64(r.v[i]))
	}
	r.v = r.v[n:]
	return 8 * n, nil
}
