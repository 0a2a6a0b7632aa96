package ui

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	fynetest "fyne.io/fyne/v2/test"

	"shark/core"
)

// cliQuantize is what `shark quantize` (built from cmd/shark) writes for
// the file at in with args, created at created.
func cliQuantize(t *testing.T, in string, created int64, args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	bin, out := filepath.Join(dir, "shark"), filepath.Join(dir, "out.shark")
	build := exec.Command("go", "build", "-o", bin, "./cmd/shark")
	build.Dir = filepath.Join("..", "..")
	if msg, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the CLI: %v\n%s", err, msg)
	}
	cmd := exec.Command(bin, append([]string{"quantize", in, "-o", out}, args...)...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", created))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shark quantize %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tierState is the tier control as shown: the preset, the tiers ticked,
// the no-int4 box and whether the block size shows.
func tierState(u *UI) string {
	return fmt.Sprintf("%s | %s | %v %v", u.tiers.preset.Selected, strings.Join(core.AllowedNames(u.tiers.chosen()), ","), u.noInt4.Checked, u.tiers.blockR.Visible())
}

// compressAndSave compresses with the settings shown and returns the bytes saved.
func compressAndSave(t *testing.T, u *UI) []byte {
	t.Helper()
	fynetest.Tap(u.compress)
	waitFor(t, "compression", func() bool { return u.ResultFile() != "" && !u.save.Disabled() })
	out := filepath.Join(t.TempDir(), "out.shark")
	if err := u.SaveTo(out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The desktop lets a user choose the tiers, below int4 too, as the page
// does: the smallest budget and the plan follow them, the no-int4 box
// agrees with the choice, a change of tiers drops a result of the tiers
// before, every text fits at 1024 x 768, and the file saved is the CLI's
// for the same --tiers and --block.
func TestTierChoiceWritesTheCLIsBytes(t *testing.T) {
	const created = 1700000000
	u, model, ready := openNarrowAt1024(t, created)
	ready("the plan")
	if s := tierState(u); s != "fp32 to int4 (default) | fp32,fp16,int8,int4 | false false" {
		t.Fatalf("the tiers at first: %s", s)
	}
	minDefault := u.budget.Min

	fynetest.Tap(u.noInt4)
	if s := tierState(u); s != "the paper's: fp32, fp16, int8 | fp32,fp16,int8 | true false" {
		t.Fatalf("no-int4 ticked: %s", s)
	}
	settle(t, u)
	fynetest.Tap(u.noInt4)
	if s := tierState(u); s != "fp32 to int4 (default) | fp32,fp16,int8,int4 | false false" {
		t.Fatalf("no-int4 unticked: %s", s)
	}
	ready("the plan of the default tiers again")

	// Every tier: the smallest budget falls far below int4's.
	u.tiers.preset.SetSelected("every tier, below int4 too (all)")
	if s := tierState(u); s != "every tier, below int4 too (all) | fp32,fp16,int8,int4,int2,int8-block,int4-block,int2-block | false true" {
		t.Fatalf("all chosen: %s", s)
	}
	ready("the plan of every tier")
	if minAll := u.budget.Min; !(minAll*2 < minDefault) || !strings.Contains(u.minL.Text, "Smallest possible") {
		t.Fatalf("the smallest budget with every tier %v%% (%q), with the default tiers %v%%", minAll, u.minL.Text, minDefault)
	}
	budget := math.Floor(minDefault) - 8
	u.budget.SetValue(budget)
	u.budget.OnChangeEnded(budget)
	u.tiers.block.SetText("32")
	ready("the plan at a budget below int4's smallest, in blocks of 32")
	later := false
	for _, r := range u.plan.Result().Rows() {
		later = later || r.Tiers["int2"]+r.Tiers["int8-block"]+r.Tiers["int4-block"]+r.Tiers["int2-block"] > 0
	}
	if !later {
		t.Fatalf("at %v%% the plan takes no tier below int4: %+v", budget, u.plan.Result().Rows())
	}
	fitsWindow(t, u)
	shotDesktop(t, u.Window, "tiers-1024x768")
	flags := []string{"--budget", fmt.Sprintf("%.0f%%", budget), "--tiers", "all", "--block", "32"}
	if got, want := compressAndSave(t, u), cliQuantize(t, model, created, flags...); !bytes.Equal(got, want) {
		t.Fatalf("the desktop saved %d bytes, shark quantize %s %d", len(got), strings.Join(flags, " "), len(want))
	}

	// Unticking a tier drops the result of every tier, and Compress then
	// writes the new tiers' bytes.
	fynetest.Tap(u.tiers.checks[core.INT2B])
	if u.ResultFile() != "" || !u.save.Disabled() || !u.compress.Disabled() {
		t.Fatal("the result of every tier stays beside a choice without int2-block")
	}
	if s := tierState(u); s != "custom: the tiers ticked | fp32,fp16,int8,int4,int2,int8-block,int4-block | false true" {
		t.Fatalf("int2-block unticked: %s", s)
	}
	ready("the plan without int2-block")
	flags[3] = "fp32,fp16,int8,int4,int2,int8-block,int4-block"
	if got, want := compressAndSave(t, u), cliQuantize(t, model, created, flags...); !bytes.Equal(got, want) {
		t.Fatalf("the desktop saved %d bytes, shark quantize %s %d", len(got), strings.Join(flags, " "), len(want))
	}

	// No tier, or a block size no plan takes, is said under the slider.
	for _, c := range u.tiers.checks {
		if c.Checked {
			fynetest.Tap(c)
		}
	}
	settle(t, u)
	if !u.note.Visible() || !strings.Contains(u.note.Text, "at least one tier") || !u.compress.Disabled() {
		t.Fatalf("with no tier: note %q, Compress disabled %v", u.note.Text, u.compress.Disabled())
	}
	u.tiers.preset.SetSelected("every tier, below int4 too (all)")
	u.tiers.block.SetText("-1")
	settle(t, u)
	if !strings.Contains(u.note.Text, "Rows per block: a whole number from 1 to 65,536, or 0 for 64.") || !u.compress.Disabled() {
		t.Fatalf("with blocks of -1 rows: note %q, Compress disabled %v", u.note.Text, u.compress.Disabled())
	}

	// 0 is the default block, as the CLI's --block 0 is.
	u.tiers.block.SetText("0")
	ready("the plan in blocks of 0 (64) rows")
	flags[3], flags[5] = "all", "0"
	if got, want := compressAndSave(t, u), cliQuantize(t, model, created, flags...); !bytes.Equal(got, want) {
		t.Fatalf("the desktop saved %d bytes, shark quantize %s %d", len(got), strings.Join(flags, " "), len(want))
	}
}

// openNarrowAt1024 opens narrowModel in the app at 1024 x 768, files dated
// created (SOURCE_DATE_EPOCH, so that saved bytes equal the CLI's), and
// gives ready, which waits until the plan of the settings on screen is
// assigned and Compress enabled.
func openNarrowAt1024(t *testing.T, created int64) (*UI, string, func(string)) {
	t.Helper()
	t.Setenv("SOURCE_DATE_EPOCH", fmt.Sprint(created))
	a := fynetest.NewApp()
	t.Cleanup(a.Quit)
	u := New(a)
	u.Window.Resize(fyne.NewSize(1024, 768))
	u.Window.Show()
	model := narrowModel(t)
	u.Open(model)
	ready := func(what string) {
		t.Helper()
		waitFor(t, what, func() bool {
			return u.plan != nil && u.plan.Assigned() && samePlanSettings(u.plan.Settings, u.Settings()) && !u.compress.Disabled()
		})
		settle(t, u)
	}
	return u, model, ready
}
