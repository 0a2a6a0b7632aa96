// Package report draws the experiments' charts as standalone SVG files
// (no chart library: a few hundred lines cover scatter, line and bar charts,
// and the files need nothing to view) and writes Markdown around them.
package report

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
)

const (
	width, height          = 760, 400
	left, right, top, bott = 70, 170, 40, 60 // the legend sits in the right margin
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"}

// Point is a labelled point.
type Point struct {
	X, Y  float64
	Label string
}

// Series is a named set of points drawn in one colour.
type Series struct {
	Name   string
	Points []Point
	Line   bool // connect the points in X order
}

// Chart describes axes and series. A legend is drawn for two series or
// more (one entry would name nothing the title does not). Note, when set,
// is a line under the plot, for what the chart leaves out.
type Chart struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Series                []Series
	Note                  string
}

type scale struct {
	lo, hi     float64
	log        bool
	pxLo, pxHi float64
}

func (s scale) at(v float64) float64 {
	if s.log {
		v = math.Log10(math.Max(v, 1e-300))
	}
	if s.hi == s.lo {
		return (s.pxLo + s.pxHi) / 2
	}
	return s.pxLo + (v-s.lo)/(s.hi-s.lo)*(s.pxHi-s.pxLo)
}

func bounds(vals []float64, log bool) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if log {
			if v <= 0 {
				continue
			}
			v = math.Log10(v)
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if math.IsInf(lo, 0) {
		return 0, 1
	}
	pad := (hi - lo) * 0.05
	if pad == 0 {
		pad = math.Max(math.Abs(hi)*0.05, 1e-9)
	}
	return lo - pad, hi + pad
}

func ticks(lo, hi float64, log bool) []float64 {
	var out []float64
	if log {
		for e := math.Floor(lo); e <= math.Ceil(hi); e++ {
			if e >= lo && e <= hi {
				out = append(out, math.Pow(10, e))
			}
		}
		return out
	}
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if (hi-lo)/(step*m) <= 6 {
			step *= m
			break
		}
	}
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		out = append(out, v)
	}
	return out
}

func num(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case a >= 1e6 || a < 1e-3:
		return fmt.Sprintf("%.0e", v)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", v), "0"), ".")
}

func head(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
}

// SVG renders a scatter or line chart.
func (c Chart) SVG() string {
	var xs, ys []float64
	for _, s := range c.Series {
		for _, p := range s.Points {
			xs, ys = append(xs, p.X), append(ys, p.Y)
		}
	}
	xlo, xhi := bounds(xs, c.LogX)
	ylo, yhi := bounds(ys, c.LogY)
	sx := scale{xlo, xhi, c.LogX, left, width - right}
	sy := scale{ylo, yhi, c.LogY, height - bott, top}
	var b strings.Builder
	head(&b, c.Title)
	fmt.Fprintf(&b, `<g stroke="#ccc">`)
	for _, t := range ticks(xlo, xhi, c.LogX) {
		x := sx.at(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, x, top, x, height-bott)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" stroke="none" fill="#333">%s</text>`, x, height-bott+16, num(t))
	}
	for _, t := range ticks(ylo, yhi, c.LogY) {
		y := sy.at(t)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, left, y, width-right, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" stroke="none" fill="#333">%s</text>`, left-6, y+4, num(t))
	}
	fmt.Fprintf(&b, "</g>\n")
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", left, top, width-left-right, height-top-bott)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", (left+width-right)/2, height-18, html.EscapeString(c.XLabel))
	fmt.Fprintf(&b, `<text transform="translate(16,%d) rotate(-90)" text-anchor="middle">%s</text>`+"\n", (top+height-bott)/2, html.EscapeString(c.YLabel))
	var labelled []pixPoint
	for i, s := range c.Series {
		col := palette[i%len(palette)]
		pts := append([]Point{}, s.Points...)
		if s.Line {
			sort.SliceStable(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
			var path strings.Builder
			for k, p := range pts {
				cmd := "L"
				if k == 0 {
					cmd = "M"
				}
				fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, sx.at(p.X), sy.at(p.Y))
			}
			fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", path.String(), col)
		}
		for _, p := range pts {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s</title></circle>`, sx.at(p.X), sy.at(p.Y), col, html.EscapeString(fmt.Sprintf("%s (%s, %s)", p.Label, num(p.X), num(p.Y))))
			labelled = append(labelled, pixPoint{sx.at(p.X), sy.at(p.Y), p.Label})
		}
		if len(c.Series) > 1 {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", width-right+12, top+8+16*i, col, width-right+27, top+17+16*i, html.EscapeString(s.Name))
		}
	}
	c.drawLabels(&b, labelled)
	b.WriteString("</svg>\n")
	return b.String()
}

// drawLabels writes the labels that fit beside their points, and a note
// counting those left out so that no two overlap.
func (c Chart) drawLabels(b *strings.Builder, pts []pixPoint) {
	placed, omitted := placeLabels(pts, box{left, top, width - right, height - bott})
	for _, l := range placed {
		fmt.Fprintf(b, `<text class="label" x="%.1f" y="%.1f" font-size="%d" fill="#444">%s</text>`, l.x0, l.y1-labelDescent, labelFont, html.EscapeString(l.text))
	}
	note := c.Note
	if omitted > 0 {
		note = strings.TrimSpace(fmt.Sprintf("%s %d labels left out where they would overlap (a point's tooltip names it).", note, omitted))
	}
	if note != "" {
		fmt.Fprintf(b, `<text class="note" x="%d" y="%d" font-size="11" fill="#444">%s</text>`+"\n", left, height-3, html.EscapeString(note))
	}
}

// Bars renders a horizontal bar chart, one bar per name, in the given order.
func Bars(title, xlabel string, names []string, vals []float64) string {
	var b strings.Builder
	h := max(height, top+bott+18*len(names))
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, h, width, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", 10, html.EscapeString(title))
	lo, hi := 0.0, 0.0
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		hi = lo + 1
	}
	x0, x1 := 130.0, float64(width-60)
	at := func(v float64) float64 { return x0 + (v-lo)/(hi-lo)*(x1-x0) }
	bh := math.Min(16, float64(h-top-bott)/float64(max(1, len(names))))
	barTicks(&b, lo, hi, at, float64(top)+bh*float64(len(names)))
	for i, n := range names {
		y := float64(top) + float64(i)*bh
		a, z := at(math.Min(0, vals[i])), at(math.Max(0, vals[i]))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, x0-6, y+bh*0.75, html.EscapeString(n))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, a, y+1, math.Max(z-a, 0.5), bh-2, palette[0])
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10">%s</text>`+"\n", z+4, y+bh*0.75, num(vals[i]))
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#333"/>`, at(0), top, at(0), float64(top)+bh*float64(len(names)))
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", (x0+x1)/2, float64(top)+bh*float64(len(names))+34, html.EscapeString(xlabel))
	b.WriteString("</svg>\n")
	return b.String()
}

// barTicks draws the value axis of a bar chart under its last bar (at
// y=end): a grid line and a number at each tick, drawn before the bars so
// that they cover the grid.
func barTicks(b *strings.Builder, lo, hi float64, at func(float64) float64, end float64) {
	fmt.Fprintf(b, `<g stroke="#ccc">`)
	for _, t := range ticks(lo, hi, false) {
		x := at(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f"/>`, x, top, x, end+4)
		fmt.Fprintf(b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle" stroke="none" fill="#333">%s</text>`, x, end+16, num(t))
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/></g>`+"\n", at(lo), end, at(hi), end)
}
