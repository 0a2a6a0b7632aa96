package ui

import (
	"strings"
	"testing"

	fynetest "fyne.io/fyne/v2/test"
)

// A compression that fails (the disk full mid-way) says so in the status,
// and why, not "Compressing…" or a row count as if it still ran; it
// leaves no file beside the model.
func TestCompressFailureSaysWhat(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	model := narrowModel(t)
	u.Open(model)
	waitFor(t, "the plan", func() bool { return u.plan != nil && u.plan.Assigned() && !u.compress.Disabled() })
	settle(t, u)
	limitFileSize(t, 64<<10) // the result is about 400 KiB
	fynetest.Tap(u.compress)
	expectError(t, u, "a compression failing mid-way", "file too large")
	if s := u.status.Text; !strings.HasPrefix(s, "Compressing failed: ") || !strings.Contains(s, "file too large") {
		t.Fatalf("after a failed compression the status says %q", s)
	}
	if u.progress.Visible() || !u.cancelB.Disabled() || u.ResultFile() != "" || !u.save.Disabled() {
		t.Fatal("a failed compression left a bar, Cancel, or a result to save")
	}
	onlyFile(t, model)
}
