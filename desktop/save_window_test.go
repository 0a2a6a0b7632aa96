package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	fynetest "fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"shark/compress"
	"shark/desktop/ui"
)

// childEnv names, in the child process of TestRealWindowSaveDialog, the
// folder of the model it saves onto.
const childEnv = "SHARK_DESKTOP_SAVE_CHILD"

// TestMain runs the real app on the main goroutine, as the OpenGL driver
// needs, when this test binary is TestRealWindowSaveDialog's child.
func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(saveChild(dir))
	}
	os.Exit(m.Run())
}

// TestRealWindowSaveDialog runs the real window under Xvfb (this test
// binary, built with cgo, is the app) and goes through Fyne's own save
// dialog as a user does: save the compressed result onto the model it was
// made from, confirming the overwrite, and export the saved .shark onto
// itself, which its extension refuses before any overwrite question. Both
// are refused, and every file keeps its bytes.
func TestRealWindowSaveDialog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Xvfb")
	}
	xvfb, err := exec.LookPath("xvfb-run")
	if err != nil || os.Getenv("SHARK_NO_X") != "" {
		if os.Getenv("CI") != "" {
			t.Fatal("xvfb-run is not installed (./build.sh test installs it)")
		}
		t.Skip("no xvfb-run")
	}
	dir := t.TempDir()
	if _, _, err := compress.ExampleFiles(dir, 1); err != nil {
		t.Fatal(err)
	}
	before := hashes(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, xvfb, "-a", "-s", "-screen 0 1280x800x24", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, "HOME="+t.TempDir(), "LANG=C.UTF-8")
	out, err := cmd.CombinedOutput()
	t.Logf("the app's steps:\n%s", grepSteps(out))
	if err != nil {
		t.Fatalf("the app: %v\n%s", err, out)
	}
	after := hashes(t, dir)
	for name, h := range before {
		if after[name] != h {
			t.Errorf("%s changed or is gone", name)
		}
	}
}

// grepSteps is the child's own lines, without Fyne's log.
func grepSteps(out []byte) string {
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "step: ") || strings.HasPrefix(l, "FAIL: ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func hashes(t *testing.T, dir string) map[string][32]byte {
	m := map[string][32]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = sha256.Sum256(b)
	}
	return m
}

// saveChild is the app with a driver of its own on another goroutine.
func saveChild(dir string) int {
	a := app.NewWithID("dev.shark.desktop.test")
	u := ui.New(a)
	u.Open(filepath.Join(dir, "model.npz"))
	code := 1
	go func() {
		defer fyne.DoAndWait(a.Quit)
		if err := driveSaves(u, dir); err != nil {
			fmt.Println("FAIL: " + err.Error())
			return
		}
		code = 0
	}()
	u.Window.ShowAndRun()
	return code
}

// driveSaves saves onto the input and exports onto the open .shark, each
// through the dialog with the overwrite confirmed.
func driveSaves(u *ui.UI, dir string) error {
	model, shark := filepath.Join(dir, "model.npz"), filepath.Join(dir, "model.shark")
	b, err := os.ReadFile(model)
	if err != nil {
		return err
	}
	if err := until("the plan", func() bool { return enabled(u.Window.Content(), "Compress") }); err != nil {
		return err
	}
	fyne.DoAndWait(u.Compress)
	if err := until("the compressed result", func() bool { return u.ResultFile() != "" && enabled(u.Window.Content(), "Save…") }); err != nil {
		return err
	}
	menu(u, "Save compressed…")
	if err := choose(u, "model.npz", "same file as an input"); err != nil {
		return err
	}
	if now, _ := os.ReadFile(model); !bytes.Equal(now, b) {
		return fmt.Errorf("model.npz changed: %d bytes, was %d", len(now), len(b))
	}
	fmt.Println("step: saving onto model.npz refused, its bytes kept")
	var saveErr error
	fyne.DoAndWait(func() {
		if saveErr = u.SaveTo(shark); saveErr == nil {
			u.Open(shark)
		}
	})
	if saveErr != nil {
		return saveErr
	}
	if b, err = os.ReadFile(shark); err != nil {
		return err
	}
	menu(u, "Export…")
	if err := tap(u, "Choose file…"); err != nil {
		return err
	}
	// The open .shark's own extension picks no export format: refused
	// before Fyne asks to overwrite it.
	if err := chooseNoConfirm(u, "model.shark", "picks the export's format"); err != nil {
		return err
	}
	if now, _ := os.ReadFile(shark); !bytes.Equal(now, b) {
		return fmt.Errorf("model.shark changed: %d bytes, was %d", len(now), len(b))
	}
	fmt.Println("step: exporting onto the open model.shark refused by its extension, its bytes kept")
	return nil
}

// choose types name into the file dialog, presses Save, confirms the
// overwrite, and waits for the error dialog saying want.
func choose(u *ui.UI, name, want string) error {
	return chooseThen(u, name, want, true)
}

// chooseNoConfirm is choose for a name refused before any overwrite
// question: no Yes is pressed.
func chooseNoConfirm(u *ui.UI, name, want string) error {
	return chooseThen(u, name, want, false)
}

func chooseThen(u *ui.UI, name, want string, confirm bool) error {
	var entry *widget.Entry
	if err := until("the file dialog", func() bool {
		entry = nil
		if o := u.Window.Canvas().Overlays().Top(); o != nil {
			walk(o, func(k fyne.CanvasObject) {
				if e, ok := k.(*widget.Entry); ok {
					entry = e
				}
			})
		}
		return entry != nil
	}); err != nil {
		return err
	}
	fyne.DoAndWait(func() { entry.SetText(name) })
	if err := tap(u, "Save"); err != nil {
		return err
	}
	if confirm {
		if err := tap(u, "Yes"); err != nil { // "Overwrite?"
			return err
		}
	}
	return until("the refusal", func() bool {
		o := u.Window.Canvas().Overlays().Top()
		return o != nil && strings.Contains(texts(o), want)
	})
}

// menu runs the File menu's item labelled label.
func menu(u *ui.UI, label string) {
	fyne.DoAndWait(func() {
		for _, it := range u.Window.MainMenu().Items[0].Items {
			if it.Label == label {
				it.Action()
			}
		}
	})
}

// tap presses the enabled button labelled label in the top dialog.
func tap(u *ui.UI, label string) error {
	var b *widget.Button
	err := until("the "+label+" button", func() bool {
		b = nil
		if o := u.Window.Canvas().Overlays().Top(); o != nil {
			walk(o, func(k fyne.CanvasObject) {
				if w, ok := k.(*widget.Button); ok && w.Text == label && w.Visible() && !w.Disabled() {
					b = w
				}
			})
		}
		return b != nil
	})
	if err == nil {
		fyne.DoAndWait(b.OnTapped)
	}
	return err
}

// until polls cond on the UI's goroutine for up to a minute.
func until(what string, cond func() bool) error {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ok := false
		fyne.DoAndWait(func() { ok = cond() })
		if ok {
			return nil
		}
	}
	return fmt.Errorf("timed out waiting for %s", what)
}

// enabled reports whether o holds an enabled button labelled label.
func enabled(o fyne.CanvasObject, label string) bool {
	found := false
	walk(o, func(k fyne.CanvasObject) {
		if b, ok := k.(*widget.Button); ok && b.Text == label && !b.Disabled() {
			found = true
		}
	})
	return found
}

// texts is every label's text in o.
func texts(o fyne.CanvasObject) string {
	var s []string
	walk(o, func(k fyne.CanvasObject) {
		switch w := k.(type) {
		case *widget.Label:
			s = append(s, w.Text)
		case *widget.RichText:
			s = append(s, w.String())
		}
	})
	return strings.Join(s, "\n")
}

// walk calls visit on o and everything drawn inside it.
func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	visit(o)
	switch c := o.(type) {
	case *fyne.Container:
		for _, k := range c.Objects {
			walk(k, visit)
		}
	case fyne.Widget:
		for _, k := range fynetest.WidgetRenderer(c).Objects() {
			walk(k, visit)
		}
	}
}
