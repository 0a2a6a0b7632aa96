package ui

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	fynetest "fyne.io/fyne/v2/test"
)

// limitFileSize makes every write past n bytes of a file fail (EFBIG), as
// a full disk would, until the test ends: a real failure mid-way through
// a write, for root too (who ignores a folder's permissions).
func limitFileSize(t *testing.T, n uint64) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip(err)
	}
	lim := syscall.Rlimit{Cur: n, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old) })
}

// An export that fails mid-way over an older export leaves the older one
// and nothing else.
func TestExportFailingMidwayLeavesFiles(t *testing.T) {
	u, dir := compressedExample(t)
	shark := filepath.Join(dir, "model.shark")
	if err := u.SaveTo(shark); err != nil {
		t.Fatal(err)
	}
	u.Open(shark)
	os.WriteFile(filepath.Join(dir, "old.npz"), []byte("an earlier export"), 0o644)
	before := fileHashes(t, dir)
	limitFileSize(t, 64<<10) // the export is megabytes
	fynetest.Tap(u.export)
	fynetest.Tap(button(t, top(t, u), "Choose file…"))
	chooseInDialog(t, u, "old.npz", "Yes")
	expectError(t, u, "an export failing mid-way", "file too large")
	if s := u.status.Text; !strings.HasPrefix(s, "Exporting to old.npz failed: ") || !strings.Contains(s, "file too large") {
		t.Errorf("after a failed export the status says %q", s) // it said "Exporting to old.npz…"
	}
	sameFiles(t, "an export failing mid-way", dir, before)
}

// A save that must copy (the result's folder is on another file system)
// and fails mid-way leaves the file it would have replaced.
func TestSaveFailingMidwayLeavesFiles(t *testing.T) {
	u, dir := compressedExample(t)
	other, err := os.MkdirTemp("/dev/shm", "shark-save-")
	if err != nil {
		t.Skip(err)
	}
	defer os.RemoveAll(other)
	if a, b := device(t, dir), device(t, other); a == b {
		t.Skip("/dev/shm is on the same file system as the test's folder")
	}
	old := filepath.Join(other, "old.shark")
	os.WriteFile(old, []byte("an earlier result"), 0o644)
	before, inputs := fileHashes(t, other), fileHashes(t, dir)
	limitFileSize(t, 64<<10)
	if err := u.SaveTo(old); err == nil {
		t.Fatal("a copy past the file size limit succeeded")
	}
	sameFiles(t, "a save failing mid-way", other, before)
	sameFiles(t, "a save failing mid-way", dir, inputs)
}

func device(t *testing.T, path string) uint64 {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return uint64(st.Sys().(*syscall.Stat_t).Dev)
}
