package report

import (
	"math"
	"sort"
	"unicode/utf8"
)

// Label geometry, in pixels. labelEm over-estimates the width of a
// character of a sans-serif font at labelFont, so that boxes that do not
// overlap here do not overlap on screen.
const (
	labelFont    = 10
	labelEm      = 0.62
	labelHeight  = 12
	labelDescent = 3
	labelGap     = 5
	pointRadius  = 4
)

// box is a rectangle: x0 <= x1, y0 <= y1 (y grows downwards).
type box struct{ x0, y0, x1, y1 float64 }

func (a box) overlaps(b box) bool {
	return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
}

func (a box) inside(b box) bool {
	return a.x0 >= b.x0 && a.x1 <= b.x1 && a.y0 >= b.y0 && a.y1 <= b.y1
}

// pixPoint is a point where it is drawn, with its label.
type pixPoint struct {
	x, y  float64
	label string
}

// placedLabel is a label's box and text.
type placedLabel struct {
	box
	text string
}

func labelWidth(s string) float64 { return labelEm * labelFont * float64(utf8.RuneCountInString(s)) }

// candidates are the places a label may take beside its point, the first
// preferred: right and above, right and below, left, above, below.
func candidates(p pixPoint) []box {
	w, h := labelWidth(p.label), float64(labelHeight)
	r, l := p.x+labelGap, p.x-labelGap-w
	up, down := p.y-labelGap/2-h, p.y+labelGap/2
	c := p.x - w/2
	return []box{
		{r, up, r + w, up + h}, {r, down, r + w, down + h},
		{l, up, l + w, up + h}, {l, down, l + w, down + h},
		{c, p.y - pointRadius - 2 - h, c + w, p.y - pointRadius - 2},
		{c, p.y + pointRadius + 2, c + w, p.y + pointRadius + 2 + h},
	}
}

// placeLabels places the labels greedily, most prominent point first (the
// farthest from the plot's lower-left corner: in importance charts the
// ones worth naming), each where it covers no label placed before it, no
// point but its own, and stays inside plot. It returns the labels placed
// and how many found no place.
func placeLabels(pts []pixPoint, plot box) ([]placedLabel, int) {
	order := make([]int, 0, len(pts))
	for i, p := range pts {
		if p.label != "" {
			order = append(order, i)
		}
	}
	dist := func(p pixPoint) float64 { return math.Hypot(p.x-plot.x0, plot.y1-p.y) }
	sort.SliceStable(order, func(a, b int) bool { return dist(pts[order[a]]) > dist(pts[order[b]]) })
	var placed []placedLabel
	omitted := 0
	for _, i := range order {
		if bx, ok := freePlace(pts, i, placed, plot); ok {
			placed = append(placed, placedLabel{bx, pts[i].label})
		} else {
			omitted++
		}
	}
	return placed, omitted
}

// freePlace is the first candidate place of point i's label that is free.
func freePlace(pts []pixPoint, i int, placed []placedLabel, plot box) (box, bool) {
next:
	for _, bx := range candidates(pts[i]) {
		if !bx.inside(plot) {
			continue
		}
		for _, l := range placed {
			if bx.overlaps(l.box) {
				continue next
			}
		}
		for j, p := range pts {
			if j != i && bx.overlaps(box{p.x - pointRadius, p.y - pointRadius, p.x + pointRadius, p.y + pointRadius}) {
				continue next
			}
		}
		return bx, true
	}
	return box{}, false
}
