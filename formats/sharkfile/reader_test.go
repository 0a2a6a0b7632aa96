package sharkfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"shark/core"
	"shark/formats"
)

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
