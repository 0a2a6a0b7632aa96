package ui

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	fynetest "fyne.io/fyne/v2/test"

	"shark/formats"
	"shark/formats/npy"
	"shark/internal/peakmem"
)

// peakEnv names, in the child process of TestCompressMemory, the table to
// compress.
const peakEnv = "SHARK_DESKTOP_PEAK_TABLE"

// Compressing a 1 GiB table in the app takes flat memory: the whole
// process, measured by the kernel (its peak resident set, VmHWM), stays
// under 200 MiB. The app runs in a child process of this test binary, so that
// nothing else the tests hold counts.
func TestCompressMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and compresses a 1 GiB table")
	}
	path := filepath.Join(t.TempDir(), "big.npy")
	writeTable(t, path, 1<<22, 64) // 1 GiB of float32
	peakFile := filepath.Join(t.TempDir(), "peak")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCompressInChild$", "-test.v")
	cmd.Env = append(os.Environ(), peakEnv+"="+path, peakmem.Env+"="+peakFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the app's process failed: %v\n%s", err, out)
	}
	peak, err := peakmem.Read(peakFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compressing a 1 GiB table in the app: whole-process peak %.1f MiB", float64(peak)/(1<<20))
	if peak > 200<<20 {
		t.Fatalf("peak memory %.1f MiB, over 200 MiB", float64(peak)/(1<<20))
	}
}

// TestCompressInChild is TestCompressMemory's child: open, plan, compress
// and save the table named by peakEnv, through the app.
func TestCompressInChild(t *testing.T) {
	path := os.Getenv(peakEnv)
	if path == "" {
		t.Skip("run by TestCompressMemory")
	}
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	u.Open(path)
	waitWithin(t, 10*time.Minute, "the plan", func() bool { return u.plan != nil && !u.compress.Disabled() })
	fynetest.Tap(u.compress)
	waitWithin(t, 10*time.Minute, "compression", func() bool { return u.ResultFile() != "" && !u.save.Disabled() })
	if err := u.SaveTo(path + ".shark"); err != nil {
		t.Fatal(err)
	}
	peakmem.Report()
}

// writeTable writes a rows x dim float32 .npy, streaming: rows of varied
// scale, so that the budget spreads them over the tiers.
func writeTable(t *testing.T, path string, rows, dim int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hdr, err := npy.HeaderBytes(formats.F32, []int64{int64(rows), int64(dim)})
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(hdr)
	r := rand.New(rand.NewPCG(1, 2))
	row := make([]float32, dim)
	buf := make([]byte, 0, 4*dim)
	for i := 0; i < rows; i++ {
		s := float32(0.05 * math.Exp(r.NormFloat64()))
		for j := range row {
			row[j] = s * float32(r.NormFloat64())
		}
		if _, err := w.Write(formats.EncodeFloat32(buf[:0], row)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}
