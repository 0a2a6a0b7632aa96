package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
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
