// Package counts computes F-Quantization's access counts from logged data:
// for each table of a model and each of its rows, how many positive and
// negative samples looked the row up, per period (oldest first). They are
// the --counts file shark quantize reads: <table>.pos and <table>.neg,
// int64 [periods, rows]. Data is counted into Periods (by file, or by a
// period column), which Join lays out as Counts; the distributed pipeline
// (dist/) counts files apart and adds them up, which gives the same
// numbers whatever the grouping, so the same bytes.
package counts

import (
	"encoding/binary"
	"fmt"
	"io"

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
