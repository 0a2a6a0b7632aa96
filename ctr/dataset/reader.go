// Package dataset reads training data for the reference model, streaming in
// constant memory: Criteo TSV, CSV with a header, libSVM/libFM and libFFM.
// Every value becomes a token of its field; an Encoding maps tokens to table
// rows (rare values share an out-of-vocabulary row) and is saved with the
// model so that new files are encoded the same way.
package dataset

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
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

// Record is one parsed row: a label and one token per field ("" = empty),
// by position, or, where Fields is set (libFFM), for the field ids it names.
type Record struct {
	Line   int64
	Label  float32
	Tokens []string
	Fields []int
	Period int64  // the period column's value (Options.Period), in days or as written
	Key    RowKey // the row's identity (RowKey)
}

// Reader yields records; Next returns io.EOF at the end.
type Reader interface {
	Fields() []string
	Next() (*Record, error)
}

// Options describe how to read a file.
type Options struct {
	Format  string   // criteo, csv, libsvm, libffm; "" to sniff
	Label   string   // csv: label column, optionally with a threshold: rating>=4; other formats: a threshold alone, >=4
	Ignore  []string // csv: columns to leave out
	Numeric []string // csv: numeric columns, bucketised like Criteo's integers
	MaxLine int      `msgpack:",omitempty"` // the longest line read, in bytes; 0: DefaultMaxLine
	Period  string   `msgpack:"-"`          // csv: the column naming each row's period (counting only, never saved with a model)
}

// DefaultMaxLine is the longest line a data file may have unless the
// options say otherwise: a longer line is a malformed row.
const DefaultMaxLine = 1 << 20

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

// Open returns a reader over r. A line longer than opt.MaxLine, in every
// format, is a malformed row; a UTF-8 byte order mark at the start is
// dropped.
func Open(r io.Reader, opt Options) (Reader, error) {
	if opt.MaxLine <= 0 {
		opt.MaxLine = DefaultMaxLine
	}
	br := bufio.NewReaderSize(r, 1<<16)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	if opt.Format == "" {
		head, _ := br.Peek(1 << 16)
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			head = head[:i]
		}
		opt.Format = Sniff(head)
	}
	if opt.Period != "" && opt.Format != "csv" {
		return nil, fmt.Errorf("%w: a period column needs CSV with a header; %s rows have no named columns: give a file per period instead", ErrFormat, opt.Format)
	}
	l := &lines{r: br, max: opt.MaxLine}
	switch opt.Format {
	case "criteo", "libsvm", "libfm", "libffm":
		lb, err := newLabeler(opt.Format, opt.Label, opt.Format != "criteo")
		if err != nil {
			return nil, err
		}
		if opt.Format == "criteo" {
			return newCriteo(l, lb), nil
		}
		return newLibSVM(l, opt.Format == "libffm", lb), nil
	case "csv":
		return newCSV(l, opt)
	}
	return nil, fmt.Errorf("%w: %q (criteo, csv, libsvm, libffm)", ErrFormat, opt.Format)
}

// lines reads a file a line at a time, each at most max bytes: a longer
// line is skipped to its end, in one pass, and reported as a bad row.
type lines struct {
	r    *bufio.Reader
	max  int
	line int64
	buf  []byte
}

// next returns the next line that is not empty, without its line end.
func (l *lines) next() (string, error) {
	for {
		s, err := l.read()
		if err != nil || s != "" {
			return s, err
		}
	}
}

// read returns the next line, "" for an empty one.
func (l *lines) read() (string, error) {
	l.buf = l.buf[:0]
	tooLong := false
	for {
		chunk, err := l.r.ReadSlice('\n')
		if tooLong = tooLong || len(l.buf)+len(chunk) > l.max+2; !tooLong {
			l.buf = append(l.buf, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(chunk) == 0 && len(l.buf) == 0 && !tooLong {
			return "", io.EOF
		}
		if err != nil && err != io.EOF {
			return "", bad(l.line+1, "reading: %v", err)
		}
		l.line++
		s := strings.TrimRight(string(l.buf), "\r\n")
		if tooLong || len(s) > l.max {
			return "", bad(l.line, "the line is longer than %d bytes (--max-line)", l.max)
		}
		return s, nil
	}
}

// Criteo: label, I1..I13 (integers, may be empty), C1..C26 (hashed, may be empty).
type criteo struct {
	l      *lines
	lb     *labeler
	k      *keyer
	fields []string
}

func newCriteo(l *lines, lb *labeler) *criteo {
	c := &criteo{l: l, lb: lb, k: newKeyer()}
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
	if rec.Label, err = c.lb.of(cols[0], c.l.line); err != nil {
		return nil, err
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
	c.k.start(rec.Label)
	for i, v := range cols[1:] {
		c.k.field(i, v)
	}
	rec.Key = c.k.key()
	return rec, nil
}

// libSVM/libFM ("label idx:val ..." with one entry per field, by position)
// and libFFM ("label field:idx:val ..."). Values are not used: a feature
// is its index.
type libsvm struct {
	l    *lines
	lb   *labeler
	k    *keyer
	ffm  bool
	nf   int          // libsvm: fields, fixed by the first row
	seen map[int]bool // libffm: the field ids seen so far
}

func newLibSVM(l *lines, ffm bool, lb *labeler) *libsvm {
	return &libsvm{l: l, lb: lb, k: newKeyer(), ffm: ffm, nf: -1, seen: map[int]bool{}}
}

// Fields is known after the first row for libSVM; for libFFM it is the
// fields seen so far, in the order of their ids, so read the file through
// first.
func (s *libsvm) Fields() []string {
	var out []string
	if !s.ffm {
		for i := 0; i < s.nf; i++ {
			out = append(out, fmt.Sprintf("f%d", i))
		}
		return out
	}
	ids := make([]int, 0, len(s.seen))
	for id := range s.seen {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		out = append(out, FieldName(id))
	}
	return out
}

// FieldName is the name of libFFM field id.
func FieldName(id int) string { return fmt.Sprintf("f%d", id) }

func (s *libsvm) Next() (*Record, error) {
	line, err := s.l.next()
	if err != nil {
		return nil, err
	}
	parts := strings.Fields(line)
	if len(parts) == 0 {
		return s.Next() // a line of blanks
	}
	y, err := s.lb.of(parts[0], s.l.line)
	if err != nil {
		return nil, err
	}
	rec := &Record{Line: s.l.line, Label: y}
	if s.ffm {
		if err := s.ffmFeatures(rec, parts[1:]); err != nil {
			return nil, err
		}
		return rec, nil
	}
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
	s.k.start(rec.Label)
	for i, p := range parts[1:] {
		s.k.field(i, p)
	}
	rec.Key = s.k.key()
	return rec, nil
}

// ffmFeatures reads libFFM's field:index:value features into rec, sparse:
// a token per field the row names (Record.Fields), so that a field id of a
// million costs one table, not a million.
func (s *libsvm) ffmFeatures(rec *Record, parts []string) error {
	for i, p := range parts {
		fs := strings.SplitN(p, ":", 3)
		if len(fs) != 3 {
			return bad(s.l.line, "feature %d %q is not field:index:value", i+1, p)
		}
		f, err := strconv.Atoi(fs[0])
		if err != nil || f < 0 || f > math.MaxInt32 {
			return bad(s.l.line, "feature %d %q: field is not a whole number in 0..%d", i+1, p, math.MaxInt32)
		}
		if _, err := strconv.ParseFloat(fs[2], 64); err != nil {
			return bad(s.l.line, "feature %d %q: value is not a number", i+1, p)
		}
		if slices.Contains(rec.Fields, f) {
			return bad(s.l.line, "field %d appears twice", f)
		}
		rec.Fields = append(rec.Fields, f)
		rec.Tokens = append(rec.Tokens, fs[1])
	}
	for _, f := range rec.Fields {
		s.seen[f] = true
	}
	s.ffmKey(rec, parts)
	return nil
}

// ffmKey sets a libFFM row's key from its features in field order, so that
// the order they are written in within the line does not matter.
func (s *libsvm) ffmKey(rec *Record, parts []string) {
	order := make([]int, len(parts))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return rec.Fields[order[a]] < rec.Fields[order[b]] })
	s.k.start(rec.Label)
	for _, i := range order {
		_, v, _ := strings.Cut(parts[i], ":")
		s.k.field(rec.Fields[i], v)
	}
	rec.Key = s.k.key()
}

// CSV with a header row. A record is one line: a quoted field may hold
// commas and doubled quotes, not line breaks, so that a stray quote makes
// one malformed row, not a run of swallowed lines.
type csvReader struct {
	l       *lines
	fields  []string
	cols    []int  // column of each field
	numeric []bool // per field
	label   int
	period  int // the period column, -1 for none
	width   int // columns in the header
	head    []string
	lb      *labeler
	k       *keyer
	row     []string
}

func newCSV(l *lines, opt Options) (*csvReader, error) {
	line, err := l.next()
	if err != nil {
		if err == io.EOF {
			err = bad(1, "no header")
		}
		return nil, err
	}
	head, err := splitCSV(line, nil)
	if err != nil {
		return nil, bad(l.line, "the header: %v", err)
	}
	if err := uniqueColumns(head, l.line); err != nil {
		return nil, err
	}
	if opt.Label == "" {
		return nil, fmt.Errorf("%w: CSV needs --label COLUMN (e.g. --label clicked, or --label 'rating>=4')", ErrFormat)
	}
	c := &csvReader{l: l, label: -1, period: -1, width: len(head), head: head, lb: &labeler{}, k: newKeyer()}
	name, op, thr, err := parseThreshold(opt.Label)
	if err != nil {
		return nil, err
	}
	c.lb.op, c.lb.thr = op, thr
	for _, l := range [][]string{opt.Ignore, opt.Numeric, {name}} {
		for _, x := range l {
			if !slices.Contains(head, x) {
				return nil, fmt.Errorf("%w: column %q is not in the header %q", ErrFormat, x, head)
			}
		}
	}
	if opt.Period != "" {
		if c.period = slices.Index(head, opt.Period); c.period < 0 {
			return nil, fmt.Errorf("%w: the period column %q is not in the header %q", ErrFormat, opt.Period, head)
		}
	}
	for i, h := range head {
		switch {
		case h == name:
			c.label = i
		case slices.Contains(opt.Ignore, h):
		default:
			c.fields = append(c.fields, h)
			c.cols = append(c.cols, i)
			c.numeric = append(c.numeric, slices.Contains(opt.Numeric, h))
		}
	}
	return c, nil
}

// uniqueColumns refuses a header naming a column twice: the two would be
// one table's name (and "label,a,a,label" one label twice), found only when
// the trained model was written.
func uniqueColumns(head []string, line int64) error {
	seen := make(map[string]int, len(head))
	for i, h := range head {
		if j, ok := seen[h]; ok {
			return bad(line, "the header names column %q twice (columns %d and %d)", h, j+1, i+1)
		}
		seen[h] = i
	}
	return nil
}

// splitCSV splits one line of CSV (RFC 4180, without line breaks in
// fields) into row.
func splitCSV(line string, row []string) ([]string, error) {
	row = row[:0]
	for {
		if !strings.HasPrefix(line, `"`) {
			field, rest, more := strings.Cut(line, ",")
			if strings.Contains(field, `"`) {
				return nil, fmt.Errorf("a quote inside the unquoted field %q", field)
			}
			row = append(row, field)
			if !more {
				return row, nil
			}
			line = rest
			continue
		}
		var b strings.Builder
		i := 1
		for {
			j := strings.IndexByte(line[i:], '"')
			if j < 0 {
				return nil, errors.New("a quoted field is not closed on its line")
			}
			b.WriteString(line[i : i+j])
			i += j + 1
			if !strings.HasPrefix(line[i:], `"`) {
				break
			}
			b.WriteByte('"')
			i++
		}
		row = append(row, b.String())
		switch {
		case i == len(line):
			return row, nil
		case line[i] != ',':
			return nil, fmt.Errorf("text after the closing quote of field %d", len(row))
		}
		line = line[i+1:]
	}
}

func (c *csvReader) Fields() []string { return c.fields }

func (c *csvReader) Next() (*Record, error) {
	line, err := c.l.next()
	if err != nil {
		return nil, err
	}
	if c.row, err = splitCSV(line, c.row); err != nil {
		return nil, bad(c.l.line, "%v", err)
	}
	n := c.l.line
	if len(c.row) != c.width {
		return nil, bad(n, "%d columns, the header has %d", len(c.row), c.width)
	}
	rec := &Record{Line: n, Tokens: make([]string, len(c.fields))}
	if rec.Label, err = c.lb.of(c.row[c.label], n); err != nil {
		return nil, err
	}
	if c.period >= 0 {
		if rec.Period, err = ParsePeriod(c.row[c.period]); err != nil {
			return nil, bad(n, "period column: %v", err)
		}
	}
	for k, col := range c.cols {
		v := c.row[col]
		if c.numeric[k] && v != "" {
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil, bad(n, "column %q: %q is not a number", c.fields[k], v)
			}
			v = Bucket(x)
		}
		rec.Tokens[k] = v
	}
	c.k.start(rec.Label)
	for k, col := range c.cols {
		c.k.field(k, c.row[col])
	}
	rec.Key = c.k.key()
	return rec, nil
}
