package ui

import (
	"image/color"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"shark/core"
)

// legendOf reads a legend: each swatch's colour by the name beside it.
func legendOf(o fyne.CanvasObject) (names []string, colours map[string]color.Color) {
	box, ok := o.(*fyne.Container)
	if !ok {
		return nil, nil
	}
	colours = map[string]color.Color{}
	var swatch color.Color
	for _, k := range box.Objects {
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
	row := -1
	for i, r := range u.Rows() {
		if r[0] == "user_embedding" {
			row = i
		}
	}
	if row < 0 || !strings.HasPrefix(u.Rows()[row][4], "compressed") {
		t.Fatalf("no compressed user_embedding in %v", u.Rows())
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
	// Its error against its source, as the .shark header records it and
	// the page shows it.
	if got := strings.Join(detailsOf(u), "\n"); !regexp.MustCompile(`Error against its source: RMSE [0-9.e+-]+, max abs [0-9.e+-]+`).MatchString(got) {
		t.Errorf("the compressed table's details say %q", got)
	}
	if len(bar) < 2 {
		t.Fatalf("the tier bar draws %d tiers", len(bar))
	}
	var want []string
	for tier := core.Tier(0); tier < core.NumTiers; tier++ {
		want = append(want, tier.String())
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("the legend beside the bar names %q, want %q", names, want)
	}
	for tier := core.Tier(0); tier < core.NumTiers; tier++ {
		if colours[tier.String()] != color.Color(tierColor[tier]) {
			t.Errorf("the legend's %s swatch is %v, the bar draws %s in %v", tier, colours[tier.String()], tier, tierColor[tier])
		}
	}
}
