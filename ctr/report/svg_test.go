package report

import (
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// elements parses svg as XML (failing the test if it is not well formed)
// and returns every element with its attributes and text.
func elements(t *testing.T, svg string) []elem {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var out []elem
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not well-formed SVG: %v", err)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			e := elem{name: v.Name.Local, attr: map[string]string{}}
			for _, a := range v.Attr {
				e.attr[a.Name.Local] = a.Value
			}
			out = append(out, e)
		case xml.CharData:
			if len(out) > 0 {
				out[len(out)-1].text += string(v)
			}
		}
	}
}

type elem struct {
	name, text string
	attr       map[string]string
}

func (e elem) f(t *testing.T, a string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(e.attr[a], 64)
	if err != nil {
		t.Fatalf("<%s %s=%q>: %v", e.name, a, e.attr[a], err)
	}
	return v
}

// Every point is drawn inside the plot area, in the order of its values,
// and names from outside (labels, series, titles) are escaped.
func TestChartPointsInsidePlot(t *testing.T) {
	pts := []Point{{1, 0.5, "a<b"}, {10, 0.7, "c&d"}, {100, 0.6, `"e"`}}
	svg := Chart{Title: "AUC <by> size", XLabel: "KiB", YLabel: "AUC", LogX: true,
		Series: []Series{{Name: "keep <all>", Points: pts, Line: true}}}.SVG()
	var circles []elem
	var texts []string
	for _, e := range elements(t, svg) {
		switch e.name {
		case "circle":
			circles = append(circles, e)
		case "text":
			texts = append(texts, e.text)
		}
	}
	if len(circles) != len(pts) {
		t.Fatalf("%d circles, want %d", len(circles), len(pts))
	}
	for i, c := range circles {
		x, y := c.f(t, "cx"), c.f(t, "cy")
		if x < left || x > width-right || y < top || y > height-bott {
			t.Errorf("point %d at (%v, %v), outside the plot", i, x, y)
		}
	}
	// On a log axis 1, 10, 100 are evenly spaced.
	d1 := circles[1].f(t, "cx") - circles[0].f(t, "cx")
	d2 := circles[2].f(t, "cx") - circles[1].f(t, "cx")
	if d1 <= 0 || math.Abs(d1-d2) > 0.2 {
		t.Errorf("log x: steps %v and %v, want equal and positive", d1, d2)
	}
	// Higher values are drawn higher (smaller y).
	if !(circles[1].f(t, "cy") < circles[2].f(t, "cy") && circles[2].f(t, "cy") < circles[0].f(t, "cy")) {
		t.Errorf("y order wrong: %v %v %v", circles[0].attr["cy"], circles[1].attr["cy"], circles[2].attr["cy"])
	}
	joined := strings.Join(texts, "|")
	for _, s := range []string{"a<b", "c&d", `"e"`, "AUC <by> size"} {
		if !strings.Contains(joined, s) {
			t.Errorf("text %q not drawn (texts: %s)", s, joined)
		}
	}
	var ticks []string
	for _, s := range texts {
		if s == "1" || s == "10" || s == "100" {
			ticks = append(ticks, s)
		}
	}
	if len(ticks) != 3 {
		t.Errorf("log x ticks %v, want 1, 10 and 100", ticks)
	}
}

// Bars are as long as their values, from one zero line, negative ones to
// its left; a chart of no points or one value still draws.
func TestBars(t *testing.T) {
	svg := Bars("drop", "AUC", []string{"a", "b", "c"}, []float64{2, 1, -1})
	var rects []elem
	for _, e := range elements(t, svg) {
		if e.name == "rect" && e.attr["fill"] == palette[0] {
			rects = append(rects, e)
		}
	}
	if len(rects) != 3 {
		t.Fatalf("%d bars, want 3", len(rects))
	}
	w := func(i int) float64 { return rects[i].f(t, "width") }
	if math.Abs(w(0)-2*w(1)) > 0.2 || math.Abs(w(1)-w(2)) > 0.2 {
		t.Errorf("bar widths %v %v %v, want 2:1:1", w(0), w(1), w(2))
	}
	zero := rects[0].f(t, "x")
	if math.Abs(rects[1].f(t, "x")-zero) > 0.1 || math.Abs(rects[2].f(t, "x")+w(2)-zero) > 0.2 {
		t.Errorf("bars do not meet at zero: %v %v %v", rects[0].attr["x"], rects[1].attr["x"], rects[2].attr["x"])
	}
	elements(t, Chart{Title: "empty"}.SVG())
	elements(t, Chart{Series: []Series{{Name: "one", Points: []Point{{3, 3, ""}}}}}.SVG())
	elements(t, Bars("one", "x", []string{"z"}, []float64{0}))
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.5: "0.5", 0.1234567: "0.1235", 250: "250", 2e6: "2e+06", 1e-4: "1e-04", -3: "-3"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}

// A legend is drawn for two series or more, never for one: its one entry
// would say nothing the title does not.
func TestLegendOnlyForSeveralSeries(t *testing.T) {
	texts := func(c Chart) string {
		var out []string
		for _, e := range elements(t, c.SVG()) {
			if e.name == "text" {
				out = append(out, e.text)
			}
		}
		return strings.Join(out, "|")
	}
	one := Chart{Series: []Series{{Name: "fields", Points: []Point{{1, 1, ""}, {2, 2, ""}}}}}
	if got := texts(one); strings.Contains(got, "fields") {
		t.Errorf("a one-series chart draws a legend: %s", got)
	}
	two := Chart{Series: []Series{{Name: "keep <all>", Points: []Point{{1, 1, ""}}}, {Name: "keep & half", Points: []Point{{2, 2, ""}}}}}
	if got := texts(two); !strings.Contains(got, "keep <all>") || !strings.Contains(got, "keep & half") {
		t.Errorf("a two-series chart lacks its legend: %s", got)
	}
}

// Labels never overlap one another, stay in the plot beside their own
// point, and those that found no place are counted in a note: here a
// crowd of 60 points near one place and a few apart.
func TestLabelsDoNotOverlap(t *testing.T) {
	var pts []Point
	for i := 0; i < 60; i++ {
		pts = append(pts, Point{0.001 * float64(i%7), 0.002 * float64(i/7), "C" + strconv.Itoa(i)})
	}
	pts = append(pts, Point{1, 1, "far"}, Point{0.5, 0.9, "mid"}, Point{0.9, 0.1, "low"})
	at := map[string][2]float64{}
	type lbl struct {
		x0, y0, x1, y1 float64
		text           string
	}
	var labels []lbl
	var note string
	for _, e := range elements(t, Chart{Series: []Series{{Name: "fields", Points: pts}}}.SVG()) {
		switch {
		case e.name == "circle":
			at[e.text] = [2]float64{e.f(t, "cx"), e.f(t, "cy")}
		case e.name == "text" && e.attr["font-size"] == "10":
			x, y := e.f(t, "x"), e.f(t, "y")
			// A box no smaller than the text: 0.6 em a character.
			labels = append(labels, lbl{x, y - 10, x + 6*float64(len(e.text)), y + 2, e.text})
		case e.name == "text" && strings.Contains(e.text, "left out"):
			note = e.text
		}
	}
	for i, a := range labels {
		if a.x0 < left || a.x1 > width-right || a.y0 < top || a.y1 > height-bott {
			t.Errorf("label %q outside the plot: %+v", a.text, a)
		}
		for _, b := range labels[:i] {
			if a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 {
				t.Errorf("labels %q and %q overlap: %+v %+v", a.text, b.text, a, b)
			}
		}
	}
	drawn := map[string]bool{}
	for _, l := range labels {
		drawn[l.text] = true
	}
	for _, name := range []string{"far", "mid", "low"} {
		if !drawn[name] {
			t.Errorf("the lone point %q is not labelled", name)
		}
	}
	want := strconv.Itoa(len(pts)-len(labels)) + " labels left out"
	if len(labels) == len(pts) || !strings.HasPrefix(note, want) {
		t.Errorf("%d of %d labels drawn, note %q; want some left out and the note %q", len(labels), len(pts), note, want)
	}
}

// A chart's note is drawn, escaped, under the plot.
func TestChartNote(t *testing.T) {
	svg := Chart{Note: "3 fields <zero>", Series: []Series{{Points: []Point{{1, 1, "a"}}}}}.SVG()
	for _, e := range elements(t, svg) {
		if e.name == "text" && strings.TrimSpace(e.text) == "3 fields <zero>" {
			if e.f(t, "y") <= height-bott {
				t.Errorf("note at y=%v, inside the plot", e.f(t, "y"))
			}
			return
		}
	}
	t.Errorf("note not drawn:\n%s", svg)
}

// The bar chart has a value axis: ticks at round values, each where a bar
// of that value ends.
func TestBarTicks(t *testing.T) {
	svg := Bars("drop", "AUC", []string{"a", "b", "c"}, []float64{2, 1, -1})
	var bars []elem
	tick := map[string]float64{}
	for _, e := range elements(t, svg) {
		switch {
		case e.name == "rect" && e.attr["fill"] == palette[0]:
			bars = append(bars, e)
		case e.name == "text" && e.attr["class"] == "tick":
			tick[e.text] = e.f(t, "x")
		}
	}
	for _, v := range []string{"-1", "0", "1", "2"} {
		if _, ok := tick[v]; !ok {
			t.Fatalf("no tick %s (ticks %v)", v, tick)
		}
	}
	end := func(i int) float64 { return bars[i].f(t, "x") + bars[i].f(t, "width") }
	for _, c := range []struct {
		tick string
		x    float64
	}{{"2", end(0)}, {"1", end(1)}, {"0", bars[1].f(t, "x")}, {"-1", bars[2].f(t, "x")}} {
		if math.Abs(tick[c.tick]-c.x) > 0.2 {
			t.Errorf("tick %s at x=%v, its bar ends at %v", c.tick, tick[c.tick], c.x)
		}
	}
}
