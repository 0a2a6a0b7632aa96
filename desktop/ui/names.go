package ui

import (
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// nameTail is the part of a tensor or node name that tells it from its
// siblings: the last two parts of a name of three or more, split at dots
// or slashes (TorchRec's "t_cat_0.weight" of
// "model.sparse_arch.embedding_bag_collection.embedding_bags.t_cat_0.weight",
// an ONNX node's "t_cat_0/Gather" of "/model/sparse_arch/.../t_cat_0/Gather"),
// the last of two ("weight" of "emb_user.weight", whose head then shows as
// far as it fits), or, for a long name of one part, its last 12 characters.
func nameTail(name string) string {
	if i := strings.LastIndexAny(name, "./"); i >= 0 {
		if j := strings.LastIndexAny(name[:i], "./"); j >= 0 {
			return name[j+1:]
		}
		return name[i+1:]
	}
	if utf8.RuneCountInString(name) > 24 {
		r := []rune(name)
		return string(r[len(r)-12:])
	}
	return name
}

// maxTailWidth bounds the width a name's tail asks for (tailWidth): a
// longer tail, one long module name, gives up its own start instead of
// widening the list or the plan past a 1024 px window.
const maxTailWidth = 140

// tailWidth is the least width name is given: an ellipsis and its tail,
// at most maxTailWidth.
func tailWidth(name string) float32 {
	return min(textWidth("…"+nameTail(name), false), maxTailWidth)
}

// elideMiddle fits name into width pixels of text by cutting the middle:
// as much of its head as fits, an ellipsis, and its tail (nameTail) whole,
// so that names sharing a long prefix stay apart. A name that fits is kept;
// where even the tail does not fit, its end does (endOf).
func elideMiddle(name string, width float32) string {
	if textWidth(name, false) <= width {
		return name
	}
	tail := nameTail(name)
	head := []rune(strings.TrimSuffix(name, tail))
	if len(head) == 0 {
		return name // all of it tells it apart: the label's own ellipsis ends it
	}
	if textWidth("…"+tail, false) > width {
		return endOf(name, width)
	}
	lo, hi := 0, len(head) // the longest head prefix that fits
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if textWidth(string(head[:mid])+"…"+tail, false) <= width {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return string(head[:lo]) + "…" + tail
}

// endOf is an ellipsis and the longest end of name that fits in width
// ("…e_ranking_tower.weight"): a name ends in what tells it apart.
func endOf(name string, width float32) string {
	r := []rune(name)
	lo, hi := 1, len(r)-1 // the earliest start whose end fits; the last rune always shows
	for lo < hi {
		mid := (lo + hi) / 2
		if textWidth("…"+string(r[mid:]), false) <= width {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return "…" + string(r[lo:])
}

// planColumns lays the plan's grid out, n cells a row: every column as
// wide as its widest cell, and the first, the tables' names, takes the
// width left (at least its names' tails need), each name elided in its middle to fit
// (an equal share each cut "user_embedding" to "user_embe…" with room to
// spare, and every TorchRec name to their common prefix).
type planColumns struct {
	n     int
	names []string // the first column's full texts, a row each
}

func (l *planColumns) measure(objs []fyne.CanvasObject) (cols, rows []float32) {
	cols = make([]float32, l.n)
	rows = make([]float32, (len(objs)+l.n-1)/l.n)
	for i, o := range objs {
		m := o.MinSize()
		cols[i%l.n] = max(cols[i%l.n], m.Width)
		rows[i/l.n] = max(rows[i/l.n], m.Height)
	}
	cols[0] = l.minName()
	return cols, rows
}

// minName is the width of the widest name's tail after an ellipsis (at
// most maxTailWidth): the least the names can show.
func (l *planColumns) minName() float32 {
	var w float32
	for _, n := range l.names {
		w = max(w, tailWidth(n))
	}
	return w + 2*theme.InnerPadding()
}

func sum(v []float32) (s float32) {
	for _, x := range v {
		s += x
	}
	return s
}

func (l *planColumns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	cols, rows := l.measure(objs)
	gap := theme.Padding()
	return fyne.NewSize(sum(cols)+gap*float32(len(cols)-1), sum(rows)+gap*float32(max(0, len(rows)-1)))
}

func (l *planColumns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	cols, rows := l.measure(objs)
	gap := theme.Padding()
	cols[0] = max(cols[0], size.Width-sum(cols[1:])-gap*float32(len(cols)-1))
	var y float32
	for r, h := range rows {
		var x float32
		for c, w := range cols {
			i := r*l.n + c
			if i >= len(objs) {
				break
			}
			if lab, ok := objs[i].(*widget.Label); ok && c == 0 && r < len(l.names) {
				if s := elideMiddle(l.names[r], w-2*theme.InnerPadding()); lab.Text != s {
					lab.SetText(s)
				}
			}
			objs[i].Move(fyne.NewPos(x, y))
			objs[i].Resize(fyne.NewSize(w, h))
			x += w + gap
		}
		y += h + gap
	}
}
