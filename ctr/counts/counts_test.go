package counts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"shark/ctr/dataset"
	"shark/ctr/model"
	"shark/ctr/modelfile"
	"shark/formats"
	"shark/formats/npz"
)

// synthModel writes n rows of synthetic Criteo data with fields fields and
// returns the file, its text and an untrained model over its encoding.
func synthModel(t *testing.T, n, fields int) (string, string, *modelfile.Loaded) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := dataset.Synth(&buf, n, fields, 7); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "d.tsv")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	opt := dataset.Options{Format: "criteo"}
	enc, _, err := dataset.Build(dataset.FileOpener(p, opt), opt, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := enc.Encode(dataset.FileOpener(p, opt), false)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(model.DefaultConfig(), ds)
	if err != nil {
		t.Fatal(err)
	}
	return p, buf.String(), &modelfile.Loaded{Model: m, Encoding: enc}
}

// textCounts counts, from the file's text alone, each categorical column's
// tokens among positive and negative lines.
func textCounts(text string, col int) (pos, neg map[string]int64) {
	pos, neg = map[string]int64{}, map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		cols := strings.Split(line, "\t")
		tok := "" // a missing column is empty, and empty values have a row of their own
		if 14+col < len(cols) {
			tok = cols[14+col]
		}
		if cols[0] == "1" {
			pos[tok]++
		} else {
			neg[tok]++
		}
	}
	return pos, neg
}

func sorted(m map[string]int64) []int64 {
	v := make([]int64, 0, len(m))
	for _, c := range m {
		v = append(v, c)
	}
	slices.Sort(v)
	return v
}

// With a minimum count of 1 every token has a row of its own, so each
// table's non-zero counts are the token frequencies of its column, counted
// here from the text without the encoding.
func TestCountsAreTokenFrequencies(t *testing.T) {
	p, text, l := synthModel(t, 3000, 3)
	ps := NewPeriods()
	if _, err := ps.File(l, p, 0, Options{}); err != nil {
		t.Fatal(err)
	}
	c, err := ps.Join(l, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tables) != len(l.Model.Slots) {
		t.Fatalf("%d tables, model has %d slots", len(c.Tables), len(l.Model.Slots))
	}
	for k, f := range c.Fields {
		name := l.Model.Fields[f]
		n, err := strconv.Atoi(strings.TrimPrefix(name, "C"))
		if err != nil {
			continue // an integer column: no tokens in synthetic data
		}
		col := n - 1
		wantPos, wantNeg := textCounts(text, col)
		gotPos, gotNeg := nonZero(c.Pos[k]), nonZero(c.Neg[k])
		if !slices.Equal(gotPos, sorted(wantPos)) || !slices.Equal(gotNeg, sorted(wantNeg)) {
			t.Errorf("table %s: counts %v/%v, token frequencies %v/%v", c.Tables[k], gotPos, gotNeg, sorted(wantPos), sorted(wantNeg))
		}
	}
}

func nonZero(v []int64) []int64 {
	var out []int64
	for _, c := range v {
		if c != 0 {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// Counting a file in two halves, as two workers would, and adding them up
// gives the counts of the whole file; periods are laid out oldest first,
// with a gap counting zero.
func TestPeriodsAddAndJoin(t *testing.T) {
	p, text, l := synthModel(t, 2000, 2)
	lines := strings.SplitAfter(text, "\n")
	half := strings.Join(lines[:1000], "")
	rest := strings.Join(lines[1000:], "")

	whole := NewPeriods()
	if _, err := whole.File(l, p, 5, Options{}); err != nil {
		t.Fatal(err)
	}
	a, b := NewPeriods(), NewPeriods()
	if _, err := a.Reader(l, strings.NewReader(half), 5, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Reader(l, strings.NewReader(rest), 5, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Reader(l, strings.NewReader(half), 7, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(b); err != nil {
		t.Fatal(err)
	}
	if first, last, ok := a.Span(); !ok || first != 5 || last != 7 {
		t.Fatalf("span %d..%d (%v), want 5..7", first, last, ok)
	}
	want, err := whole.Join(l, 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Join(l, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	if got.Periods != 3 {
		t.Fatalf("%d periods, want 3", got.Periods)
	}
	for k := range got.Tables {
		r := got.Rows[k]
		if !slices.Equal(got.Pos[k][:r], want.Pos[k]) || !slices.Equal(got.Neg[k][:r], want.Neg[k]) {
			t.Errorf("table %s: period 5 added from halves differs from the whole file", got.Tables[k])
		}
		if slices.ContainsFunc(got.Pos[k][r:2*r], nonZeroCount) || slices.ContainsFunc(got.Neg[k][r:2*r], nonZeroCount) {
			t.Errorf("table %s: period 6 has counts, but no data", got.Tables[k])
		}
		if sum(got.Pos[k][2*r:])+sum(got.Neg[k][2*r:]) != 1000 {
			t.Errorf("table %s: period 7 counts %d samples, want 1000", got.Tables[k], sum(got.Pos[k][2*r:])+sum(got.Neg[k][2*r:]))
		}
	}
}

func nonZeroCount(c int64) bool { return c != 0 }

func sum(v []int64) (s int64) {
	for _, c := range v {
		s += c
	}
	return s
}

// The written .npz holds <table>.pos and <table>.neg as int64 [periods,
// rows], the values counted.
func TestWriteNPZ(t *testing.T) {
	p, _, l := synthModel(t, 500, 2)
	ps := NewPeriods()
	if _, err := ps.File(l, p, 0, Options{}); err != nil {
		t.Fatal(err)
	}
	c, err := ps.Join(l, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.WriteNPZ(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := npz.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for k, name := range c.Tables {
		for _, part := range []struct {
			suffix string
			want   []int64
		}{{".pos", c.Pos[k]}, {".neg", c.Neg[k]}} {
			tn, err := f.Tensor(name + part.suffix)
			if err != nil {
				t.Fatal(err)
			}
			if tn.DType != formats.I64 || !slices.Equal(tn.Shape, []int64{2, int64(c.Rows[k])}) {
				t.Fatalf("%s%s: %v %v", name, part.suffix, tn.DType, tn.Shape)
			}
			rc, err := tn.Open()
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || len(raw) != 8*len(part.want) {
				t.Fatalf("%s%s: %d bytes (%v), want %d", name, part.suffix, len(raw), err, 8*len(part.want))
			}
			for i, w := range part.want {
				if g := int64(binary.LittleEndian.Uint64(raw[8*i:])); g != w {
					t.Fatalf("%s%s[%d] = %d, want %d", name, part.suffix, i, g, w)
				}
			}
		}
	}
}

// A span of periods wider than MaxPeriods is refused while counting, with
// the line that widened it, and by Join.
func TestPeriodSpanLimit(t *testing.T) {
	_, _, l := synthModel(t, 100, 1)
	ps := NewPeriods()
	// A CSV's columns are the model's fields by name: all of them, empty
	// but for the first.
	fields := l.Encoding.Fields
	blank := strings.Repeat(",", len(fields)-1)
	data := "label,day," + strings.Join(fields, ",") + "\n1,3,a" + blank + "\n0,10003," + blank + "\n"
	l.Encoding.Options.Label = "label"
	_, err := ps.Reader(l, strings.NewReader(data), 0, Options{Column: "day"})
	if !errors.Is(err, ErrPeriods) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("span of 10,001 periods: %v, want ErrPeriods naming line 3", err)
	}
	if _, err := NewPeriods().Join(l, 0, MaxPeriods); !errors.Is(err, ErrPeriods) {
		t.Fatalf("Join of %d periods: %v, want ErrPeriods", MaxPeriods+1, err)
	}
}
