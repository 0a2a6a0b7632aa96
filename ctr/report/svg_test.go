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
	for _, s := range []string{"a<b", "c&d", `"e"`, "keep <all>", "AUC <by> size"} {
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
