package ui

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	fynetest "fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"shark/compress"
	"shark/formats"
	"shark/internal/atomicfile"
)

// The save dialog, the checks after it, a refusal, a cancel or a failure
// never change a file that is there: each step below goes through the
// dialog as a user does (type a name, confirm the overwrite) and compares
// every file in the folder with its bytes before.

// fileHashes is every regular file in dir by name, with its SHA-256.
func fileHashes(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][32]byte{}
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
			m[e.Name()] = sha256.Sum256(b)
		}
	}
	return m
}

// sameFiles fails unless dir holds exactly the files of before, each with
// its bytes: nothing changed, removed, or left behind.
func sameFiles(t *testing.T, step, dir string, before map[string][32]byte) {
	t.Helper()
	after := fileHashes(t, dir)
	var bad []string
	for name, h := range before {
		if a, ok := after[name]; !ok {
			bad = append(bad, name+" is gone")
		} else if a != h {
			bad = append(bad, name+" changed")
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			bad = append(bad, name+" appeared")
		}
	}
	if len(bad) > 0 {
		t.Fatalf("%s: %s", step, strings.Join(bad, ", "))
	}
}

// objects calls visit on o and everything drawn inside it.
func objects(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	visit(o)
	switch c := o.(type) {
	case *fyne.Container:
		for _, k := range c.Objects {
			objects(k, visit)
		}
	case fyne.Widget:
		for _, k := range fynetest.WidgetRenderer(c).Objects() {
			objects(k, visit)
		}
	}
}

// top is the window's topmost dialog.
func top(t *testing.T, u *UI) fyne.CanvasObject {
	t.Helper()
	o := u.Window.Canvas().Overlays().Top()
	if o == nil {
		t.Fatal("no dialog is shown")
	}
	return o
}

// button is the visible button labelled label in o.
func button(t *testing.T, o fyne.CanvasObject, label string) *widget.Button {
	t.Helper()
	var b *widget.Button
	objects(o, func(k fyne.CanvasObject) {
		if w, ok := k.(*widget.Button); ok && w.Text == label && w.Visible() {
			b = w
		}
	})
	if b == nil {
		t.Fatalf("no %q button in the dialog", label)
	}
	return b
}

// dialogText is every label's text in o.
func dialogText(o fyne.CanvasObject) string {
	var s []string
	objects(o, func(k fyne.CanvasObject) {
		switch w := k.(type) {
		case *widget.Label:
			s = append(s, w.Text)
		case *widget.RichText:
			s = append(s, w.String())
		}
	})
	return strings.Join(s, "\n")
}

// chooseInDialog types name into the open file dialog and presses Save;
// when Fyne asks to overwrite, overwrite answers it.
func chooseInDialog(t *testing.T, u *UI, name, overwrite string) {
	t.Helper()
	d := top(t, u)
	var entry *widget.Entry
	objects(d, func(k fyne.CanvasObject) {
		if e, ok := k.(*widget.Entry); ok {
			entry = e
		}
	})
	if entry == nil {
		t.Fatal("no file name entry in the dialog")
	}
	entry.SetText(name)
	fynetest.Tap(button(t, d, "Save"))
	if overwrite != "" {
		c := top(t, u)
		if !strings.Contains(dialogText(c), "overwrite") {
			t.Fatalf("Fyne did not ask to overwrite %s: %q", name, dialogText(c))
		}
		fynetest.Tap(button(t, c, overwrite))
	}
}

// closeDialogs dismisses what is left shown (an error, a file dialog).
func closeDialogs(u *UI) {
	for o := u.Window.Canvas().Overlays().Top(); o != nil; o = u.Window.Canvas().Overlays().Top() {
		u.Window.Canvas().Overlays().Remove(o)
	}
}

// expectError waits for the job to end and fails unless the dialog on top
// is an error saying want.
func expectError(t *testing.T, u *UI, step, want string) {
	t.Helper()
	settle(t, u)
	if got := dialogText(top(t, u)); !strings.Contains(got, want) {
		t.Fatalf("%s: the dialog says %q, not %q", step, got, want)
	}
	closeDialogs(u)
}

// compressedExample opens the example model (a copy named model.npz in
// its own folder) and compresses it.
func compressedExample(t *testing.T) (*UI, string) {
	dir := t.TempDir()
	if _, _, err := compress.ExampleFiles(dir, 1); err != nil {
		t.Fatal(err)
	}
	a := fynetest.NewApp()
	t.Cleanup(a.Quit)
	u := New(a)
	u.Window.Show()
	u.Open(filepath.Join(dir, "model.npz"))
	waitFor(t, "the plan", func() bool { return u.plan != nil && !u.compress.Disabled() })
	settle(t, u)
	fynetest.Tap(u.compress)
	waitFor(t, "compression", func() bool { return u.ResultFile() != "" && !u.save.Disabled() })
	settle(t, u)
	return u, dir
}

func TestSaveDialogLeavesFilesAlone(t *testing.T) {
	u, dir := compressedExample(t)
	old := filepath.Join(dir, "old.shark")
	os.WriteFile(old, []byte("an earlier result"), 0o644)
	before := fileHashes(t, dir)

	fynetest.Tap(u.save)
	chooseInDialog(t, u, "model.npz", "Yes")
	expectError(t, u, "saving onto the input", "same file as an input")
	sameFiles(t, "saving onto the input", dir, before)

	fynetest.Tap(u.save)
	chooseInDialog(t, u, "old.shark", "No")
	fynetest.Tap(button(t, top(t, u), "Cancel"))
	sameFiles(t, "declining to overwrite, then Cancel", dir, before)

	// Access counts, once opened, are an input too.
	u.OpenCounts(filepath.Join(dir, "counts.npz"))
	waitFor(t, "the plan with counts", func() bool { return u.plan != nil && !u.compress.Disabled() })
	settle(t, u)
	fynetest.Tap(u.compress)
	waitFor(t, "compression", func() bool { return u.ResultFile() != "" && !u.save.Disabled() })
	settle(t, u)
	fynetest.Tap(u.save)
	chooseInDialog(t, u, "counts.npz", "Yes")
	expectError(t, u, "saving onto the access counts", "same file as an input")
	sameFiles(t, "saving onto the access counts", dir, before)

	// Overwriting what is not an input replaces it whole, by a rename.
	fynetest.Tap(u.save)
	chooseInDialog(t, u, "old.shark", "Yes")
	if err := compress.Verify(old); err != nil {
		t.Fatalf("the saved result: %v", err)
	}
	delete(before, "old.shark")
	sameFiles(t, "saving over an earlier result", dir, merge(before, "old.shark", fileHashes(t, dir)))
}

// merge is m with name's hash taken from other.
func merge(m map[string][32]byte, name string, other map[string][32]byte) map[string][32]byte {
	m[name] = other[name]
	return m
}

// Exports go through the same dialog: onto the open .shark (refused by
// its extension), over an older export then Cancel, and over it whole.
func TestExportDialogLeavesFilesAlone(t *testing.T) {
	u, dir := compressedExample(t)
	shark := filepath.Join(dir, "model.shark")
	if err := u.SaveTo(shark); err != nil {
		t.Fatal(err)
	}
	u.Open(shark)
	old := filepath.Join(dir, "old.npz")
	os.WriteFile(old, []byte("an earlier export"), 0o644)
	before := fileHashes(t, dir)

	export := func(name, overwrite string) {
		t.Helper()
		fynetest.Tap(u.export)
		fynetest.Tap(button(t, top(t, u), "Choose file…"))
		chooseInDialog(t, u, name, overwrite)
	}
	// The open file's name picks no export format: refused before Fyne
	// asks to overwrite it.
	export("model.shark", "")
	expectError(t, u, "exporting onto the open file", "picks the export's format")
	sameFiles(t, "exporting onto the open file", dir, before)

	// Cancel as soon as the export starts; an export that beat the cancel
	// (a descheduled test) is whole, and the step is tried again.
	cancelled := false
	for try := 0; try < 5 && !cancelled; try++ {
		export("old.npz", "Yes")
		u.Cancel()
		settle(t, u)
		if cancelled = u.status.Text == "Exporting to old.npz cancelled."; !cancelled {
			wholeExport(t, old)
			os.WriteFile(old, []byte("an earlier export"), 0o644)
		}
	}
	if !cancelled {
		t.Fatal("five exports ended before a cancel reached them")
	}
	sameFiles(t, "cancelling an export over an older one", dir, before)

	export("old.npz", "Yes")
	settle(t, u)
	wholeExport(t, old)
}

// wholeExport fails unless path is the example model exported whole.
func wholeExport(t *testing.T, path string) {
	t.Helper()
	f, osf, err := formats.OpenFile(path)
	if err != nil {
		t.Fatalf("the export: %v", err)
	}
	defer osf.Close()
	if len(f.Tensors) < 2 {
		t.Fatalf("the export holds %d tensors", len(f.Tensors))
	}
}

// Any file:// writer in the app (not only the dialog's) changes nothing
// until it is closed after writing, and then replaces the file whole.
func TestFileSchemeWritesWhole(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	New(a)
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	os.WriteFile(path, []byte("before"), 0o644)
	before := fileHashes(t, dir)
	w, err := storage.Writer(storage.NewFileURI(path))
	if err != nil {
		t.Fatal(err)
	}
	sameFiles(t, "opening a writer", dir, before)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, "closing it unwritten", dir, before)
	w, _ = storage.Writer(storage.NewFileURI(path))
	if _, err := w.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, "writing", dir, before)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "after" {
		t.Fatalf("the file holds %q", b)
	}
	w, _ = storage.Writer(storage.NewFileURI(dir))
	if _, err := w.Write([]byte("x")); err == nil || w.Close() == nil {
		t.Fatal("wrote over a folder")
	}
}

// A result is offered for Save only when it reads back whole: one flipped
// byte on the disk is caught.
func TestResultVerifiedBeforeSave(t *testing.T) {
	u, dir := compressedExample(t)
	saved := filepath.Join(dir, "model.shark")
	if err := u.SaveTo(saved); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), good...)
	bad[len(bad)/2] ^= 1
	for _, c := range []struct {
		name  string
		bytes []byte
		want  error
	}{{"as written", good, nil}, {"one byte flipped", bad, ErrResultCorrupt}} {
		tmp, err := atomicfile.CreateTemp(dir, "result.shark")
		if err != nil {
			t.Fatal(err)
		}
		tmp.Write(c.bytes)
		tmp.Finish()
		if err := verifyResult(tmp); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		tmp.Remove()
	}
}
