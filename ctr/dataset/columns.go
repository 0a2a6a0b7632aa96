package dataset

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ErrColumns: a CSV file's columns are not the fields of the model
// reading it.
var ErrColumns = errors.New("the file's columns do not match the model's fields")

// ColumnsError names the model's fields a CSV file lacks and the columns
// it has that the model was not trained on.
type ColumnsError struct {
	Missing []string // fields of the model that are not columns of the file
	Extra   []string // columns of the file that are not fields of the model
	Skipped []string // columns the reading options leave out (label, --ignore)
}

func (e *ColumnsError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("the model's fields %s are not columns of the file", quoted(e.Missing)))
	}
	if len(e.Extra) > 0 {
		parts = append(parts, fmt.Sprintf("the file's columns %s are not fields of the model", quoted(e.Extra)))
	}
	msg := ErrColumns.Error() + ": " + strings.Join(parts, "; ")
	if len(e.Skipped) > 0 {
		msg += fmt.Sprintf(" (the reading options leave out %s: the label and the --ignore columns the model was trained with)", quoted(e.Skipped))
	}
	return msg
}

func (e *ColumnsError) Unwrap() error { return ErrColumns }

func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// Match makes reader r, opened on a file but not yet read, yield its
// records in this encoding's field order. A CSV file's columns are found
// by their header names, in any order, so that a copy of the training
// file with its columns moved is read as the same rows (and gets the same
// row keys); a field missing from the header, or a column that is neither
// a field, the label, a column the model ignores nor the period column,
// is refused by name. Criteo and libSVM rows have no names: their
// columns are their fields by position; libFFM's are by field id.
func (e *Encoding) Match(r Reader) error {
	if c, ok := r.(*csvReader); ok {
		return c.byName(e.Fields)
	}
	return nil
}

// byName reorders the reader's fields (and so the row keys' field ids) to
// fields, by header name.
func (c *csvReader) byName(fields []string) error {
	at := make(map[string]int, len(c.fields))
	for k, name := range c.fields {
		at[name] = k
	}
	ce := &ColumnsError{}
	cols, numeric := make([]int, len(fields)), make([]bool, len(fields))
	for f, name := range fields {
		k, ok := at[name]
		if !ok {
			ce.Missing = append(ce.Missing, name)
			continue
		}
		cols[f], numeric[f] = c.cols[k], c.numeric[k]
		delete(at, name)
	}
	for _, name := range c.fields {
		if _, left := at[name]; left && (c.period < 0 || c.head[c.period] != name) {
			ce.Extra = append(ce.Extra, name)
		}
	}
	if len(ce.Missing) > 0 || len(ce.Extra) > 0 {
		for _, h := range c.head {
			if !slices.Contains(c.fields, h) {
				ce.Skipped = append(ce.Skipped, h)
			}
		}
		return ce
	}
	c.fields, c.cols, c.numeric = append([]string{}, fields...), cols, numeric
	return nil
}

// matched is open with each reader matched to the encoding.
func (e *Encoding) matched(open Opener) Opener {
	return func() (Reader, io.Closer, error) {
		r, c, err := open()
		if err != nil {
			return nil, nil, err
		}
		if err := e.Match(r); err != nil {
			c.Close()
			return nil, nil, err
		}
		return r, c, nil
	}
}
