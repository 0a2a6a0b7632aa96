package main

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"shark/formats"
	"shark/formats/npz"
)

// Regression tests for the hostile and odd inputs of an adversarial run
// against the CLI (one per row of its table, docs/robustness.md), each
// failing on the code before its fix.

func digest(t *testing.T, paths ...string) [][32]byte {
	t.Helper()
	var out [][32]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sha256.Sum256(b))
	}
	return out
}

// Row 1: an output naming an input, however spelt, is a usage error and
// every input stays as it was.
func TestOutputNeverReplacesInput(t *testing.T) {
	dir, train, test, model, _ := heldOutFiles(t)
	link := filepath.Join(dir, "link.tsv")
	os.Symlink(train, link)
	dotdot := filepath.Join(dir, "sub", "..", "m.shark")
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	hard := filepath.Join(dir, "hard.shark")
	os.Link(model, hard)
	before := digest(t, train, test, model)
	for _, args := range [][]string{
		{"train", train, "-o", train},
		{"train", train, "--test", test, "-o", test},
		{"train", train, "-o", link},
		{"compress", model, train, "-o", train},
		{"compress", model, train, "--test", test, "-o", filepath.Join(dir, "c.shark"), "--report", test},
		{"prune", model, train, "--test", test, "--keep", "5", "-o", model},
		{"prune", model, train, "--test", test, "--keep", "5", "-o", dotdot},
		{"prune", model, train, "--test", test, "--keep", "5", "-o", hard},
		{"eval", model, train, "--test", test}, // no output: runs
		{"experiment", "taylor", model, train, "--test", test, "-o", dir},
		{"export", model, "--to", "npz", "-o", model},
		{"quantize", train, "-o", train},
	} {
		code, _, e := shark(t, args...)
		if args[0] == "eval" {
			if code != 0 {
				t.Fatalf("%v: %d %s", args, code, e)
			}
			continue
		}
		if args[0] == "experiment" {
			// Its report files are not inputs: it writes them.
			if code != 0 {
				t.Fatalf("%v: %d %s", args, code, e)
			}
			continue
		}
		if code != 2 || !strings.Contains(e, "same file as an input") {
			t.Errorf("%v: exit %d, %q; want a usage error", args, code, e)
		}
	}
	if after := digest(t, train, test, model); !slicesEqual(before, after) {
		t.Fatal("an input changed")
	}
	// An experiment whose report would replace an input is refused too.
	rep := filepath.Join(dir, "report.md")
	os.WriteFile(rep, []byte("x"), 0o644)
	if code, _, e := shark(t, "experiment", "taylor", model, rep, "-o", dir); code != 2 || !strings.Contains(e, "same file") {
		t.Errorf("a report over its data: %d %q", code, e)
	}
}

func slicesEqual(a, b [][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Row 2: a line over the limit is a malformed row, counted once by
// --skip-bad, and the run ends (it spun forever on a 16 MiB line).
func TestLongLineEnds(t *testing.T) {
	_, train, _, model, _ := heldOutFiles(t)
	b, _ := os.ReadFile(train)
	long := filepath.Join(t.TempDir(), "long.tsv")
	os.WriteFile(long, append(append(b, bytes.Repeat([]byte("9"), 17<<20)...), '\n'), 0o644)
	done := make(chan struct{})
	go func() {
		defer close(done)
		code, _, e := shark(t, "eval", model, long, "--skip-bad")
		if code != 0 || !strings.Contains(e, "skipped 1 malformed rows") {
			t.Errorf("eval --skip-bad: %d %q", code, e)
		}
		code, _, e = shark(t, "eval", model, long)
		if code != 1 || !strings.Contains(e, "longer than 1048576 bytes") {
			t.Errorf("eval: %d %q", code, e)
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("a long line hangs the reader")
	}
}

// Row 10: a file that is not a regular file is refused at once: a pipe or
// a device cannot be read twice.
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	for _, data := range []string{"/dev/zero", fifo} {
		code, _, e := shark(t, "train", data, "-o", filepath.Join(dir, "m.shark"))
		if code != 1 || !strings.Contains(e, "not a regular file") {
			t.Errorf("train %s: %d %q", data, code, e)
		}
	}
}

// child runs this binary's main in a child process with env added, and
// returns its output and its peak resident memory.
func child(t *testing.T, env []string, args ...string) ([]byte, int64, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "SHARK_TEST_MAIN=1"), env...)
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil {
		return out, 0, err
	}
	return out, int64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) * 1024, err
}

// Row 3: a byte flipped in a stored .npz member is caught by the member's
// CRC-32: verify fails and quantize writes nothing (it quantized the
// corrupt values into a file that verified).
func TestNpzMemberCRC(t *testing.T) {
	needNCF(t)
	dir := t.TempDir()
	b, _ := os.ReadFile(ncf)
	i := bytes.Index(b, []byte("item_embedding_W.npy"))
	b[i+5000] ^= 0x40 // inside the member's data
	bad := filepath.Join(dir, "bad.npz")
	os.WriteFile(bad, b, 0o644)
	if code, _, e := shark(t, "verify", bad); code != 1 || !strings.Contains(e, `member "item_embedding_W.npy": CRC-32`) {
		t.Fatalf("verify: %d %q", code, e)
	}
	out := filepath.Join(dir, "out.shark")
	if code, _, e := shark(t, "quantize", bad, "-o", out); code != 1 || !strings.Contains(e, "CRC-32") {
		t.Fatalf("quantize: %d %q", code, e)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}

// Row 4: a deflated member is streamed, a window at a time: 1 GiB of
// deflated zeros (1 MiB in the file) is quantized in flat memory (it was
// read whole: 10.5 GB for 10 GiB, then out of memory).
func TestDeflatedMemberStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("inflates 1 GiB twice")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "zeros.npz")
	f, _ := os.Create(in)
	zw := npz.NewWriter(f, true)
	const rows, dim = 1 << 22, 64
	if err := zw.Write("emb", formats.F32, []int64{rows, dim}, io.LimitReader(zeroReader{}, rows*dim*4)); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	f.Close()
	out, peak, err := child(t, []string{"TMPDIR=" + dir}, "quantize", in, "-o", filepath.Join(dir, "z.shark"), "--json")
	st, _ := os.Stat(in)
	t.Logf("%d MiB of zeros in a %.1f MiB .npz: peak RSS %.1f MiB", rows*dim*4>>20, float64(st.Size())/(1<<20), float64(peak)/(1<<20))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if peak > 256<<20 {
		t.Fatalf("peak RSS %d MiB", peak>>20)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }
