package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	fynetest "fyne.io/fyne/v2/test"

	"shark/facetest"
)

// The pipeline panel writes, for a model, its data and a test file, the
// bytes compress.CompressModel writes (and so the CLI's compress, whose test
// compares with the same case) given SOURCE_DATE_EPOCH, driven through its
// widgets.
func TestPipelinePanelWritesTheModelFacesBytes(t *testing.T) {
	dir := t.TempDir()
	c := facetest.NewModelCase(t, dir)
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	u.Open(c.Model)
	settle(t, u) // the job Open starts updates widgets beside this goroutine
	u.OpenData(c.Data)
	u.OpenTest(c.Test)
	settle(t, u)
	fynetest.Tap(u.pipeScore)
	waitFor(t, "scores", func() bool { return !u.pipeRun.Disabled() })
	settle(t, u)
	u.pipeKeep.SetValue(float64(c.Settings.Keep))
	u.budget.SetValue(100 * c.Settings.Quantize.Budget)
	settle(t, u)
	fynetest.Tap(u.pipeRun)
	waitFor(t, "the pipeline", func() bool { return u.lastPipeline != nil })
	settle(t, u)
	out := filepath.Join(dir, "small.shark")
	if err := u.SaveTo(out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, c.Want) {
		t.Fatalf("the pipeline panel wrote %d bytes that differ from the application layer's %d", len(got), len(c.Want))
	}
}
