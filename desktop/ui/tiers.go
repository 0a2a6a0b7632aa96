package ui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"shark/compress"
	"shark/core"
)

// The tier choice (issue 24), as on the page: a preset of the sets of the
// CLI's --tiers most asked for, a box per tier for any other set, and the
// rows per block (--block) where a block tier is ticked. The no-int4 box
// is the paper's preset both ways, as --no-int4 is --tiers fp32,fp16,int8.

// tierPresets are the presets' labels and their --tiers lists.
var tierPresets = []struct{ label, list string }{
	{"fp32 to int4 (default)", "fp32,fp16,int8,int4"},
	{"every tier, below int4 too (all)", "all"},
	{"the paper's: fp32, fp16, int8", "fp32,fp16,int8"},
}

// Preset indexes into tierPresets; customTiers is the label of a set
// that is none of them.
const (
	presetDefault = iota
	presetAll
	presetPaper
	customTiers = "custom: the tiers ticked"
)

// blockSizes are the rows per block offered; any other can be typed.
var blockSizes = []string{"16", "32", "64", "128", "256"}

// tierChoice is the tier control's widgets.
type tierChoice struct {
	preset  *widget.Select
	checks  [core.NumTiers]*widget.Check
	block   *widget.SelectEntry
	blockR  *fyne.Container // the block size's row, shown with a block tier
	box     *fyne.Container
	syncing bool // the widgets are being made to agree: their callbacks wait
}

// newTierChoice builds the tier control, at the default tiers.
func (u *UI) newTierChoice() *tierChoice {
	c := &tierChoice{}
	var labels []string
	for _, p := range tierPresets {
		labels = append(labels, p.label)
	}
	c.preset = widget.NewSelect(append(labels, customTiers), func(label string) { u.presetChosen(label) })
	grid := container.NewGridWithColumns(4)
	for t := range c.checks {
		c.checks[t] = widget.NewCheck(core.Tier(t).String(), func(bool) { u.tiersChanged() })
		c.checks[t].Checked = t < core.DefaultTiers
		grid.Add(c.checks[t])
	}
	c.block = widget.NewSelectEntry(blockSizes)
	c.block.SetText(strconv.Itoa(core.DefaultBlock))
	c.block.OnChanged = func(string) { u.tiersChanged() }
	c.blockR = container.NewHBox(widget.NewLabel("Rows per block"), container.NewGridWrap(fyne.NewSize(110, c.block.MinSize().Height), c.block))
	c.blockR.Hide()
	c.preset.Selected = tierPresets[presetDefault].label
	c.box = container.NewVBox(container.NewBorder(nil, nil, widget.NewLabel("Tiers"), nil, c.preset), grid, c.blockR)
	return c
}

// chosen is the tiers ticked.
func (c *tierChoice) chosen() (a [core.NumTiers]bool) {
	for t, k := range c.checks {
		a[t] = k.Checked
	}
	return a
}

// presetOf is the preset of a set of tiers, or -1.
func presetOf(a [core.NumTiers]bool) int {
	for i, p := range tierPresets {
		if set, err := core.ParseTiers(p.list); err == nil && set == a {
			return i
		}
	}
	return -1
}

// blocksOn reports whether a block tier is ticked.
func (c *tierChoice) blocksOn() bool {
	a := c.chosen()
	return a[core.INT8B] || a[core.INT4B] || a[core.INT2B]
}

// apply puts the choice in s as the CLI's flags would: the paper's set as
// NoInt4, another as Tiers, and Block where a block tier is ticked (-1,
// which Validate refuses, when the text is no number).
func (c *tierChoice) apply(s *compress.Settings) {
	a := c.chosen()
	switch presetOf(a) {
	case presetDefault:
	case presetPaper:
		s.NoInt4 = true
	case presetAll:
		s.Tiers = "all"
	default:
		s.Tiers = strings.Join(core.AllowedNames(a), ",")
	}
	if c.blocksOn() {
		b, err := strconv.Atoi(strings.TrimSpace(c.block.Text))
		if err != nil {
			b = -1
		}
		s.Block = b
	}
}

// problem says what in the choice no plan can be made of, or "".
func (c *tierChoice) problem() string {
	if c.chosen() == ([core.NumTiers]bool{}) {
		return "Tick at least one tier: every row is stored in one."
	}
	// 0 is the default block, as the CLI's --block 0 is.
	if b, err := strconv.Atoi(strings.TrimSpace(c.block.Text)); c.blocksOn() && (err != nil || b < 0 || b > compress.MaxBlock) {
		return fmt.Sprintf("Rows per block: a whole number from 1 to 65,536, or 0 for %d.", core.DefaultBlock)
	}
	return ""
}

// set ticks the tiers of a and makes the other widgets agree.
func (u *UI) setTiers(a [core.NumTiers]bool) {
	for t, k := range u.tiers.checks {
		k.Checked = a[t]
		k.Refresh()
	}
	u.syncTiers()
}

// syncTiers makes the preset, the no-int4 box and the block size's row
// agree with the boxes ticked.
func (u *UI) syncTiers() {
	c := u.tiers
	c.syncing = true
	defer func() { c.syncing = false }()
	p := presetOf(c.chosen())
	if p >= 0 {
		c.preset.SetSelected(tierPresets[p].label)
	} else {
		c.preset.SetSelected(customTiers)
	}
	u.noInt4.SetChecked(p == presetPaper)
	if c.blocksOn() {
		c.blockR.Show()
	} else {
		c.blockR.Hide()
	}
	u.relayout()
}

// tiersChanged follows a box ticked or the block size typed.
func (u *UI) tiersChanged() {
	if u.tiers == nil || u.tiers.syncing {
		return
	}
	u.syncTiers()
	u.settingsChanged()
	u.Replan()
}

// presetChosen ticks a preset's tiers; custom leaves the boxes to say.
func (u *UI) presetChosen(label string) {
	if u.tiers == nil || u.tiers.syncing {
		return
	}
	for _, p := range tierPresets {
		if p.label == label {
			a, _ := core.ParseTiers(p.list)
			u.setTiers(a)
			u.settingsChanged()
			u.Replan()
		}
	}
}

// noInt4Changed makes the no-int4 box the paper's preset, or the default.
func (u *UI) noInt4Changed(on bool) {
	if u.tiers == nil || u.tiers.syncing {
		return
	}
	list := tierPresets[presetDefault].list
	if on {
		list = tierPresets[presetPaper].list
	}
	a, _ := core.ParseTiers(list)
	u.setTiers(a)
	u.settingsChanged()
	u.Replan()
}

// samePlanSettings reports whether a plan assigned under a holds the
// tiers the settings b ask for.
func samePlanSettings(a, b compress.Settings) bool {
	return a.Budget == b.Budget && a.NoInt4 == b.NoInt4 && a.Tiers == b.Tiers && a.Block == b.Block
}
