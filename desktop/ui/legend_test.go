package ui

import (
	"errors"
	"image/color"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	fynetest "fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"shark/core"
	"shark/formats"
	"shark/formats/sharkfile"
)

// legendOf reads a legend: each swatch's colour by the name beside it.
func legendOf(o fyne.CanvasObject) (names []string, colours map[string]color.Color) {
	box, ok := o.(*fyne.Container)
	if !ok {
		return nil, nil
	}
	colours = map[string]color.Color{}
	var swatch color.Color
	objs := box.Objects
	if len(objs) > 0 { // a legend of more tiers than a line holds: its lines
		if line, ok := objs[0].(*fyne.Container); ok && len(line.Objects) > 1 {
			objs = nil
			for _, l := range box.Objects {
				objs = append(objs, l.(*fyne.Container).Objects...)
			}
		}
	}
	for _, k := range objs {
		if c, ok := k.(*fyne.Container); ok && len(c.Objects) == 1 {
			if r, ok := c.Objects[0].(*canvas.Rectangle); ok {
				swatch = r.FillColor
			}
		}
		if l, ok := k.(*widget.Label); ok && swatch != nil {
			names = append(names, l.Text)
			colours[l.Text] = swatch
			swatch = nil
		}
	}
	return names, colours
}

// A compressed table's details say its error, and name the colour of each tier its bar
// draws, with a swatch of that colour (the legend said "fp32 · fp16 ·
// int8 · int4, dark to light" of blue, blue, orange and yellow).
func TestLegendNamesTheBarsColours(t *testing.T) {
	u, dir := compressedExample(t)
	shark := filepath.Join(dir, "model.shark")
	if err := u.SaveTo(shark); err != nil {
		t.Fatal(err)
	}
	u.Open(shark)
	settle(t, u)
	names, _ := checkLegend(t, u, "user_embedding")
	// Its error against its source, as the .shark header records it and
	// the page shows it.
	if got := strings.Join(detailsOf(u), "\n"); !regexp.MustCompile(`Error against its source: RMSE [0-9.e+-]+, max abs [0-9.e+-]+`).MatchString(got) {
		t.Errorf("the compressed table's details say %q", got)
	}
	var want []string
	for tier := core.Tier(0); tier < core.DefaultTiers; tier++ {
		want = append(want, tier.String())
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("the legend beside the bar names %q, want %q (the default tiers)", names, want)
	}
}

// checkLegend selects the compressed table name and checks the legend
// beside its tier bar: each swatch the colour its tier is drawn in, and
// every colour the bar draws named. It returns the names.
func checkLegend(t *testing.T, u *UI, name string) ([]string, []color.Color) {
	t.Helper()
	row := -1
	for i, r := range u.Rows() {
		if r[0] == name {
			row = i
		}
	}
	if row < 0 || !strings.HasPrefix(u.Rows()[row][4], "compressed") {
		t.Fatalf("no compressed %s in %v", name, u.Rows())
	}
	u.tensors.Select(widget.TableCellID{Row: row + 1, Col: 0})
	var names []string
	var colours map[string]color.Color
	var bar []color.Color
	for i, o := range u.details.Objects {
		if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, "dark to light") {
			t.Errorf("the details say %q", l.Text)
		}
		if c, ok := o.(*fyne.Container); ok && i+1 < len(u.details.Objects) && bar == nil {
			if _, isRow := c.Layout.(*rowLayout); isRow {
				for _, k := range c.Objects {
					bar = append(bar, k.(*canvas.Rectangle).FillColor)
				}
				names, colours = legendOf(u.details.Objects[i+1])
			}
		}
	}
	if len(bar) < 2 {
		t.Fatalf("the tier bar draws %d tiers", len(bar))
	}
	for _, n := range names {
		tier, err := core.ParseTier(n)
		if err != nil {
			t.Fatal(err)
		}
		if colours[n] != color.Color(tierColor[tier]) {
			t.Errorf("the legend's %s swatch is %v, the bar draws %s in %v", tier, colours[n], tier, tierColor[tier])
		}
	}
	for _, c := range bar {
		if !slices.ContainsFunc(names, func(n string) bool { return colours[n] == c }) {
			t.Errorf("the bar draws %v, which the legend (%v) does not name", c, names)
		}
	}
	return names, bar
}

// Every tier has its own opaque colour, the later tiers included.
func TestTierColoursDistinct(t *testing.T) {
	for a := range core.Tier(core.NumTiers) {
		if tierColor[a].A != 0xff {
			t.Errorf("%v is drawn in %v, not opaque", a, tierColor[a])
		}
		for b := range a {
			if tierColor[a] == tierColor[b] {
				t.Errorf("%v and %v are drawn in one colour %v", a, b, tierColor[a])
			}
		}
	}
}

// A table whose rows take the later tiers: its legend names them, beside
// the default tiers, in the colours its bar draws them.
func TestLegendNamesLaterTiers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "later.shark")
	later := []core.Tier{core.FP32, core.FP16, core.INT8, core.INT4, core.INT2}
	tb := &core.Table{R: 500, D: 8, Data: make([]float32, 500*8)}
	tiers := make([]core.Tier, tb.R)
	for i := range tb.Data {
		tb.Data[i] = float32(i%23) - 11
	}
	for r := range tiers {
		tiers[r] = later[r%len(later)]
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := sharkfile.NewWriter(f)
	if err := w.WriteTable("emb", tb, tiers, sharkfile.TableInfo{SourceDType: formats.F32}, nil); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(w.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	u.Open(path)
	settle(t, u)
	names, bar := checkLegend(t, u, "emb")
	var want []string
	for _, tier := range later {
		want = append(want, tier.String())
	}
	if strings.Join(names, " ") != strings.Join(want, " ") || len(bar) != len(later) {
		t.Fatalf("the legend names %q and the bar draws %d tiers, want %q", names, len(bar), want)
	}
}
