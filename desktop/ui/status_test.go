package ui

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	fynetest "fyne.io/fyne/v2/test"
)

// onlyFile fails unless path is the one file in its folder.
func onlyFile(t *testing.T, path string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != filepath.Base(path) {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("beside %s: %v", filepath.Base(path), names)
	}
}

// A cancel says what was cancelled and what to do next: a measurement
// cancelled on opening says how to measure again, and does; a compression
// cancelled leaves no result and no file beside the model.
func TestCancelSaysWhat(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	model := narrowModel(t)
	// Cancel the measuring Open starts; one that beat the cancel (a
	// descheduled test) made a plan, and the step is tried again.
	for try := 0; ; try++ {
		u.Open(model)
		u.Cancel()
		settle(t, u)
		if u.plan == nil {
			break
		}
		if try == 4 {
			t.Fatal("five measurements ended before a cancel reached them")
		}
	}
	if s := u.status.Text; s != "Measuring cancelled: move the budget to measure again." {
		t.Fatalf("after a cancelled measurement the status says %q", s)
	}
	u.budget.SetValue(31)
	u.budget.OnChangeEnded(31)
	waitFor(t, "the plan", func() bool { return u.plan != nil && u.plan.Assigned() && !u.compress.Disabled() })
	settle(t, u)
	if s := u.status.Text; s != "Ready to compress." {
		t.Fatalf("measured again, the status says %q", s)
	}
	fynetest.Tap(u.compress)
	u.Cancel()
	settle(t, u)
	if s := u.status.Text; s != "Compressing cancelled." {
		t.Fatalf("after a cancelled compression the status says %q", s)
	}
	if u.progress.Visible() || !u.cancelB.Disabled() || u.ResultFile() != "" || !u.save.Disabled() || u.compress.Disabled() {
		t.Fatal("a cancelled compression left a bar, Cancel or a result, or Compress disabled")
	}
	onlyFile(t, model)
}

// A job replaced by a newer one (a budget moved while compressing) ends
// after it, reporting progress on its way, without touching the newer
// one's status, bar or buttons.
func TestReplacedJobLeavesStatus(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	u.Open(narrowModel(t))
	waitFor(t, "the plan", func() bool { return u.plan != nil && u.plan.Assigned() && !u.compress.Disabled() })
	settle(t, u)
	release := make(chan struct{})
	var oldEnd error
	u.work("Compressing…", func(ctx context.Context, progress func(string, int64, int64)) error {
		<-release // a write that notices its cancel only later, reporting on
		progress("write", 5, 10)
		return ctx.Err()
	}, func(err error) { oldEnd = err })
	u.budget.SetValue(40)
	u.budget.OnChangeEnded(40)
	waitFor(t, "the plan at 40%", func() bool { return u.plan.Settings.Budget == 0.40 && u.status.Text == "Ready to compress." })
	close(release)
	settle(t, u)
	if oldEnd == nil {
		t.Fatal("the replaced job's end was not told")
	}
	if s := u.status.Text; s != "Ready to compress." {
		t.Fatalf("the replaced job's end made the status %q", s)
	}
	if u.progress.Visible() || !u.cancelB.Disabled() || u.compress.Disabled() || u.working {
		t.Fatal("the replaced job's end left a bar, Cancel, or Compress disabled")
	}
}
