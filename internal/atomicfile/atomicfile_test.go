package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCreateCommitAbort(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.WriteFile(in, []byte("input"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(in, link)
	for _, out := range []string{in, link, filepath.Join(dir, ".", "in")} {
		if _, err := Create(out, in); !errors.Is(err, ErrSameFile) {
			t.Fatalf("output %s over the input: %v", out, err)
		}
	}
	out := filepath.Join(dir, "out")
	f, err := Create(out, in)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("partial")
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("the output appeared before Commit")
	}
	f.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("Abort left %v", ents)
	}
	f, _ = Create(out)
	f.WriteString("whole")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "whole" {
		t.Fatalf("committed %q", b)
	}
}

func TestTempSaveAs(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.WriteFile(in, []byte("input"), 0o644)
	tmp, err := CreateTemp(dir, "result")
	if err != nil {
		t.Fatal(err)
	}
	tmp.WriteString("result")
	if err := tmp.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := tmp.SaveAs(in, in); !errors.Is(err, ErrSameFile) {
		t.Fatalf("saved over the input: %v", err)
	}
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := tmp.SaveAs(a); err != nil { // renamed
		t.Fatal(err)
	}
	if err := tmp.SaveAs(b); err != nil { // copied from a
		t.Fatal(err)
	}
	tmp.Remove() // a is a saved file now: it stays
	for _, p := range []string{a, b} {
		if got, _ := os.ReadFile(p); string(got) != "result" {
			t.Fatalf("%s holds %q", p, got)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Fatalf("left behind: %v", ents)
	}
	// An unsaved result is removed.
	tmp, _ = CreateTemp(dir, "result")
	tmp.Finish()
	tmp.Remove()
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Fatalf("left behind: %v", ents)
	}
}

// A pipe or a device named as the output is refused, before writing and
// again at the rename (one made after Create), and stays what it was: the
// rename replaced it with a regular file.
func TestSpecialOutputsRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	specials := []string{fifo}
	dev := filepath.Join(dir, "null")
	if err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err == nil {
		specials = append(specials, dev)
	} else {
		t.Logf("no device node (%v): pipes only", err)
	}
	for _, p := range specials {
		if err := CheckOutput(p); !errors.Is(err, ErrSpecialOutput) {
			t.Errorf("CheckOutput %s: %v", p, err)
		}
		if _, err := Create(p); !errors.Is(err, ErrSpecialOutput) {
			t.Errorf("Create %s: %v", p, err)
		}
	}
	late := filepath.Join(dir, "late")
	f, err := Create(late)
	if err != nil {
		t.Fatal(err)
	}
	unix.Mkfifo(late, 0o644)
	if err := f.Commit(); !errors.Is(err, ErrSpecialOutput) {
		t.Errorf("Commit over a pipe made since: %v", err)
	}
	for _, p := range append(specials, late) {
		if st, err := os.Lstat(p); err != nil || st.Mode().IsRegular() {
			t.Errorf("%s was replaced: %v", p, err)
		}
	}
}

// unwritableDir is a folder this process cannot create files in.
func unwritableDir(t *testing.T) string {
	if os.Geteuid() != 0 {
		d := t.TempDir()
		os.Chmod(d, 0o555)
		t.Cleanup(func() { os.Chmod(d, 0o755) })
		return d
	}
	// root writes in any folder its mode forbids; sysfs takes no new file.
	if f, err := os.CreateTemp("/sys", "probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Skip("no read-only folder")
	}
	return "/sys"
}

// An output whose folder takes no file fails CheckOutput, before any work.
func TestUnwritableFolder(t *testing.T) {
	out := filepath.Join(unwritableDir(t), "out.shark")
	if err := CheckOutput(out); !errors.Is(err, ErrUnwritable) {
		t.Fatalf("CheckOutput in a read-only folder: %v", err)
	}
	if err := CheckOutputInNewFolder(filepath.Join(unwritableDir(t), "new", "out.shark")); !errors.Is(err, ErrUnwritable) {
		t.Fatalf("CheckOutputInNewFolder in a folder to make in a read-only one: %v", err)
	}
	dir := t.TempDir()
	if err := CheckOutput(filepath.Join(dir, "none", "out.shark")); !errors.Is(err, ErrUnwritable) {
		t.Fatalf("CheckOutput in a folder that does not exist: %v", err)
	}
	if err := CheckOutput(filepath.Join(dir, "out.shark")); err != nil {
		t.Fatal(err)
	}
	if err := CheckOutputInNewFolder(filepath.Join(dir, "new/deeper/out.shark")); err != nil { // folders a command makes
		t.Fatal(err)
	}
}

// An output named through a symbolic link replaces the file the link
// names, and the link stays a link (the rename replaced the link itself);
// a link to nothing is refused.
func TestOutputThroughLink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "v1.shark")
	os.WriteFile(target, []byte("old"), 0o644)
	link := filepath.Join(dir, "current.shark")
	os.Symlink("v1.shark", link)
	f, err := Create(link)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Fatalf("the link's file holds %q", b)
	}
	tmp, _ := CreateTemp(dir, "r")
	tmp.WriteString("saved")
	if err := tmp.SaveAs(link); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "saved" {
		t.Fatalf("SaveAs through the link: %q", b)
	}
	dangling := filepath.Join(dir, "dangling")
	os.Symlink("nowhere/x", dangling)
	if _, err := Create(dangling); !errors.Is(err, ErrSpecialOutput) {
		t.Fatalf("a link to nothing: %v", err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatal("SaveAs replaced the link")
	}
}
