// Package dataset reads training data for the reference model, streaming in
// constant memory: Criteo TSV, CSV with a header, libSVM/libFM and libFFM.
// Every value becomes a token of its field; an Encoding maps tokens to table
// rows (rare values share an out-of-vocabulary row) and is saved with the
// model so that new files are encoded the same way.
package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

var (
	// ErrBadRow: a row breaks its format (the error says which line).
	ErrBadRow = errors.New("bad row")
	// ErrFormat: the data format is unknown or its options are wrong.
	ErrFormat = errors.New("bad data format")
)

// RowError locates a bad row.
type RowError struct {
	Line int64
	Msg  string
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }
func (e *RowError) Unwrap() error { return ErrBadRow }

func bad(line int64, msg string, args ...any) error {
	return &RowError{Line: line, Msg: fmt.Sprintf(msg, args...)}
}

// Record is one parsed row: a label and one token per field ("" = empty).
type Record struct {
	Line   int64
	Label  float32
	Tokens []string
}

// Reader yields records; Next returns io.EOF at the end.
type Reader interface {
	Fields() []string
	Next() (*Record, error)
}

// Options describe how to read a file.
type Options struct {
	Format  string   // criteo, csv, libsvm, libffm; "" to sniff
	Label   string   // csv: label column, optionally with a threshold: rating>=4
	Ignore  []string // csv: columns to leave out
	Numeric []string // csv: numeric columns, bucketised like Criteo's integers
}

// Bucket maps a count or measurement to a token the way the usual Criteo
// practice does: floor(ln(x)^2) for x > 2, the value itself below.
func Bucket(x float64) string {
	if math.IsNaN(x) {
		return "nan"
	}
	if x > 2 {
		return "b" + strconv.Itoa(int(math.Floor(math.Pow(math.Log(x), 2))))
	}
	return "v" + strconv.FormatFloat(math.Floor(x), 'f', -1, 64)
}

// Sniff guesses the format from the first line.
func Sniff(first []byte) string {
	line := string(bytes.TrimRight(first, "\r\n"))
	if strings.Count(line, "\t") == 39 {
		return "criteo"
	}
	fs := strings.Fields(line)
	if len(fs) > 1 && strings.Contains(fs[1], ":") {
		if strings.Count(fs[1], ":") == 2 {
			return "libffm"
		}
		return "libsvm"
	}
	return "csv"
}

// Open returns a reader over r. The maximum line length is 16 MiB.
func Open(r io.Reader, opt Options) (Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if opt.Format == "" {
		head, _ := br.Peek(1 << 16)
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			head = head[:i]
		}
		opt.Format = Sniff(head)
	}
	switch opt.Format {
	case "criteo":
		return newCriteo(br), nil
	case "csv":
		return newCSV(br, opt)
	case "libsvm", "libfm":
		return newLibSVM(br, false), nil
	case "libffm":
		return newLibSVM(br, true), nil
	}
	return nil, fmt.Errorf("%w: %q (criteo, csv, libsvm, libffm)", ErrFormat, opt.Format)
}

type lines struct {
	sc   *bufio.Scanner
	line int64
}

func newLines(r io.Reader) *lines {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 16<<20)
	return &lines{sc: sc}
}

func (l *lines) next() (string, error) {
	for l.sc.Scan() {
		l.line++
		s := strings.TrimRight(l.sc.Text(), "\r")
		if s == "" {
			continue
		}
		return s, nil
	}
	if err := l.sc.Err(); err != nil {
		return "", bad(l.line+1, "%v", err)
	}
	return "", io.EOF
}

func parseLabel(s string, line int64) (float32, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) {
		return 0, bad(line, "label %q is not a number", s)
	}
	if v > 0 {
		return 1, nil
	}
	return 0, nil
}

// Criteo: label, I1..I13 (integers, may be empty), C1..C26 (hashed, may be empty).
type criteo struct {
	l      *lines
	fields []string
}

func newCriteo(r io.Reader) *criteo {
	c := &criteo{l: newLines(r)}
	for i := 1; i <= 13; i++ {
		c.fields = append(c.fields, fmt.Sprintf("I%d", i))
	}
	for i := 1; i <= 26; i++ {
		c.fields = append(c.fields, fmt.Sprintf("C%d", i))
	}
	return c
}

func (c *criteo) Fields() []string { return c.fields }

func (c *criteo) Next() (*Record, error) {
	s, err := c.l.next()
	if err != nil {
		return nil, err
	}
	cols := strings.Split(s, "\t")
	if len(cols) != 40 {
		return nil, bad(c.l.line, "%d tab-separated columns, Criteo rows have 40", len(cols))
	}
	rec := &Record{Line: c.l.line, Tokens: make([]string, 39)}
	if cols[0] != "0" && cols[0] != "1" {
		return nil, bad(c.l.line, "label %q is not 0 or 1", cols[0])
	}
	if cols[0] == "1" {
		rec.Label = 1
	}
	for i := 1; i <= 13; i++ {
		if cols[i] == "" {
			continue
		}
		v, err := strconv.ParseInt(cols[i], 10, 64)
		if err != nil {
			return nil, bad(c.l.line, "I%d: %q is not an integer", i, cols[i])
		}
		rec.Tokens[i-1] = Bucket(float64(v))
	}
	for i := 14; i < 40; i++ {
		rec.Tokens[i-1] = cols[i]
	}
	return rec, nil
}

// libSVM/libFM ("label idx:val ..." with one entry per field, by position)
// and libFFM ("label field:idx:val ..."). Values are not used: a feature
// is its index.
type libsvm struct {
	l      *lines
	ffm    bool
	nf     int // libsvm: fields fixed by the first row; libffm: grows
	fields []string
}

func newLibSVM(r io.Reader, ffm bool) *libsvm { return &libsvm{l: newLines(r), ffm: ffm, nf: -1} }

// Fields is known after the first row for libSVM; for libFFM it is the
// largest field id seen so far plus one, so read the file through first.
func (s *libsvm) Fields() []string {
	for len(s.fields) < s.nf {
		s.fields = append(s.fields, fmt.Sprintf("f%d", len(s.fields)))
	}
	return s.fields[:max(s.nf, 0)]
}

func (s *libsvm) Next() (*Record, error) {
	line, err := s.l.next()
	if err != nil {
		return nil, err
	}
	parts := strings.Fields(line)
	if len(parts) == 0 {
		return s.Next() // a line of blanks
	}
	y, err := parseLabel(parts[0], s.l.line)
	if err != nil {
		return nil, err
	}
	rec := &Record{Line: s.l.line, Label: y}
	if !s.ffm {
		if s.nf < 0 {
			s.nf = len(parts) - 1
		}
		if len(parts)-1 != s.nf {
			return nil, bad(s.l.line, "%d features, the first row had %d (one per field)", len(parts)-1, s.nf)
		}
		for i, p := range parts[1:] {
			idx, val, ok := strings.Cut(p, ":")
			if !ok || idx == "" {
				return nil, bad(s.l.line, "feature %d %q is not index:value", i+1, p)
			}
			if _, err := strconv.ParseFloat(val, 64); err != nil {
				return nil, bad(s.l.line, "feature %d %q: value is not a number", i+1, p)
			}
			rec.Tokens = append(rec.Tokens, idx)
		}
		return rec, nil
	}
	for i, p := range parts[1:] {
		fs := strings.SplitN(p, ":", 3)
		if len(fs) != 3 {
			return nil, bad(s.l.line, "feature %d %q is not field:index:value", i+1, p)
		}
		f, err := strconv.Atoi(fs[0])
		if err != nil || f < 0 || f > 1<<16 {
			return nil, bad(s.l.line, "feature %d %q: field is not an integer in 0..65536", i+1, p)
		}
		if _, err := strconv.ParseFloat(fs[2], 64); err != nil {
			return nil, bad(s.l.line, "feature %d %q: value is not a number", i+1, p)
		}
		for len(rec.Tokens) <= f {
			rec.Tokens = append(rec.Tokens, "")
		}
		if rec.Tokens[f] != "" {
			return nil, bad(s.l.line, "field %d appears twice", f)
		}
		rec.Tokens[f] = fs[1]
		s.nf = max(s.nf, f+1)
	}
	return rec, nil
}

// CSV with a header row.
type csvReader struct {
	r       *csv.Reader
	fields  []string
	cols    []int  // column of each field
	numeric []bool // per field
	label   int
	op      string
	thr     float64
	line    int64
}

func newCSV(r io.Reader, opt Options) (*csvReader, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = 0
	head, err := cr.Read()
	if err != nil {
		return nil, bad(1, "reading the header: %v", err)
	}
	head = append([]string{}, head...)
	if opt.Label == "" {
		return nil, fmt.Errorf("%w: CSV needs --label COLUMN (e.g. --label clicked, or --label 'rating>=4')", ErrFormat)
	}
	c := &csvReader{r: cr, label: -1, line: 1}
	name := opt.Label
	for _, op := range []string{">=", "<=", "==", ">", "<"} {
		if i := strings.Index(opt.Label, op); i > 0 {
			name, c.op = strings.TrimSpace(opt.Label[:i]), op
			c.thr, err = strconv.ParseFloat(strings.TrimSpace(opt.Label[i+len(op):]), 64)
			if err != nil {
				return nil, fmt.Errorf("%w: --label %q: threshold is not a number", ErrFormat, opt.Label)
			}
			break
		}
	}
	in := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	for _, l := range [][]string{opt.Ignore, opt.Numeric, {name}} {
		for _, x := range l {
			if !in(head, x) {
				return nil, fmt.Errorf("%w: column %q is not in the header %v", ErrFormat, x, head)
			}
		}
	}
	for i, h := range head {
		switch {
		case h == name:
			c.label = i
		case in(opt.Ignore, h):
		default:
			c.fields = append(c.fields, h)
			c.cols = append(c.cols, i)
			c.numeric = append(c.numeric, in(opt.Numeric, h))
		}
	}
	return c, nil
}

func (c *csvReader) Fields() []string { return c.fields }

func (c *csvReader) Next() (*Record, error) {
	row, err := c.r.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, bad(int64(pe.Line), "%v", pe.Err)
		}
		return nil, bad(c.line+1, "%v", err)
	}
	line, _ := c.r.FieldPos(0)
	c.line = int64(line)
	rec := &Record{Line: c.line, Tokens: make([]string, len(c.fields))}
	lv := strings.TrimSpace(row[c.label])
	if c.op == "" {
		if rec.Label, err = parseLabel(lv, c.line); err != nil {
			return nil, err
		}
	} else {
		v, err := strconv.ParseFloat(lv, 64)
		if err != nil {
			return nil, bad(c.line, "label %q is not a number", lv)
		}
		var yes bool
		switch c.op {
		case ">=":
			yes = v >= c.thr
		case "<=":
			yes = v <= c.thr
		case "==":
			yes = v == c.thr
		case ">":
			yes = v > c.thr
		case "<":
			yes = v < c.thr
		}
		if yes {
			rec.Label = 1
		}
	}
	for k, col := range c.cols {
		v := row[col]
		if c.numeric[k] && v != "" {
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil, bad(c.line, "column %q: %q is not a number", c.fields[k], v)
			}
			v = Bucket(x)
		}
		rec.Tokens[k] = v
	}
	return rec, nil
}
