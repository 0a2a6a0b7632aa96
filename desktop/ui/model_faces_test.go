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

// The pipeline panel writes, for a model, its data and a test file, the
// bytes compress.CompressModel writes (and so the CLI's compress, whose test
// compares with the same reference) given SOURCE_DATE_EPOCH, driven through
// its widgets: the seed is the model's own in every face.
func TestPipelinePanelWritesTheModelFacesBytes(t *testing.T) {
	const created = 1700000000
	t.Setenv("SOURCE_DATE_EPOCH", fmt.Sprint(created))
	dir := t.TempDir()
	m, data, test := facetest.CTRModel(t, dir)
	s := compress.DefaultModelSettings()
	s.Keep, s.Quantize.Budget = 5, 0.35
	want := facetest.CompressedModel(t, m, data, test, s)

	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	u.Open(m)
	u.OpenData(data)
	u.OpenTest(test)
	fynetest.Tap(u.pipeScore)
	waitFor(t, "scores", func() bool { return !u.pipeRun.Disabled() })
	settle(t, u)
	u.pipeKeep.SetValue(5)
	u.budget.SetValue(35)
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
	if !bytes.Equal(got, want) {
		t.Fatalf("the pipeline panel wrote %d bytes that differ from the application layer's %d", len(got), len(want))
	}
}
