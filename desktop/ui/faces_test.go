package ui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	fynetest "fyne.io/fyne/v2/test"

	"shark/compress"
	"shark/facetest"
)

// The desktop app writes, for each input, the bytes the application layer
// writes (and so the CLI and the page), driven through its widgets, and
// lists the summary every face lists.
func TestFacesWriteTheSameBytes(t *testing.T) {
	const created = 1700000000
	t.Setenv("SOURCE_DATE_EPOCH", fmt.Sprint(created))
	dir := t.TempDir()
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	for _, in := range facetest.Inputs(t, dir, ncf) {
		u.Open(in)
		checkRows(t, u, in)
		waitFor(t, "the plan of "+in, func() bool { return u.plan != nil && u.plan.In.Path == in && !u.compress.Disabled() })
		fynetest.Tap(u.compress)
		waitFor(t, "compression", func() bool { return u.ResultFile() != "" && !u.save.Disabled() })
		out := filepath.Join(dir, filepath.Base(in)+".shark")
		if err := u.SaveTo(out); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if want := facetest.Reference(t, in, created); !bytes.Equal(got, want) {
			t.Fatalf("%s: the desktop wrote %d bytes that differ from the application layer's %d", in, len(got), len(want))
		}
	}
}

// checkRows compares the tensor list with compress.Summarize of the file.
func checkRows(t *testing.T, u *UI, path string) {
	t.Helper()
	in, err := compress.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	sum := compress.Summarize(in)
	rows := u.Rows()
	if len(rows) != len(sum.Tensors) {
		t.Fatalf("%s: %d rows for %d tensors", path, len(rows), len(sum.Tensors))
	}
	for i, ts := range sum.Tensors {
		// The role alone: the rows per tier are in the details.
		want := [5]string{ts.Name, ts.ShapeText, ts.DType, ts.Size, ts.Role}
		if rows[i] != want {
			t.Fatalf("%s: row %d is %q, the summary %q", path, i, rows[i], want)
		}
	}
}
