package ui

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fynetest "fyne.io/fyne/v2/test"

	"shark/compress"
	"shark/formats"
	"shark/formats/npz"
)

// narrowModel writes an .npz of two tables of 8 values a row, which cannot
// be stored in less than about a quarter of their fp32 bytes.
func narrowModel(t *testing.T) string {
	r := rand.New(rand.NewPCG(8, 8))
	var buf bytes.Buffer
	w := npz.NewWriter(&buf, false)
	for _, n := range []string{"gmf_user", "gmf_item"} {
		vals := make([]float32, 20000*8)
		for i := range vals {
			vals[i] = float32(r.NormFloat64() * 0.1)
		}
		w.Write(n, formats.F32, []int64{20000, 8}, bytes.NewReader(formats.EncodeFloat32(nil, vals)))
	}
	w.Close()
	p := filepath.Join(t.TempDir(), "narrow.npz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The slider starts at the smallest budget the tables can take, says it,
// and a budget that cannot be met (without int4) is said under the slider,
// with no prediction and nothing to press; a budget change drops the
// result made before it.
func TestSmallestBudgetAndNoStaleResult(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	u.Open(narrowModel(t))
	waitFor(t, "the plan", func() bool { return u.plan != nil && u.plan.Assigned() && !u.compress.Disabled() })
	if u.budget.Min < 20 || !u.minL.Visible() || !strings.Contains(u.minL.Text, "Smallest possible") {
		t.Fatalf("slider from %v, %q", u.budget.Min, u.minL.Text)
	}
	fynetest.Tap(u.compress)
	waitFor(t, "compression", func() bool { return u.ResultFile() != "" && !u.save.Disabled() })
	u.budget.SetValue(31) // dragging
	if u.ResultFile() != "" || !u.save.Disabled() || !u.compress.Disabled() {
		t.Fatal("the result of 30% stays beside 31%")
	}
	u.budget.OnChangeEnded(31)
	waitFor(t, "the plan at 31%", func() bool { return !u.compress.Disabled() })
	settle(t, u)
	fynetest.Tap(u.noInt4)
	waitFor(t, "the refusal", func() bool { return u.note.Visible() && strings.Contains(u.note.Text, "smallest") })
	settle(t, u)
	if !u.compress.Disabled() || u.plan.Assigned() && u.plan.Settings.NoInt4 {
		t.Fatal("a budget that cannot be met can be compressed")
	}
	if !u.progress.Hidden {
		t.Fatal("a progress bar at idle")
	}
	shotDesktop(t, u.Window, "smallest-budget")
}

// An export runs off the window's goroutine with its progress shown; one
// that fails leaves the file it would have replaced (even an empty one)
// and makes none where there was none.
func TestExportProgressAndFailureLeavesFiles(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	u.Open(ncf)
	waitFor(t, "the plan", func() bool { return u.plan != nil && !u.compress.Disabled() })
	fynetest.Tap(u.compress)
	waitFor(t, "compression", func() bool { return u.ResultFile() != "" })
	dir := t.TempDir()
	saved := filepath.Join(dir, "ncf.shark")
	if err := u.SaveTo(saved); err != nil {
		t.Fatal(err)
	}
	u.Open(saved)
	// The export fails (an unknown layout).
	target, fresh := filepath.Join(dir, "back.npz"), filepath.Join(dir, "new.npz")
	os.WriteFile(target, nil, 0o644)
	for _, p := range []string{target, fresh} {
		u.Export(p, compress.Layout("sideways"))
		settle(t, u)
	}
	if st, err := os.Stat(target); err != nil || st.Size() != 0 {
		t.Fatalf("the failed export changed the file it would have replaced: %v", err)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Fatal("the failed export left a file")
	}
	good := filepath.Join(dir, "good.npz")
	u.Export(good, compress.Dequantized)
	if !u.working || (!u.busy.Visible() && !u.progress.Visible()) {
		// It may have finished already on a fast machine: then the file is there.
		if _, err := os.Stat(good); err != nil && u.working {
			t.Fatal("the export runs with no progress shown")
		}
	}
	settle(t, u)
	if f, osf, err := formats.OpenFile(good); err != nil || len(f.Tensors) != 10 {
		t.Fatalf("export: %v", err)
	} else {
		osf.Close()
	}
}

// After the pipeline scores a model, Compress is pressable only when there
// is a plan to compress: it never does nothing.
func TestCompressOnlyWithAPlan(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	u.idle()
	if !u.compress.Disabled() {
		t.Fatal("Compress enabled with nothing open")
	}
}

// Access counts rank the rows when given: the plan says so.
func TestCountsRankRows(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	dir := t.TempDir()
	model, counts, err := compress.ExampleFiles(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	u.Open(model)
	waitFor(t, "the plan", func() bool { return u.plan != nil && u.plan.Assigned() && !u.compress.Disabled() })
	if u.plan.Tables[0].PrioritySource != "row-norm" {
		t.Fatal("priorities before counts")
	}
	u.OpenCounts(counts)
	waitFor(t, "the plan with counts", func() bool { return u.plan != nil && u.plan.Assigned() && !u.compress.Disabled() })
	if u.plan.Tables[0].PrioritySource != "counts" {
		t.Fatalf("priorities from %s", u.plan.Tables[0].PrioritySource)
	}
}
