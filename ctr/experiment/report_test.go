package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fields of zero importance both ways (constant in the data) are not drawn
// as one blob at the scatter's origin: the chart and the report name them,
// and every other field is a point.
func TestTaylorScatterLeavesOutZeroFields(t *testing.T) {
	e := &TaylorExperiment{Repeats: 1, Rows: 100, TaylorSeconds: 1, ExactSeconds: 2}
	for i := 0; i < 12; i++ {
		e.Fields = append(e.Fields, fmt.Sprintf("C%d", i+1))
		v := float64(i % 4) // C1, C5 and C9 score 0 both ways
		e.Taylor, e.Exact, e.ExactAUCDrop = append(e.Taylor, v), append(e.Exact, v/2), append(e.ExactAUCDrop, 0)
	}
	e.Exact[3] = 0 // C4: zero one way only, still a point
	dir := t.TempDir()
	if err := WriteTaylor(Report{Dir: dir, Cmd: "shark experiment taylor"}, e); err != nil {
		t.Fatal(err)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "taylor-vs-exact.svg"))
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if n := strings.Count(string(svg), "<circle"); n != 9 {
		t.Errorf("%d points drawn, want the 9 fields not zero both ways", n)
	}
	note := "3 fields with zero importance both ways: C1, C5, C9."
	if !strings.Contains(string(svg), note) || !strings.Contains(string(md), note) {
		t.Errorf("the chart or the report lacks %q:\n%s\n%s", note, svg, md)
	}
	if strings.Contains(string(svg), ">fields</text>") {
		t.Error("the one-series scatter draws a legend")
	}
	if got := listSome([]string{"a", "b", "c"}, 2); got != "a, b and 1 more" {
		t.Errorf("listSome: %q", got)
	}
}
