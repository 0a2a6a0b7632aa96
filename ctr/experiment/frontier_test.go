package experiment

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The frontier keeps the points no other beats with as few bytes and a
// higher AUC, smallest first; results.json, the report and the chart
// carry it.
func TestSweepFrontier(t *testing.T) {
	pt := func(keep, budget float64, bytes int64, auc float64) SweepPoint {
		return SweepPoint{Keep: keep, Budget: budget, EmbeddingBytes: bytes, AUC: auc, BytesFP32: 1000, AUCBefore: 0.8}
	}
	pts := []SweepPoint{
		pt(1, 0, 1000, 0.80),   // fp32: the best AUC, the most bytes
		pt(1, 0.3, 300, 0.79),  // on
		pt(1, 0.5, 500, 0.795), // on
		pt(0.5, 0, 500, 0.78),  // dominated by 300 bytes at 0.79
		pt(0.5, 0.3, 150, 0.77),
		pt(0.5, 0.5, 250, 0.77), // dominated: as good at 150
		pt(1, 0.8, 800, 0.795),  // dominated: as good at 500
	}
	front := Frontier(pts)
	want := []int64{150, 300, 500, 1000}
	if len(front) != len(want) {
		t.Fatalf("frontier %+v", front)
	}
	for i, p := range front {
		if p.EmbeddingBytes != want[i] {
			t.Fatalf("frontier %+v, want bytes %v", front, want)
		}
	}
	dir := t.TempDir()
	if err := WriteSweep(Report{Dir: dir, Cmd: "shark experiment sweep"}, pts); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Frontier []SweepPoint `json:"frontier"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	if err := json.Unmarshal(b, &res); err != nil || len(res.Frontier) != 4 || res.Frontier[0].Keep != 0.5 || res.Frontier[0].Budget != 0.3 {
		t.Fatalf("results.json frontier: %v %+v", err, res.Frontier)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	svg, _ := os.ReadFile(filepath.Join(dir, "sweep.svg"))
	if !strings.Contains(string(md), "## Frontier") || !strings.Contains(string(md), "| 150 | 85.0% | 0.7700 | 50% | 30% |") || !strings.Contains(string(svg), "frontier") {
		t.Fatalf("report:\n%s", md)
	}
}
