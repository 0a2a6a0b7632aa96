package ui

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"shark/compress"
	"shark/core"
)

// maxListed bounds the Gather nodes listed for one table: a model that
// reads a table from hundreds of places would push the controls off the
// window.
const maxListed = 8

// maxOpenMeta is the most file metadata entries shown unfolded; more
// (a checkpoint's optimizer settings, 64 at most) start folded.
const maxOpenMeta = 6

// elided shows name cut in its middle (elideMiddle) to the width it is
// given, whole when it fits: the part that tells it apart stays.
func elided(name string) fyne.CanvasObject {
	return container.New(&elideLayout{name: name}, widget.NewLabel(name))
}

// elideLayout sizes its one label to the width given and sets its text to
// the name elided to fit; at least the name's tail is asked for.
type elideLayout struct{ name string }

func (e *elideLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	w := tailWidth(e.name) + 2*theme.InnerPadding()
	return fyne.NewSize(min(w, objs[0].MinSize().Width), objs[0].MinSize().Height)
}

func (e *elideLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	l := objs[0].(*widget.Label)
	if s := elideMiddle(e.name, size.Width-2*theme.InnerPadding()); l.Text != s {
		l.SetText(s)
	}
	l.Move(fyne.NewPos(0, 0))
	l.Resize(size)
}

// wrapped is a label that breaks its lines to the pane's width.
func wrapped(s string, style fyne.TextStyle) *widget.Label {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, style)
	l.Wrapping = fyne.TextWrapBreak
	return l
}

// sentence is a label of words, wrapped between them (wrapped breaks
// anywhere, for names).
func sentence(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// tensorFacts says what a tensor is and why, as the page and inspect say
// it: the Gather nodes that read a table (their names elided), the tensor
// whose storage a tied one shares, an optimizer's state, a compressed
// table's error.
func (u *UI) tensorFacts(ts compress.TensorSummary) []fyne.CanvasObject {
	var objs []fyne.CanvasObject
	t, err := u.in.File.Tensor(ts.Name)
	switch {
	case len(ts.GatheredBy) > 0:
		objs = append(objs, wrapped(fmt.Sprintf("%s, read by %s:", ts.Role, count(len(ts.GatheredBy), "Gather node")), fyne.TextStyle{}))
		for _, n := range ts.GatheredBy[:min(len(ts.GatheredBy), maxListed)] {
			objs = append(objs, elided(n))
		}
		if n := len(ts.GatheredBy) - maxListed; n > 0 {
			objs = append(objs, widget.NewLabel(fmt.Sprintf("and %s more", count(n, "node"))))
		}
	case err == nil && t.SameAs != "":
		objs = append(objs, widget.NewLabel("Tied: the same storage as"), elided(t.SameAs),
			wrapped("stored and compressed once under that name.", fyne.TextStyle{}))
	default:
		objs = append(objs, wrapped("Role: "+ts.Role, fyne.TextStyle{}))
		if ts.Why != "" {
			objs = append(objs, sentence(ts.Why))
		}
	}
	if ts.Tiers != nil {
		objs = append(objs, sentence("Rows per tier: "+tierCounts(ts.Tiers)))
	}
	if ts.Role == compress.RoleCompressed && (ts.RMSE != 0 || ts.MaxAbsErr != 0) {
		objs = append(objs, widget.NewLabel(fmt.Sprintf("Error against its source: RMSE %s, max abs %s", sig3(ts.RMSE), sig3(ts.MaxAbsErr))))
	}
	return objs
}

// tierCounts writes a table's rows per tier by name, in tier order: the
// default tiers always, the later ones where rows take them (as the
// summary names them).
func tierCounts(m map[string]int64) string {
	var parts []string
	for t := core.Tier(0); t < core.NumTiers; t++ {
		if n, ok := m[t.String()]; ok {
			parts = append(parts, t.String()+" "+compress.Count(n))
		}
	}
	return strings.Join(parts, ", ")
}

// listRole is a tensor's role as the tensor list shows it, short enough
// for the Role column to stay in view at 1024 px (the details say it
// whole): an optimizer's state without its explanation, a tied tensor
// with the end of the other's name.
func listRole(in *compress.Input, t compress.TensorSummary) string {
	if t.Role == compress.RoleOptimizer {
		short, _, _ := strings.Cut(t.Role, " (")
		return short
	}
	if ft, err := in.File.Tensor(t.Name); err == nil && ft.SameAs != "" {
		return compress.RoleSameAs + ` "` + elideMiddle(ft.SameAs, maxSameAsWidth) + `"`
	}
	return t.Role
}

// maxSameAsWidth is the width of the other tensor's name in a tied one's
// role in the list.
const maxSameAsWidth = 90

// sig3 writes an error to 3 significant digits, as the page does.
func sig3(n compress.Number) string {
	if f := float64(n); math.IsNaN(f) || math.IsInf(f, 0) {
		return "not a number"
	}
	return fmt.Sprintf("%.3g", float64(n))
}

// count writes n things: "1 Gather node", "2 Gather nodes".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// showMeta lists the file's metadata as the page does (an ONNX model's
// producer and graph, a checkpoint's wrapper, saved scalars such as its
// epoch, and why its structure cannot be kept for export), folded when
// long; a file without any shows nothing.
func (u *UI) showMeta(meta map[string]string) {
	u.meta.Items = nil
	if len(meta) == 0 {
		u.meta.Hide()
		u.meta.Refresh()
		return
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	box := container.NewVBox()
	for _, k := range keys {
		box.Add(wrapped(k+": "+meta[k], fyne.TextStyle{}))
	}
	u.meta.Append(widget.NewAccordionItem(fmt.Sprintf("File metadata (%d)", len(keys)), box))
	if len(keys) <= maxOpenMeta {
		u.meta.Open(0)
	}
	u.meta.Show()
	u.meta.Refresh()
}
