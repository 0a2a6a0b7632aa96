package compress

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"shark/core"
	"shark/formats/sharkfile"
)

// encodersOf makes n encoders that each encode on an input of their own,
// opened from the same file: as the page's other Web Workers do.
func encodersOf(t *testing.T, path string, n int, calls *atomic.Int64) []Encoder {
	t.Helper()
	var es []Encoder
	for range n {
		in, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Close() })
		es = append(es, func(ctx context.Context, table string, lo, hi int, tiers []core.Tier, progress func(int)) (sharkfile.RowsPart, error) {
			calls.Add(1)
			if len(tiers) != hi-lo {
				t.Errorf("%d tiers for rows %d..%d", len(tiers), lo, hi)
			}
			part := new(sharkfile.BufferedPart)
			return part, EncodeRange(in, Env{Context: ctx}, table, lo, tiers, part.Writers(), progress)
		})
	}
	return es
}

// writeEnv measures, assigns and writes the model under env (and counts).
func writeEnv(t *testing.T, path string, s Settings, counts string, env Env) ([]byte, error) {
	t.Helper()
	in, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if counts != "" {
		c, err := Open(counts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		env.Counts = c.File
	}
	p, err := NewPlan(in, s, env)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var b bytes.Buffer
	err = p.Write(&b)
	return b.Bytes(), err
}

// A plan written with encoders, each encoding a range of every large
// table, writes the bytes written alone: with access counts and with row
// norms, with one encoder and with three. A plan by fractions measures
// its errors as it writes, in row order, alone.
func TestEncodersWriteTheSameBytes(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1")
	old := helpedRows
	helpedRows = 1000 // the example's tables, of 20,000 and 8,000 rows, are shared
	t.Cleanup(func() { helpedRows = old })
	mp, cp, err := ExampleFiles(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	fractions := DefaultSettings()
	fractions.Assign, fractions.Fractions = "fractions", [core.NumTiers]float64{0.1, 0.2, 0.3, 0.4}
	for _, s := range []Settings{DefaultSettings(), fractions} {
		for _, counts := range []string{"", cp} {
			want, err := writeEnv(t, mp, s, counts, Env{})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 3} {
				var calls atomic.Int64
				got, err := writeEnv(t, mp, s, counts, Env{Encoders: encodersOf(t, mp, n, &calls)})
				if err != nil {
					t.Fatal(err)
				}
				wantCalls := int64(2 * n)
				if s.Assign == "fractions" {
					wantCalls = 0
				}
				if calls.Load() != wantCalls {
					t.Fatalf("%s counts %q: the encoders encoded %d ranges, want %d", s.Assign, counts, calls.Load(), wantCalls)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s counts %q, %d encoders: %d bytes written, differing from the %d written alone", s.Assign, counts, n, len(got), len(want))
				}
			}
			// The range encoded here waits in a buffer the face gives.
			var buffers atomic.Int64
			buffer := func() PartBuffer { buffers.Add(1); return new(sharkfile.BufferedPart) }
			var calls atomic.Int64
			got, err := writeEnv(t, mp, s, counts, Env{Encoders: encodersOf(t, mp, 1, &calls), PartBuffer: buffer})
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s counts %q, with the face's buffers: %v, or the bytes differ", s.Assign, counts, err)
			}
			if want := calls.Load(); buffers.Load() != want {
				t.Fatalf("%s counts %q: %d buffers asked for, %d tables written in parts", s.Assign, counts, buffers.Load(), want)
			}
		}
	}
}

// An encoder that fails costs the job nothing but time: its rows are
// encoded here, a warning says so, and the bytes are those written alone.
// A part of the wrong size fails the write; a cancel stops it.
func TestEncoderFailure(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1")
	old := helpedRows
	helpedRows = 1000
	t.Cleanup(func() { helpedRows = old })
	mp, _, err := ExampleFiles(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	s := DefaultSettings()
	want, _ := writeEnv(t, mp, s, "", Env{})
	var warned []string
	gone := func(context.Context, string, int, int, []core.Tier, func(int)) (sharkfile.RowsPart, error) {
		return nil, errors.New("the worker's file is gone")
	}
	got, err := writeEnv(t, mp, s, "", Env{Encoders: []Encoder{gone}, Warn: func(w string) { warned = append(warned, w) }})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%v: the bytes differ from those written alone", err)
	}
	if len(warned) != 4 || !strings.Contains(warned[2], "rows 10000..20000 were encoded here") || !strings.Contains(warned[3], "rows 4000..8000 were encoded here") {
		t.Fatalf("warnings %q", warned)
	}
	var calls atomic.Int64
	good := encodersOf(t, mp, 1, &calls)[0]
	short := func(ctx context.Context, table string, lo, hi int, tiers []core.Tier, progress func(int)) (sharkfile.RowsPart, error) {
		return good(ctx, table, lo, hi-1, tiers[:len(tiers)-1], progress)
	}
	if _, err := writeEnv(t, mp, s, "", Env{Encoders: []Encoder{short}}); !errors.Is(err, sharkfile.ErrPartSize) {
		t.Fatalf("a part a row short: %v, want ErrPartSize", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop := func(ctx context.Context, table string, lo, hi int, tiers []core.Tier, progress func(int)) (sharkfile.RowsPart, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if _, err := writeEnv(t, mp, s, "", Env{Context: ctx, Encoders: []Encoder{stop}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while encoding: %v", err)
	}
}
