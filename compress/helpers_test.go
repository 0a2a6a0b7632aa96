package compress

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"shark/core"
)

// helpersOf makes n helpers that each measure on an input of their own,
// opened from the same file, with the same counts: as the page's other
// Web Workers do.
func helpersOf(t *testing.T, path string, s Settings, counts string, n int, calls *atomic.Int64) []Helper {
	t.Helper()
	var hs []Helper
	for range n {
		in, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Close() })
		env := Env{}
		if counts != "" {
			c, err := Open(counts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			env.Counts = c.File
		}
		hs = append(hs, func(ctx context.Context, table string, lo, hi int, progress func(int)) ([]core.RowStat, error) {
			calls.Add(1)
			env.Context = ctx
			stats, err := MeasureRange(in, s, env, table, lo, hi, progress)
			if err != nil {
				return nil, err
			}
			return ReadRowStats(AppendRowStats(nil, stats)) // as they cross between workers
		})
	}
	return hs
}

// A plan measured with helpers, each a range of every table, writes the
// bytes of the plan measured alone: by budget and by fractions, with
// access counts and with row norms, with one helper and with three.
func TestHelpersMeasureTheSamePlan(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1")
	old := helpedRows
	helpedRows = 1000 // the example's tables, of 20,000 and 8,000 rows, are shared
	t.Cleanup(func() { helpedRows = old })
	dir := t.TempDir()
	mp, cp, err := ExampleFiles(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	fractions := DefaultSettings()
	fractions.Assign, fractions.Fractions = "fractions", [core.NumTiers]float64{0.1, 0.2, 0.3, 0.4}
	for _, s := range []Settings{DefaultSettings(), fractions} {
		for _, counts := range []string{"", cp} {
			want := writeWith(t, mp, s, counts, nil)
			for _, n := range []int{1, 3} {
				var calls atomic.Int64
				got := writeWith(t, mp, s, counts, helpersOf(t, mp, s, counts, n, &calls))
				if calls.Load() != int64(2*n) {
					t.Fatalf("%s counts %q: the helpers measured %d ranges, want %d", s.Assign, counts, calls.Load(), 2*n)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s counts %q, %d helpers: %d bytes written, differing from the %d measured alone", s.Assign, counts, n, len(got), len(want))
				}
			}
		}
	}
}

// writeWith measures, assigns and writes the model with the helpers given.
func writeWith(t *testing.T, path string, s Settings, counts string, hs []Helper) []byte {
	t.Helper()
	in, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	env := Env{Helpers: hs}
	if counts != "" {
		c, err := Open(counts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		env.Counts = c.File
	}
	p, err := Measure(in, s, env)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Reassign(s); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A helper that fails, or answers with the wrong number of rows, costs
// the job nothing but time: its rows are measured here, the plan says so,
// and the bytes are those measured alone.
func TestHelperFailure(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1")
	old := helpedRows
	helpedRows = 1000
	t.Cleanup(func() { helpedRows = old })
	mp, _, err := ExampleFiles(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	s := DefaultSettings()
	want := writeWith(t, mp, s, "", nil)
	for _, h := range []Helper{
		func(context.Context, string, int, int, func(int)) ([]core.RowStat, error) {
			return nil, errors.New("the worker's file is gone")
		},
		func(_ context.Context, _ string, lo, hi int, _ func(int)) ([]core.RowStat, error) {
			return make([]core.RowStat, hi-lo-1), nil
		},
	} {
		in, err := Open(mp)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		p, err := Measure(in, s, Env{Helpers: []Helper{h}})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if len(p.Warnings) != 2 || !strings.Contains(p.Warnings[0], "rows 10000..20000 were measured here") {
			t.Fatalf("warnings %q", p.Warnings)
		}
		if err := p.Reassign(s); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := p.Write(&b); err != nil || !bytes.Equal(b.Bytes(), want) {
			t.Fatalf("%v: the bytes differ from those measured alone", err)
		}
	}
	if _, err := ReadRowStats(make([]byte, 30)); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("30 bytes read as row stats: %v", err)
	}
}
