package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/formats"
	"shark/formats/npy"
	"shark/formats/npz"
	"shark/internal/peakmem"
)

// TestMain lets a test run this package's main in a child process, where
// the child's heap limit and peak memory can be set and measured.
func TestMain(m *testing.M) {
	if os.Getenv("SHARK_TEST_MAIN") == "1" {
		stopOnSignals()
		code := run(os.Args[1:], os.Stdout, os.Stderr)
		peakmem.Report()
		os.Exit(code)
	}
	os.Exit(testsWithNCF(m))
}

// writeBigNpy writes rows x dim float32 values to path without holding them.
func writeBigNpy(t testing.TB, path string, rows, dim int) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hdr, _ := npy.HeaderBytes(formats.F32, []int64{int64(rows), int64(dim)})
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(hdr)
	r := rand.New(rand.NewPCG(1, 2))
	var b [4]byte
	for i := 0; i < rows*dim; i++ {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(float32(r.NormFloat64()*0.05)))
		w.Write(b[:])
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// writeCountsNpz writes big.pos and big.neg access counts, [periods, rows]
// int32, to path without holding them.
func writeCountsNpz(t testing.TB, path string, periods, rows int) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := npz.NewWriter(f, false)
	for i, name := range []string{"big.pos", "big.neg"} {
		r := rand.New(rand.NewPCG(uint64(i), 3))
		pr, pw := io.Pipe()
		go func() {
			bw := bufio.NewWriterSize(pw, 1<<16)
			var b [4]byte
			for j := 0; j < periods*rows; j++ {
				binary.LittleEndian.PutUint32(b[:], uint32(r.IntN(1000)))
				bw.Write(b[:])
			}
			bw.Flush()
			pw.Close()
		}()
		if err := w.Write(name, formats.I32, []int64{int64(periods), int64(rows)}, pr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// A table eight times the heap limit is compressed with the whole process's
// peak resident memory under that limit: rows are read from the file in
// windows, and the per-row stats are spilled to disk. With access counts
// (two periods, 32 MiB of them), the counts are streamed into priorities
// on disk too.
func TestOutOfCoreUnderHeapLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 512 MiB file")
	}
	const limit = 64 << 20
	dir := t.TempDir()
	in := filepath.Join(dir, "big.npy")
	rows, dim := 2<<20, 64 // 512 MiB of float32
	writeBigNpy(t, in, rows, dim)
	counts := filepath.Join(dir, "counts.npz")
	writeCountsNpz(t, counts, 2, rows)
	for _, extra := range [][]string{nil, {"--counts", counts}} {
		out := filepath.Join(dir, "big.shark")
		args := append([]string{"quantize", in, "-o", out, "--budget", "30%", "--json"}, extra...)
		outb, peak, err := child(t, []string{"GOMEMLIMIT=64MiB", "TMPDIR=" + dir}, args...)
		if err != nil {
			t.Fatalf("quantize %v: %v\n%s", extra, err, outb)
		}
		t.Logf("table %d MiB %v, heap limit %d MiB, peak RSS %.1f MiB", rows*dim*4>>20, extra, limit>>20, float64(peak)/(1<<20))
		if peak >= limit {
			t.Fatalf("%v: peak RSS %d bytes is over the %d-byte limit", extra, peak, limit)
		}
		if !strings.Contains(string(outb), `"output_bytes"`) {
			t.Fatalf("output: %s", outb)
		}
		if extra != nil && !strings.Contains(string(outb), `"counts"`) {
			t.Fatalf("counts not used: %s", outb)
		}
		if code, _, e := shark(t, "verify", out); code != 0 {
			t.Fatal(e)
		}
	}
}
