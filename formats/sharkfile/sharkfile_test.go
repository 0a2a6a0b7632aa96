package sharkfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"shark/core"
	"shark/core/kernels"
	"shark/formats"
)

type tableCase struct {
	tb    *core.Table
	tiers []core.Tier
}

// build writes a file with a dense tensor and two mixed tables.
func build(t testing.TB, seed uint64) ([]byte, []tableCase, []byte) {
	r := rand.New(rand.NewPCG(seed, 9))
	var cases []tableCase
	for _, sh := range [][2]int{{600, 8}, {300, 7}, {3, 5}} {
		tb := &core.Table{R: sh[0], D: sh[1], Data: make([]float32, sh[0]*sh[1])}
		for i := range tb.Data {
			tb.Data[i] = float32(r.NormFloat64())
		}
		tiers := make([]core.Tier, sh[0])
		for i := range tiers {
			tiers[i] = core.Tier(r.IntN(4))
		}
		cases = append(cases, tableCase{tb, tiers})
	}
	dense := make([]byte, 4*33)
	for i := range dense {
		dense[i] = byte(r.Uint32())
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.SetMethod(Method{WPos: 1, WNeg: 0.25, Gamma: 1, PrioritySource: "row-norm", Assignment: "fractions"})
	if err := w.WriteDense("bias", formats.F32, []int64{3, 11}, bytes.NewReader(dense)); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if err := w.WriteTable([]string{"emb_a", "emb_b", "emb_c"}[i], c.tb, c.tiers, TableInfo{SourceDType: formats.F32}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), cases, dense
}

func TestRoundTrip(t *testing.T) {
	data, cases, dense := build(t, 1)
	rd, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if err := rd.Verify(); err != nil {
		t.Fatal(err)
	}
	_, dr, err := rd.Dense("bias")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(dr)
	if !bytes.Equal(got, dense) {
		t.Fatal("dense tensor changed")
	}
	for i, tbl := range rd.Tables() {
		c := cases[i]
		row := make([]float32, c.tb.D)
		want := make([]float32, c.tb.D)
		enc := make([]byte, 4*c.tb.D+4)
		// Random order: O(1) access must not depend on reading in sequence.
		for _, r := range rand.Perm(c.tb.R) {
			if err := tbl.Row(r, row); err != nil {
				t.Fatal(err)
			}
			if tbl.Tier(r) != c.tiers[r] {
				t.Fatalf("row %d tier %v want %v", r, tbl.Tier(r), c.tiers[r])
			}
			src := c.tb.Data[r*c.tb.D : (r+1)*c.tb.D]
			core.EncodeRow(c.tiers[r], enc, src)
			core.DecodeRow(c.tiers[r], want, enc)
			for j := range row {
				if math.Float32bits(row[j]) != math.Float32bits(want[j]) {
					t.Fatalf("table %d row %d col %d: %v want %v", i, r, j, row[j], want[j])
				}
			}
		}
	}
	// The formats view reads the same.
	f, err := formats.OpenReaderAt(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != "shark" || len(f.Tensors) != 4 || f.Tensors[1].Tiers == nil {
		t.Fatalf("file view: %+v", f)
	}
	vals, err := f.Tensors[1].Float32s()
	if err != nil || len(vals) != 600*8 {
		t.Fatalf("dequantized read: %d values, %v", len(vals), err)
	}
}

// Flipping any byte, or truncating anywhere, must make Open or Verify fail,
// and no read may return a wrong row.
func TestCorruption(t *testing.T) {
	data, cases, dense := build(t, 2)
	good := make([][][]float32, len(cases))
	rd0, _ := NewReader(bytes.NewReader(data), int64(len(data)))
	for i, tbl := range rd0.Tables() {
		for r := 0; r < tbl.Rows(); r++ {
			row := make([]float32, tbl.Dim())
			tbl.Row(r, row)
			good[i] = append(good[i], row)
		}
	}
	step := 1
	if testing.Short() {
		step = 7
	}
	mut := make([]byte, len(data))
	for off := 0; off < len(data); off += step {
		copy(mut, data)
		mut[off] ^= 0x5a
		rd, err := NewReader(bytes.NewReader(mut), int64(len(mut)))
		if err != nil {
			if !errors.Is(err, formats.ErrCorrupt) && !errors.Is(err, formats.ErrChecksum) && !errors.Is(err, formats.ErrUnsupported) {
				t.Fatalf("flip at %d: unexpected error kind: %v", off, err)
			}
			continue
		}
		if err := rd.Verify(); err == nil {
			t.Fatalf("flip at %d: Verify passed", off)
		}
		failed := false
		for i, tbl := range rd.Tables() {
			row := make([]float32, tbl.Dim())
			for r := 0; r < tbl.Rows(); r++ {
				if err := tbl.Row(r, row); err != nil {
					failed = true
					continue
				}
				for j := range row {
					if math.Float32bits(row[j]) != math.Float32bits(good[i][r][j]) {
						t.Fatalf("flip at %d: table %d row %d read wrong without an error", off, i, r)
					}
				}
			}
		}
		if _, dr, err := rd.Dense("bias"); err == nil {
			b, err := io.ReadAll(dr)
			if err != nil {
				failed = true
			} else if !bytes.Equal(b, dense) {
				t.Fatalf("flip at %d: dense read wrong without an error", off)
			}
		}
		if !failed {
			t.Fatalf("flip at %d: every read succeeded", off)
		}
	}
	for n := 0; n < len(data); n += step {
		if _, err := NewReader(bytes.NewReader(data[:n]), int64(n)); err == nil {
			t.Fatalf("truncated to %d bytes: opened", n)
		}
	}
}

func FuzzShark(f *testing.F) {
	data, _, _ := build(f, 3)
	f.Add(data)
	f.Fuzz(func(t *testing.T, b []byte) {
		rd, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		verr := rd.Verify()
		for _, tbl := range rd.Tables() {
			row := make([]float32, tbl.Dim())
			for r := 0; r < tbl.Rows() && r < 2000; r++ {
				if err := tbl.Row(r, row); err != nil && verr == nil {
					t.Fatalf("verified file, row %d unreadable: %v", r, err)
				}
			}
		}
	})
}

// The serving path: a memory-mapped file read from many goroutines at once.
func TestOpenConcurrentRows(t *testing.T) {
	data, cases, _ := build(t, 4)
	path := t.TempDir() + "/m.shark"
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl := f.Tables()[0]
	c := cases[0]
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 1))
			row, want := make([]float32, c.tb.D), make([]float32, c.tb.D)
			enc := make([]byte, 4*c.tb.D+4)
			for i := 0; i < 2000; i++ {
				id := r.IntN(c.tb.R)
				if err := tbl.Row(id, row); err != nil {
					errs <- err
					return
				}
				core.EncodeRow(c.tiers[id], enc, c.tb.Data[id*c.tb.D:(id+1)*c.tb.D])
				core.DecodeRow(c.tiers[id], want, enc)
				for j := range row {
					if row[j] != want[j] {
						errs <- fmt.Errorf("row %d differs", id)
						return
					}
				}
			}
		}(uint64(g))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := tbl.Row(c.tb.R, make([]float32, c.tb.D)); err == nil {
		t.Fatal("row past the end read")
	}
}

func ExampleOpen() {
	f, err := Open("model.shark")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	tbl, err := f.Table("user_embedding")
	if err != nil {
		log.Fatal(err)
	}
	row := make([]float32, tbl.Dim())
	// O(1): dequantized from whichever tier row 42 is stored in.
	if err := tbl.Row(42, row); err != nil {
		log.Fatal(err)
	}
	fmt.Println(tbl.Tier(42), row[:4])
}

// Pool equals reading each row and adding them in order, mapped or not.
func TestPool(t *testing.T) {
	data, cases, _ := build(t, 5)
	path := t.TempDir() + "/p.shark"
	os.WriteFile(path, data, 0o644)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plain, _ := NewReader(bytes.NewReader(data), int64(len(data)))
	r := rand.New(rand.NewPCG(6, 6))
	for ti, c := range cases {
		loaded, _ := NewReader(bytes.NewReader(data), int64(len(data)))
		if err := loaded.Tables()[ti].LoadRows(); err != nil {
			t.Fatal(err)
		}
		for _, rd := range []*Reader{f.Reader, plain, loaded} {
			tbl := rd.Tables()[ti]
			for trial := 0; trial < 50; trial++ {
				ids := make([]int, r.IntN(3*core.PoolGroup))
				for i := range ids {
					ids[i] = r.IntN(c.tb.R)
				}
				want := make([]float32, c.tb.D)
				row := make([]float32, c.tb.D)
				for _, id := range ids {
					tbl.Row(id, row)
					for j := range want {
						want[j] += row[j]
					}
				}
				got := make([]float32, c.tb.D)
				if err := tbl.Pool(ids, false, got); err != nil {
					t.Fatal(err)
				}
				for j := range got {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("table %d: pooled %v, row by row %v", ti, got, want)
					}
				}
			}
			if err := tbl.Pool([]int{c.tb.R}, false, make([]float32, c.tb.D)); err == nil {
				t.Fatal("out-of-range id pooled")
			}
		}
	}
}

// PoolBags of a batch equals Pool of each bag, bit for bit, with the table
// mapped, read through ReadAt or loaded, for sums and means; empty bags give
// zeros. Close frees loaded rows.
func TestPoolBags(t *testing.T) {
	data, cases, _ := build(t, 8)
	path := t.TempDir() + "/p.shark"
	os.WriteFile(path, data, 0o644)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := NewReader(bytes.NewReader(data), int64(len(data)))
	loaded, _ := Open(path)
	for _, tb := range loaded.Tables() {
		if err := tb.LoadRows(); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(8, 8))
	for ti, c := range cases {
		for _, rd := range []*Reader{f.Reader, plain, loaded.Reader} {
			tbl := rd.Tables()[ti]
			for trial := 0; trial < 20; trial++ {
				offsets := []int{0}
				var ids []int
				for b := r.IntN(5); b > 0; b-- {
					k := r.IntN(3 * core.PoolGroup)
					if r.IntN(5) == 0 {
						k = 0
					}
					for ; k > 0; k-- {
						ids = append(ids, r.IntN(c.tb.R))
					}
					offsets = append(offsets, len(ids))
				}
				mean := trial%2 == 0
				d := c.tb.D
				got := make([]float32, (len(offsets)-1)*d)
				if err := tbl.PoolBags(ids, offsets, mean, got); err != nil {
					t.Fatal(err)
				}
				for b := 0; b+1 < len(offsets); b++ {
					want := make([]float32, d)
					if err := tbl.Pool(ids[offsets[b]:offsets[b+1]], mean, want); err != nil {
						t.Fatal(err)
					}
					for j := range want {
						if math.Float32bits(got[b*d+j]) != math.Float32bits(want[j]) {
							t.Fatalf("table %d bag %d: batch %v, alone %v", ti, b, got[b*d:(b+1)*d], want)
						}
					}
				}
			}
			if err := tbl.PoolBags([]int{0, 1}, []int{0, 1}, false, make([]float32, 4*c.tb.D)); !errors.Is(err, core.ErrInvalid) {
				t.Fatalf("offsets not ending at len(ids): %v", err)
			}
			if err := tbl.PoolBags([]int{-1}, []int{0, 1}, false, make([]float32, c.tb.D)); !errors.Is(err, core.ErrInvalid) {
				t.Fatalf("negative id: %v", err)
			}
		}
	}
	// Concurrent lookups on the loaded tables (run under -race in CI).
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rr := rand.New(rand.NewPCG(uint64(g), 1))
			for ti, c := range cases {
				tbl := loaded.Tables()[ti]
				ids := make([]int, 100)
				for i := range ids {
					ids[i] = rr.IntN(c.tb.R)
				}
				a := make([]float32, 2*c.tb.D)
				b := make([]float32, 2*c.tb.D)
				tbl.PoolBags(ids, []int{0, 37, 100}, false, a)
				tbl.PoolBags(ids, []int{0, 37, 100}, false, b)
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
						t.Errorf("table %d: concurrent lookups differ", ti)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	f.Close()
	if err := loaded.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tb := range loaded.Tables() {
		for _, b := range tb.loaded {
			if b.Bytes != nil {
				t.Fatal("Close left loaded rows")
			}
		}
	}
}

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
func TestOnePassEqualsStream(t *testing.T) {
	_, cases, _ := build(t, 7)
	f, err := os.Create(t.TempDir() + "/x.shark")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, _ := NewWriter(f)
	var buf bytes.Buffer
	wb, _ := NewWriter(&buf)
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

// BenchmarkPoolBags measures embedding-bag lookups (batches of 256 bags of
// 32 Zipf(1.05) ids) from a compressed table loaded into memory against
// core.PoolBagsF32 on its fp32 copy, on a table that fits the cache and on
// one several times larger. Rows are ranked by popularity and the most
// popular get the finer tiers, as a budget from access counts gives them.
// Compare the two sub-benchmarks' ns/op for the lookup ratio.
func BenchmarkPoolBags(b *testing.B) {
	for _, rows := range []int{4096, 1 << 21} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) { benchPoolBags(b, rows) })
	}
}

func benchPoolBags(b *testing.B, rows int) {
	{
		const dim, bags, bagSize = 64, 256, 32
		scatter := func(rank uint64) int { return int(rank * 2654435761 % uint64(rows)) }
		tb := &core.Table{R: rows, D: dim, Data: make([]float32, rows*dim)}
		r := rand.New(rand.NewPCG(1, 1))
		for i := range tb.Data {
			tb.Data[i] = float32(r.NormFloat64())
		}
		tiers := make([]core.Tier, rows)
		for rank := range rows {
			t := core.INT4
			switch f := float64(rank) / float64(rows); {
			case f < 0.0004:
				t = core.FP32
			case f < 0.35:
				t = core.FP16
			case f < 0.62:
				t = core.INT8
			}
			tiers[scatter(uint64(rank))] = t
		}
		var buf bytes.Buffer
		w, _ := NewWriter(&buf)
		if err := w.WriteTable("t", tb, tiers, TableInfo{SourceDType: formats.F32}, nil); err != nil {
			b.Fatal(err)
		}
		w.Close()
		rd, err := NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			b.Fatal(err)
		}
		tbl := rd.Tables()[0]
		if err := tbl.LoadRows(); err != nil {
			b.Fatal(err)
		}
		buf = bytes.Buffer{}
		z := rand.NewZipf(r, 1.05, 1, uint64(rows-1))
		ids := make([]int, 64*bags*bagSize)
		for i := range ids {
			ids[i] = scatter(z.Uint64())
		}
		offsets := make([]int, bags+1)
		for i := range offsets {
			offsets[i] = i * bagSize
		}
		out := make([]float32, bags*dim)
		batch := func(i int) []int { i %= 64; return ids[i*bags*bagSize : (i+1)*bags*bagSize] }
		b.Run("compressed", func(b *testing.B) {
			i := 0
			for b.Loop() {
				if err := tbl.PoolBags(batch(i), offsets, false, out); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("fp32", func(b *testing.B) {
			i := 0
			for b.Loop() {
				if err := core.PoolBagsF32(tb.Data, dim, batch(i), offsets, false, out); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
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
func (s failingSource) Dim() int  { return s.tb.Dim() }
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
