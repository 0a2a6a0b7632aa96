package main

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shark/internal/peakmem"
)

// Hostile pickles (issue 21, items 1 and 2): each is refused at once, in
// bounded memory, by every command that opens it.

// pickleZip writes a torch.save-shaped zip whose data.pkl is pkl.
func pickleZip(t *testing.T, path string, pkl []byte, method uint16) {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, m := range []struct {
		name   string
		data   []byte
		method uint16
	}{{"archive/data.pkl", pkl, method}, {"archive/version", []byte("3\n"), zip.Store}} {
		w, err := z.CreateHeader(&zip.FileHeader{Name: m.name, Method: m.method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m.data)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rebuildOf is the pickle: _rebuild_tensor_v2 called with mid as
// its offset (and None as its storage).
func rebuildOf(mid []byte) []byte {
	pkl := []byte("\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(N)")
	pkl = append(pkl, mid...)
	return append(pkl, "NNtR."...)
}

// limitedRun runs shark (this test binary's main, or the binary named by
// SHARK_PICKLE_BIN, to check the test against another build) with 4 GiB
// of address space and a minute, and returns its exit code, stderr, time
// and peak memory.
func limitedRun(t *testing.T, args ...string) (int, string, time.Duration, int64) {
	t.Helper()
	bin := os.Args[0]
	if b := os.Getenv("SHARK_PICKLE_BIN"); b != "" {
		bin = b
	}
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) is needed to limit the child's memory")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	peakFile := filepath.Join(t.TempDir(), "peak")
	cmd := exec.CommandContext(ctx, "prlimit", append([]string{"--as=4294967296", "--", bin}, args...)...)
	cmd.Env = append(os.Environ(), "SHARK_TEST_MAIN=1", peakmem.Env+"="+peakFile)
	var e bytes.Buffer
	cmd.Stderr = &e
	start := time.Now()
	cmd.Run()
	took := time.Since(start)
	peak, _ := peakmem.Read(peakFile)
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	return code, e.String(), took, peak
}

func TestHostilePicklesRefused(t *testing.T) {
	dir := t.TempDir()
	files := []struct{ name, says string }{
		{"deep.pt", "nested deeper than 1000 levels"},
		{"dup.pt", "_rebuild_tensor of a None at offset ((("},
		{"dupbig.pt", "a data.pkl over 64 MiB"},
		{"dup60.pt", "4194305 values on the stack (more than 4194304 values on the pickle's stack at once"},
		{"memo.pt", "memo entry 2 of 1 values built"},
	}
	pickleZip(t, filepath.Join(dir, "deep.pt"), rebuildOf(bytes.Repeat([]byte{0x85}, 1e6)), zip.Store)
	pickleZip(t, filepath.Join(dir, "dup.pt"), rebuildOf(bytes.Repeat([]byte("2\x86"), 60)), zip.Store)
	dups := func(n int) []byte { return append(append([]byte("\x80\x02N"), bytes.Repeat([]byte("2"), n)...), '.') }
	pickleZip(t, filepath.Join(dir, "dupbig.pt"), dups(600<<20), zip.Deflate)
	pickleZip(t, filepath.Join(dir, "dup60.pt"), dups(60<<20), zip.Deflate)
	memos := append(append([]byte("\x80\x02N"), bytes.Repeat([]byte{0x94}, 60<<20)...), '.') // MEMOIZE
	pickleZip(t, filepath.Join(dir, "memo.pt"), memos, zip.Deflate)
	for _, f := range files {
		in := filepath.Join(dir, f.name)
		cmds := [][]string{{"inspect", in}, {"verify", in}, {"quantize", in, "-o", filepath.Join(dir, "out.shark")}}
		if f.name == "dup60.pt" || f.name == "memo.pt" {
			cmds = cmds[:1] // a second each: inflating data.pkl is most of the work refused
		}
		for _, args := range cmds {
			code, e, took, peak := limitedRun(t, args...)
			if code != 1 || !strings.Contains(e, f.says) || len(e) > 1000 {
				t.Errorf("%s %s: exit %d after %v, stderr %.600q; want exit 1 saying %q", args[0], f.name, code, took, e, f.says)
			}
			if peak > 1<<30 {
				t.Errorf("%s %s: peak memory %d MiB", args[0], f.name, peak>>20)
			}
			if _, err := os.Stat(filepath.Join(dir, "out.shark")); err == nil {
				t.Fatalf("%s %s left an output", args[0], f.name)
			}
		}
	}
}
