package counts

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"shark/ctr/dataset"
	"shark/ctr/modelfile"
)

// MaxPeriods is the most periods counts may span: ten thousand days is
// 27 years, while a column of seconds would ask for an array per second.
const MaxPeriods = 10000

// ErrPeriods: the period column spans more than MaxPeriods, or names none.
var ErrPeriods = errors.New("periods")

// Options say how data files are read.
type Options struct {
	SkipBad bool
	MaxLine int    // the longest line; 0: the model's
	Column  string // a CSV column naming each row's period (dataset.ParsePeriod); "": the period given
}

// Periods are counts kept by period while data is read: each row counts in
// the period its file is given, or, with Options.Column, in the one its
// period column names. Join lays them out oldest first.
type Periods struct {
	By map[int64]*Counts // one period each
}

// NewPeriods makes empty periods.
func NewPeriods() *Periods { return &Periods{By: map[int64]*Counts{}} }

// File counts one data file's samples, reading it with the model's
// encoding; its format is sniffed (a model trained on Criteo TSV can count
// libSVM logs of the same fields).
func (p *Periods) File(l *modelfile.Loaded, path string, period int64, o Options) (dataset.Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return dataset.Stats{}, err
	}
	defer f.Close()
	st, err := p.Reader(l, f, period, o)
	if err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// Reader is File of data read from r.
func (p *Periods) Reader(l *modelfile.Loaded, r io.Reader, period int64, o Options) (dataset.Stats, error) {
	opt := l.Encoding.Options
	opt.Format = "" // sniffed per file
	opt.Period = o.Column
	if o.MaxLine > 0 {
		opt.MaxLine = o.MaxLine
	}
	open := func() (dataset.Reader, io.Closer, error) {
		rd, err := dataset.Open(r, opt)
		if err == nil {
			err = l.Encoding.Match(rd) // a CSV's columns by name
		}
		return rd, io.NopCloser(nil), err
	}
	if o.Column == "" {
		if _, err := p.period(l, period, 0); err != nil {
			return dataset.Stats{}, err
		}
	}
	row := make([]string, len(l.Encoding.Fields))
	var ids []int32
	return dataset.Each(open, o.SkipBad, func(rec *dataset.Record) error {
		var err error
		if ids, err = l.Encoding.IDs(rec, row, ids); err != nil {
			return err
		}
		k := period
		if o.Column != "" {
			k = rec.Period
		}
		c, err := p.period(l, k, rec.Line)
		if err != nil {
			return err
		}
		c.sample(ids, rec.Label > 0.5)
		return nil
	})
}

// period returns period k's counts, made on first use while the span stays
// within MaxPeriods.
func (p *Periods) period(l *modelfile.Loaded, k int64, line int64) (*Counts, error) {
	if c := p.By[k]; c != nil {
		return c, nil
	}
	if first, last, ok := p.Span(); ok {
		if n := max(last, k) - min(first, k) + 1; n > MaxPeriods || n <= 0 {
			return nil, fmt.Errorf("%w: line %d: period %d makes the counts span more than %d periods (%d to %d): use a coarser period column (a day, not a second)", ErrPeriods, line, k, MaxPeriods, min(first, k), max(last, k))
		}
	}
	c := New(l, 1)
	p.By[k] = c
	return c, nil
}

// sample counts one sample's rows in c, a period's counts.
func (c *Counts) sample(ids []int32, positive bool) {
	dst := c.Neg
	if positive {
		dst = c.Pos
	}
	for t, f := range c.Fields {
		if id := int(ids[f]); id < c.Rows[t] {
			dst[t][id]++
		}
	}
}

// Span is the oldest and newest period counted; ok is false for none.
func (p *Periods) Span() (first, last int64, ok bool) {
	for k := range p.By {
		if !ok || k < first {
			first = k
		}
		if !ok || k > last {
			last = k
		}
		ok = true
	}
	return first, last, ok
}

// Add adds q's counts into p, period by period.
func (p *Periods) Add(q *Periods) error {
	for _, k := range slices.Sorted(maps.Keys(q.By)) {
		if c := p.By[k]; c != nil {
			if err := c.Add(q.By[k]); err != nil {
				return err
			}
			continue
		}
		p.By[k] = q.By[k]
	}
	return nil
}

// Join lays periods first..last out as one Counts, oldest first (a period
// with no samples counts zero), releasing each period once copied.
func (p *Periods) Join(l *modelfile.Loaded, first, last int64) (*Counts, error) {
	n := last - first + 1
	if n <= 0 || n > MaxPeriods {
		return nil, fmt.Errorf("%w: %d to %d is %d periods, not 1 to %d", ErrPeriods, first, last, n, MaxPeriods)
	}
	for k := range p.By {
		if k < first || k > last {
			return nil, fmt.Errorf("%w: period %d is outside %d to %d", ErrPeriods, k, first, last)
		}
	}
	out := New(l, int(n))
	for k, c := range p.By {
		i := int(k - first)
		for t := range out.Tables {
			copy(out.Pos[t][i*out.Rows[t]:], c.Pos[t])
			copy(out.Neg[t][i*out.Rows[t]:], c.Neg[t])
		}
		delete(p.By, k)
	}
	return out, nil
}
