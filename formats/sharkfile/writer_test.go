package sharkfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"shark/core"
	"shark/core/kernels"
	"shark/formats"
)

// BenchmarkWriteTable measures quantizing an fp32 table into the mixed
// tiers (encode, checksum, write) against the table's fp32 bytes; compare
// with BenchmarkMemcpy in core/kernels. Sub-benchmarks: the kernels in use,
// and the portable ones.
func BenchmarkWriteTable(b *testing.B) {
	const rows, dim = 1 << 20, 64 // 256 MiB of float32
	tb := &core.Table{R: rows, D: dim, Data: make([]float32, rows*dim)}
	r := rand.New(rand.NewPCG(1, 1))
	for i := range tb.Data {
		tb.Data[i] = float32(r.NormFloat64())
	}
	tiers := make([]core.Tier, rows)
	for i := range tiers {
		// A budget-like mix: 1% fp32, 30% fp16, 30% int8, 39% int4.
		switch x := r.IntN(100); {
		case x < 1:
			tiers[i] = core.FP32
		case x < 31:
			tiers[i] = core.FP16
		case x < 61:
			tiers[i] = core.INT8
		default:
			tiers[i] = core.INT4
		}
	}
	for _, portable := range []bool{false, true} {
		name := "simd"
		if portable {
			name = "portable"
		}
		b.Run(name, func(b *testing.B) {
			kernels.ForcePortable(portable)
			defer kernels.ForcePortable(false)
			b.SetBytes(int64(rows * dim * 4))
			// A file in memory where there is one (tmpfs), so that the
			// disk's writeback of earlier runs does not throttle this one.
			dir := b.TempDir()
			if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
				if d, err := os.MkdirTemp("/dev/shm", "sharkbench"); err == nil {
					dir = d
					defer os.RemoveAll(d)
				}
			}
			f, err := os.Create(dir + "/t.shark")
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			for b.Loop() {
				f.Seek(0, io.SeekStart)
				w, _ := NewWriter(f) // a file: the one-pass writer
				if err := w.WriteTable("t", tb, tiers, TableInfo{SourceDType: formats.F32}, nil); err != nil {
					b.Fatal(err)
				}
				w.Close()
			}
		})
	}
}

// The one-pass writer (to a file) and the pass-per-tier writer (to a
// stream) produce the same bytes.
//
// To the file the writer is begun as version 1 and made version 2 by its
// first wide table; the stream is declared version 2 from its start, and
// the two files are one.
func TestOnePassEqualsStream(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) { testOnePassEqualsStream(t, l) })
	}
}

func testOnePassEqualsStream(t *testing.T, l layout) {
	_, cases, _ := buildLayout(t, 7, l)
	f, err := os.Create(t.TempDir() + "/x.shark")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, _ := NewWriter(f)
	w.allWide = l.allWide
	var buf bytes.Buffer
	wb := l.writer(t, &buf)
	for i, c := range cases {
		name := []string{"emb_a", "emb_b", "emb_c"}[i]
		if err := w.WriteTable(name, c.tb, c.tiers, TableInfo{SourceDType: formats.F32}, nil); err != nil {
			t.Fatal(err)
		}
		if err := wb.WriteTable(name, c.tb, c.tiers, TableInfo{SourceDType: formats.F32}, nil); err != nil {
			t.Fatal(err)
		}
		// A dense tensor after a table: the file position must be right.
		d := []byte{1, 2, 3, 4}
		w.WriteDense(name+".d", formats.U8, []int64{4}, bytes.NewReader(d))
		wb.WriteDense(name+".d", formats.U8, []int64{4}, bytes.NewReader(d))
	}
	w.Close()
	wb.Close()
	got, _ := os.ReadFile(f.Name())
	if !bytes.Equal(got, buf.Bytes()) {
		t.Fatalf("one pass wrote %d bytes, per-tier passes %d, and they differ", len(got), buf.Len())
	}
	rd, err := NewReader(bytes.NewReader(got), int64(len(got)))
	if err != nil {
		t.Fatal(err)
	}
	if err := rd.Verify(); err != nil {
		t.Fatal(err)
	}
}

// A wide table is refused by a writer begun as version 1 on a stream,
// which cannot be marked version 2 afterwards, before anything of the
// table is written.
func TestWideTableToVersion1Stream(t *testing.T) {
	_, cases, _ := buildLayout(t, 7, int2Layout)
	var buf bytes.Buffer
	w, _ := NewWriter(&buf)
	err := w.WriteTable("t", cases[0].tb, cases[0].tiers, TableInfo{SourceDType: formats.F32}, nil)
	if !errors.Is(err, ErrVersion) {
		t.Fatalf("got %v, want ErrVersion", err)
	}
	if buf.Len() != Align {
		t.Fatalf("%d bytes written, the preamble's %d expected", buf.Len(), Align)
	}
}

// failingFile is a file (io.WriterAt and io.Seeker, so the one-pass
// writer is used) whose writes fail once more than limit bytes went in.
type failingFile struct {
	*os.File
	limit, n int64
	mu       sync.Mutex
}

var errDiskFull = errors.New("disk full (test)")

func (f *failingFile) account(p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n += int64(len(p)); f.n > f.limit {
		return errDiskFull
	}
	return nil
}

func (f *failingFile) Write(p []byte) (int, error) {
	if err := f.account(p); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *failingFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.account(p); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

// failingSource fails to read row bad. It is a plain RowSource (no
// RowSlice), as a table read from a file is.
type failingSource struct {
	tb  *core.Table
	bad int
}

var errBadRow = errors.New("unreadable row (test)")

func (s failingSource) Rows() int { return s.tb.Rows() }

func (s failingSource) Dim() int { return s.tb.Dim() }

func (s failingSource) Row(r int, dst []float32) error {
	if r == s.bad {
		return errBadRow
	}
	return s.tb.Row(r, dst)
}

// A write that fails anywhere in a table, or a row that cannot be read,
// comes back as the error from WriteTable, wrapped; the writer does not
// hang or go on.
func TestWriteTableFailures(t *testing.T) {
	const rows, dim = 20000, 256 // five of the one-pass writer's windows
	tb := &core.Table{R: rows, D: dim, Data: make([]float32, rows*dim)}
	r := rand.New(rand.NewPCG(9, 9))
	for i := range tb.Data {
		tb.Data[i] = float32(r.NormFloat64())
	}
	tiers := make([]core.Tier, rows)
	for i := range tiers {
		tiers[i] = core.Tier(r.IntN(4))
	}
	dir := t.TempDir()
	for _, limit := range []int64{0, 100, 20000, 3 << 20, 6 << 20, 1 << 40} {
		f, err := os.Create(fmt.Sprintf("%s/f%d.shark", dir, limit))
		if err != nil {
			t.Fatal(err)
		}
		ff := &failingFile{File: f, limit: limit}
		w, err := NewWriter(ff)
		if err == nil {
			// The table's rows alone exceed every finite limit, so the
			// error must come from WriteTable, not later from Close.
			err = w.WriteTable("t", tb, tiers, TableInfo{SourceDType: formats.F32}, nil)
			if err == nil && limit == 1<<40 {
				err = w.Close()
			}
		}
		f.Close()
		if limit == 1<<40 {
			if err != nil {
				t.Fatalf("no limit: %v", err)
			}
			continue
		}
		if !errors.Is(err, errDiskFull) {
			t.Fatalf("limit %d: got %v, want the write error", limit, err)
		}
	}
	for _, bad := range []int{0, 1, 5000, rows - 1} {
		f, err := os.Create(fmt.Sprintf("%s/b%d.shark", dir, bad))
		if err != nil {
			t.Fatal(err)
		}
		w, _ := NewWriter(f)
		err = w.WriteTable("t", failingSource{tb, bad}, tiers, TableInfo{SourceDType: formats.F32}, nil)
		f.Close()
		if !errors.Is(err, errBadRow) {
			t.Fatalf("bad row %d: got %v, want the read error", bad, err)
		}
	}
}

// A table encoded in memory (core.Mixed) is written as it is: the same
// bytes as WriteTable of its source and tiers, and refused when its rows
// do not fit its tiers.
//
// Rows read from a file are written again as they are, with the block
// parameters read with them (Table.BlockParams).
func TestWriteEncodedTable(t *testing.T) {
	for _, l := range []layout{narrowLayout, allTiers} {
		t.Run(l.name, func(t *testing.T) { testWriteEncodedTable(t, l) })
	}
	_, cases, _ := build(t, 9)
	c := cases[0]
	mx, _ := core.Encode(c.tb, c.tiers)
	var rows [core.NumTiers][]byte
	for tr := range rows {
		rows[tr] = mx.TierRows(core.Tier(tr))
	}
	rows[core.INT8] = rows[core.INT8][1:]
	w, _ := NewWriter(io.Discard)
	if err := w.WriteEncodedTable("x", mx.D, mx.Tiers, rows, TableInfo{}); err == nil {
		t.Fatal("rows one byte short were written")
	}
}

func testWriteEncodedTable(t *testing.T, l layout) {
	_, cases, _ := buildLayout(t, 9, l)
	var a, b, again bytes.Buffer
	wa, wb, wc := l.writer(t, &a), l.writer(t, &b), l.writer(t, &again)
	names := []string{"emb_a", "emb_b", "emb_c"}
	for i, c := range cases {
		if err := wa.WriteTable(names[i], c.tb, c.tiers, TableInfo{SourceDType: formats.F32}, nil); err != nil {
			t.Fatal(err)
		}
		mx, err := core.Encode(c.tb, c.tiers)
		if err != nil {
			t.Fatal(err)
		}
		var rows [core.NumTiers][]byte
		for tr := range rows {
			rows[tr] = mx.TierRows(core.Tier(tr))
		}
		if err := wb.WriteEncodedTable(names[i], mx.D, mx.Tiers, rows, TableInfo{SourceDType: formats.F32, Params: mx.Params()}); err != nil {
			t.Fatal(err)
		}
	}
	wa.Close()
	wb.Close()
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("WriteEncodedTable wrote %d bytes, WriteTable %d, and they differ", b.Len(), a.Len())
	}
	rd, err := NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for i, tbl := range rd.Tables() {
		var rows [core.NumTiers][]byte
		for tr := range rows {
			rows[tr], _ = io.ReadAll(tbl.TierReader(core.Tier(tr)))
		}
		if err := wc.WriteEncodedTable(names[i], tbl.Dim(), cases[i].tiers, rows, TableInfo{SourceDType: formats.F32, Params: tbl.BlockParams()}); err != nil {
			t.Fatal(err)
		}
	}
	wc.Close()
	if !bytes.Equal(a.Bytes(), again.Bytes()) {
		t.Fatal("a file's rows and block parameters written again differ from the file")
	}
}
