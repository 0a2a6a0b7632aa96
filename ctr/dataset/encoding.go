package dataset

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

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
	slots map[int]int // libFFM field id -> field index
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
// Memory grows with the number of distinct values, not with the file; a
// libFFM file gets a table for each field it holds, whatever its ids.
func Build(open Opener, opt Options, minCount int, skipBad bool) (*Encoding, Stats, error) {
	return BuildFrom(open, opt, minCount, skipBad, nil)
}

// BuildFrom is Build from the rows train accepts (nil: every row): a model
// trained on part of a file has a table row only for values its training
// rows hold, never for values only its held-out rows have.
func BuildFrom(open Opener, opt Options, minCount int, skipBad bool, train func(*Record) bool) (*Encoding, Stats, error) {
	var counts []map[string]int        // by position
	sparse := map[int]map[string]int{} // by libFFM field id
	var used int64
	r, st, err := each(open, skipBad, func(rec *Record) error {
		if train != nil && !train(rec) {
			return nil
		}
		used++
		for i, t := range rec.Tokens {
			var c map[string]int
			if rec.Fields != nil {
				if c = sparse[rec.Fields[i]]; c == nil {
					c = map[string]int{}
					sparse[rec.Fields[i]] = c
				}
			} else {
				for len(counts) <= i {
					counts = append(counts, map[string]int{})
				}
				c = counts[i]
			}
			if t != "" {
				c[t]++
			}
		}
		return nil
	})
	if err != nil {
		return nil, st, err
	}
	if used == 0 {
		return nil, st, fmt.Errorf("%w: no rows to train on (%d rows read)", ErrFormat, st.Rows)
	}
	e := &Encoding{Options: opt, MinCount: minCount, Fields: append([]string{}, r.Fields()...)}
	for f, name := range e.Fields {
		var c map[string]int
		if id, ok := fieldID(name); ok && len(sparse) > 0 {
			c = sparse[id]
		} else if f < len(counts) {
			c = counts[f]
		}
		e.Values = append(e.Values, frequent(c, minCount))
	}
	return e, st, nil
}

// frequent lists the tokens of c seen at least minCount times, most
// frequent first, ties by token.
func frequent(c map[string]int, minCount int) []string {
	var vals []string
	for t, n := range c {
		if n >= minCount {
			vals = append(vals, t)
		}
	}
	sort.Slice(vals, func(i, j int) bool {
		if c[vals[i]] != c[vals[j]] {
			return c[vals[i]] > c[vals[j]]
		}
		return vals[i] < vals[j]
	})
	return vals
}

// fieldID is the libFFM field id of a field name made by FieldName.
func fieldID(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "f")
	if !ok {
		return 0, false
	}
	id, err := strconv.Atoi(s)
	return id, err == nil && FieldName(id) == name
}

// slot is the index of libFFM field id in the encoding.
func (e *Encoding) slot(id int) (int, bool) {
	if e.slots == nil {
		e.slots = map[int]int{}
		for f, name := range e.Fields {
			if x, ok := fieldID(name); ok {
				e.slots[x] = f
			}
		}
	}
	f, ok := e.slots[id]
	return f, ok
}

// Encode reads the data into a dataset with this encoding.
func (e *Encoding) Encode(open Opener, skipBad bool) (*model.Dataset, Stats, error) {
	ds, _, st, err := e.EncodeKeys(open, skipBad)
	return ds, st, err
}

// EncodeKeys is Encode with each row's key (RowKey), in row order.
func (e *Encoding) EncodeKeys(open Opener, skipBad bool) (*model.Dataset, []RowKey, Stats, error) {
	ds := &model.Dataset{Fields: e.Fields, Vocab: e.Vocab()}
	var keys []RowKey
	n := len(e.Fields)
	row := make([]string, n)
	_, st, err := each(e.matched(open), skipBad, func(rec *Record) error {
		if err := e.place(rec, row); err != nil {
			return err
		}
		for f, tok := range row {
			ds.IDs = append(ds.IDs, e.id(f, tok))
		}
		ds.Labels = append(ds.Labels, rec.Label)
		keys = append(keys, rec.Key)
		return nil
	})
	if err != nil {
		return nil, nil, st, err
	}
	return ds, keys, st, nil
}

// place puts a record's tokens in the encoding's field order.
func (e *Encoding) place(rec *Record, row []string) error {
	clear(row)
	if rec.Fields == nil {
		if len(rec.Tokens) > len(row) {
			return bad(rec.Line, "%d fields, the encoding has %d", len(rec.Tokens), len(row))
		}
		copy(row, rec.Tokens)
		return nil
	}
	for i, id := range rec.Fields {
		f, ok := e.slot(id)
		if !ok {
			return bad(rec.Line, "field %d is not in the model's encoding", id)
		}
		row[f] = rec.Tokens[i]
	}
	return nil
}

// Each reads every record of the data in order, skipping malformed rows
// when skipBad is set, and returns what it saw.
func Each(open Opener, skipBad bool, fn func(*Record) error) (Stats, error) {
	_, st, err := each(open, skipBad, fn)
	return st, err
}

// IDs puts a record's table rows, one per field of the encoding, in dst.
func (e *Encoding) IDs(rec *Record, row []string, dst []int32) ([]int32, error) {
	if err := e.place(rec, row); err != nil {
		return nil, err
	}
	dst = dst[:0]
	for f, tok := range row {
		dst = append(dst, e.id(f, tok))
	}
	return dst, nil
}
