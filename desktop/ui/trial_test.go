package ui

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	fynetest "fyne.io/fyne/v2/test"

	"shark/compress"
)

// everyTierShark writes ncf compressed with every tier allowed, in blocks
// of 32 rows, and returns its path.
func everyTierShark(t *testing.T) string {
	t.Helper()
	in, err := compress.Open(ncf)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	s := compress.DefaultSettings()
	s.Tiers, s.Budget, s.Block, s.Created = "all", 0.10, 32, 1
	plan, err := compress.NewPlan(in, s, compress.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	out := filepath.Join(t.TempDir(), "all.shark")
	if err := plan.WriteFile(out, ""); err != nil {
		t.Fatal(err)
	}
	return out
}

// The window opens no larger than a 1024 x 768 screen, with room for a
// title bar and a panel, and its content fits it.
func TestWindowFitsSmallScreen(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	if s := u.Window.Canvas().Size(); s.Width > 1024 || s.Height > 768-60 {
		t.Fatalf("the window opens at %v, past a 1024 x 768 screen", s)
	}
	u.Open(everyTierShark(t))
	settle(t, u)
	if m, s := u.Window.Content().MinSize(), u.Window.Canvas().Size(); m.Width > s.Width || m.Height > s.Height {
		t.Fatalf("the content needs %v, the window is %v", m, s)
	}
}

// A table of every tier shows whole at 1024 x 768: its role in the list
// ("compressed table", which ran out of the list with its eight tiers'
// counts) and, selected, its rows per tier by name and its block size;
// the title gives the container version.
func TestEveryTierTableFitsAt1024(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Resize(fyne.NewSize(1024, 768))
	u.Window.Show()
	u.Open(everyTierShark(t))
	settle(t, u)
	if !strings.Contains(u.title.Text, "container version 2.0") {
		t.Errorf("the title %q gives no container version", u.title.Text)
	}
	fitsWindow(t, u)
	selectTensor(t, u, "user_embedding_W")
	got := strings.Join(detailsOf(u), "\n")
	if !strings.Contains(got, "Rows per tier: fp32 0, fp16 0, int8 ") || !strings.Contains(got, "int2-block ") || !strings.Contains(got, "in blocks of 32 rows") {
		t.Errorf("the details say %q", got)
	}
	fitsWindow(t, u)
	shotDesktop(t, u.Window, "every-tier-1024x768")
}

// Progress counts rows with thousands separators, as every face does.
func TestProgressTextSeparatesThousands(t *testing.T) {
	if got := progressText("measure", 81920, 1500000); got != "measure: 81,920 of 1,500,000 rows" {
		t.Fatalf("%q", got)
	}
}

// While the rows are measured for the tiers just chosen, the smallest
// budget and the plan shown are those of the tiers before, and say so
// until the new ones replace them.
func TestPlanMarkedStaleWhileMeasuring(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Resize(fyne.NewSize(1024, 768))
	u.Window.Show()
	u.Open(ncf)
	waitFor(t, "the plan", func() bool { return u.plan != nil && u.plan.Assigned() && !u.compress.Disabled() })
	settle(t, u)
	if !u.minL.Visible() || strings.Contains(u.minL.Text, staleMark) || u.planBox.Objects[0] == u.staleL {
		t.Fatalf("before: %q, plan headed by %v", u.minL.Text, u.planBox.Objects[0])
	}
	u.tiers.preset.SetSelected("every tier, below int4 too (all)")
	if !strings.HasSuffix(u.minL.Text, staleMark) || u.planBox.Objects[0] != u.staleL || !strings.Contains(u.staleL.Text, "tiers before") {
		t.Fatalf("measuring: %q, plan headed by %v", u.minL.Text, u.planBox.Objects[0])
	}
	waitFor(t, "the plan of every tier", func() bool {
		return u.plan != nil && u.plan.Assigned() && samePlanSettings(u.plan.Settings, u.Settings()) && !u.compress.Disabled()
	})
	settle(t, u)
	if strings.Contains(u.minL.Text, staleMark) || u.planBox.Objects[0] == u.staleL {
		t.Fatalf("measured: %q, plan headed by %v", u.minL.Text, u.planBox.Objects[0])
	}
}

// The slider reaches the smallest budget, to a tenth of a percent as on
// the page: its lower end is the smallest step the tables take, the bytes
// saved there are the CLI's --budget of that share, and a step less is
// refused by the CLI.
func TestSliderReachesSmallestBudget(t *testing.T) {
	const created = 1700000000
	u, model, ready := openNarrowAt1024(t, created)
	ready("the plan")
	u.tiers.preset.SetSelected("every tier, below int4 too (all)")
	ready("the plan of every tier")
	min := pctText(u.budget.Min)
	if u.minL.Text != "Smallest possible: "+min+"%" {
		t.Fatalf("the slider from %s%%, its label %q", min, u.minL.Text)
	}
	u.budget.SetValue(u.budget.Min)
	u.budget.OnChangeEnded(u.budget.Min)
	ready("the plan at the smallest budget")
	if !strings.HasPrefix(u.budgetL.Text, "Budget: "+min+"% ") || u.note.Visible() {
		t.Fatalf("at the slider's lower end: %q, note %q", u.budgetL.Text, u.note.Text)
	}
	flags := []string{"--budget", min + "%", "--tiers", "all"}
	if got, want := compressAndSave(t, u), cliQuantize(t, model, created, flags...); !bytes.Equal(got, want) {
		t.Fatalf("the desktop saved %d bytes at its smallest budget, shark quantize %s %d", len(got), strings.Join(flags, " "), len(want))
	}
	below := pctText(budgetPct(u.budget.Min - 0.1))
	bin := filepath.Join(t.TempDir(), "shark")
	build := exec.Command("go", "build", "-o", bin, "./cmd/shark")
	build.Dir = filepath.Join("..", "..")
	if msg, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the CLI: %v\n%s", err, msg)
	}
	out, err := exec.Command(bin, "quantize", model, "-o", filepath.Join(t.TempDir(), "x.shark"), "--budget", below+"%", "--tiers", "all").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "smallest") {
		t.Fatalf("shark quantize --budget %s%% (a step below the slider's lower end): %v\n%s", below, err, out)
	}
}
