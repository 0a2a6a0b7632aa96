package dataset

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"shark/ctr/model"
)

// Rows 0 and 1 of every table are reserved.
const (
	OOV   = 0 // values seen fewer than MinCount times, and values new to the encoding
	Empty = 1 // the empty value
)

// Encoding maps each field's tokens to table rows.
type Encoding struct {
	Options  Options    `msgpack:"options"`
	MinCount int        `msgpack:"min_count"`
	Fields   []string   `msgpack:"fields"`
	Values   [][]string `msgpack:"values"` // per field: the token of row 2+i

	index []map[string]int32
}

// Vocab is each field's table size.
func (e *Encoding) Vocab() []int {
	v := make([]int, len(e.Fields))
	for i := range v {
		v[i] = 2 + len(e.Values[i])
	}
	return v
}

func (e *Encoding) id(f int, tok string) int32 {
	if e.index == nil {
		e.index = make([]map[string]int32, len(e.Fields))
		for i, vals := range e.Values {
			e.index[i] = make(map[string]int32, len(vals))
			for j, v := range vals {
				e.index[i][v] = int32(2 + j)
			}
		}
	}
	if tok == "" {
		return Empty
	}
	if id, ok := e.index[f][tok]; ok {
		return id
	}
	return OOV
}

// Stats count what a pass over a file saw.
type Stats struct {
	Rows    int64 `json:"rows"`
	Skipped int64 `json:"skipped"`
}

// Opener reopens the data for another pass.
type Opener func() (Reader, io.Closer, error)

// FileOpener opens path with the given options for each pass.
func FileOpener(path string, opt Options) Opener {
	return func() (Reader, io.Closer, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		r, err := Open(f, opt)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		return r, f, nil
	}
}

func each(open Opener, skipBad bool, fn func(*Record) error) (Reader, Stats, error) {
	r, c, err := open()
	if err != nil {
		return nil, Stats{}, err
	}
	defer c.Close()
	var st Stats
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return r, st, nil
		}
		if err != nil {
			if skipBad && errors.Is(err, ErrBadRow) {
				st.Skipped++
				continue
			}
			return r, st, err
		}
		if err := fn(rec); err != nil {
			return r, st, err
		}
		st.Rows++
	}
}

// Build makes an encoding from one pass over the data: every value seen at
// least minCount times gets its own row, most frequent first (ties by value).
// Memory grows with the number of distinct values, not with the file.
func Build(open Opener, opt Options, minCount int, skipBad bool) (*Encoding, Stats, error) {
	var counts []map[string]int
	r, st, err := each(open, skipBad, func(rec *Record) error {
		for len(counts) < len(rec.Tokens) {
			counts = append(counts, map[string]int{})
		}
		for f, t := range rec.Tokens {
			if t != "" {
				counts[f][t]++
			}
		}
		return nil
	})
	if err != nil {
		return nil, st, err
	}
	if st.Rows == 0 {
		return nil, st, fmt.Errorf("%w: no rows", ErrFormat)
	}
	e := &Encoding{Options: opt, MinCount: minCount, Fields: append([]string{}, r.Fields()...)}
	for len(counts) < len(e.Fields) {
		counts = append(counts, map[string]int{})
	}
	for f := range e.Fields {
		var vals []string
		for t, n := range counts[f] {
			if n >= minCount {
				vals = append(vals, t)
			}
		}
		c := counts[f]
		sort.Slice(vals, func(i, j int) bool {
			if c[vals[i]] != c[vals[j]] {
				return c[vals[i]] > c[vals[j]]
			}
			return vals[i] < vals[j]
		})
		e.Values = append(e.Values, vals)
	}
	return e, st, nil
}

// Encode reads the data into a dataset with this encoding.
func (e *Encoding) Encode(open Opener, skipBad bool) (*model.Dataset, Stats, error) {
	ds := &model.Dataset{Fields: e.Fields, Vocab: e.Vocab()}
	n := len(e.Fields)
	_, st, err := each(open, skipBad, func(rec *Record) error {
		if len(rec.Tokens) > n {
			return bad(rec.Line, "%d fields, the encoding has %d", len(rec.Tokens), n)
		}
		for f := 0; f < n; f++ {
			tok := ""
			if f < len(rec.Tokens) {
				tok = rec.Tokens[f]
			}
			ds.IDs = append(ds.IDs, e.id(f, tok))
		}
		ds.Labels = append(ds.Labels, rec.Label)
		return nil
	})
	if err != nil {
		return nil, st, err
	}
	return ds, st, nil
}
