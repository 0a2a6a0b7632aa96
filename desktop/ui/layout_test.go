package ui

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	fynetest "fyne.io/fyne/v2/test"
)

// placedText is a text drawn in the window and where.
type placedText struct {
	text      string
	pos       fyne.Position
	size, min fyne.Size
}

// texts lists every visible text of the window with its place: a walk
// of the widget tree that skips what is hidden.
func texts(t *testing.T, w fyne.Window) []placedText {
	d := fyne.CurrentApp().Driver()
	var out []placedText
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		switch c := o.(type) {
		case *canvas.Text:
			if c.Text != "" {
				out = append(out, placedText{c.Text, d.AbsolutePositionForObject(c), c.Size(), c.MinSize()})
			}
		case *fyne.Container:
			for _, k := range c.Objects {
				walk(k)
			}
		case fyne.Widget:
			for _, k := range fynetest.TempWidgetRenderer(t, c).Objects() {
				walk(k)
			}
		}
	}
	walk(w.Content())
	return out
}

// At 1280 x 800 with a model open, no text runs past the space it was
// given or over another text; a screenshot goes to artifacts/desktop/.
func TestLayoutAt1280x800(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Resize(fyne.NewSize(1280, 800))
	u.Window.Show()
	u.Open(ncf)
	waitFor(t, "the plan", func() bool { return u.plan != nil && u.plan.Assigned() && !u.compress.Disabled() })
	var ts []placedText
	waitFor(t, "the layout", func() bool {
		done := make(chan struct{})
		fyne.Do(func() { ts = texts(t, u.Window); close(done) })
		<-done
		return len(ts) > 20
	})
	for _, x := range ts {
		if x.min.Width > x.size.Width+1 || x.pos.X+x.min.Width > 1280+1 {
			t.Errorf("%q needs %.0f px, has %.0f at x %.0f", x.text, x.min.Width, x.size.Width, x.pos.X)
		}
	}
	for i, a := range ts {
		for _, b := range ts[i+1:] {
			if overlap(a, b) {
				t.Errorf("%q at %v and %q at %v overlap", a.text, a.pos, b.text, b.pos)
			}
		}
	}
	shotDesktop(t, u.Window, "opened-1280x800")
}

func overlap(a, b placedText) bool {
	w := min(a.pos.X+a.min.Width, b.pos.X+b.min.Width) - max(a.pos.X, b.pos.X)
	h := min(a.pos.Y+a.min.Height, b.pos.Y+b.min.Height) - max(a.pos.Y, b.pos.Y)
	return w > 1 && h > 1
}

func shotDesktop(t *testing.T, w fyne.Window, name string) {
	t.Helper()
	dir := filepath.Join("..", "..", "artifacts", "desktop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Fatal(fmt.Errorf("screenshot: %w", err))
	}
}
