package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMethodCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "s.tsv")
	mdl := filepath.Join(dir, "m.shark")
	if code, _, e := shark(t, "synth", "-o", data, "--rows", "4000", "--fields", "6"); code != 0 {
		t.Fatal(e)
	}
	code, out, e := shark(t, "train", data, "-o", mdl, "--json", "--epochs", "2")
	var tr struct{ AUC float64 }
	if code != 0 || json.Unmarshal([]byte(out), &tr) != nil || tr.AUC < 0.6 {
		t.Fatalf("train: %d %s %s", code, out, e)
	}
	code, out, _ = shark(t, "eval", mdl, data, "--json")
	var ev struct {
		AUC  float64
		Rows struct {
			Kind                            string
			Count, Of, Excluded, Validation int
		}
	}
	// The held-out rows are a share of 0.2 drawn by each row's content.
	if code != 0 || json.Unmarshal([]byte(out), &ev) != nil || ev.Rows.Kind != "held-out split" || ev.Rows.Count < 700 || ev.Rows.Count > 900 ||
		ev.Rows.Count+ev.Rows.Excluded+ev.Rows.Validation != 4000 || ev.Rows.Of != 4000 {
		t.Fatalf("eval: %d %s", code, out)
	}
	if code, out, _ = shark(t, "eval", mdl, data, "--all-rows"); code != 0 || !strings.Contains(out, "all 4,000 rows of s.tsv, training rows included") {
		t.Fatalf("eval --all-rows: %d %s", code, out)
	}
	code, out, _ = shark(t, "score", mdl, data, "--exact", "--repeats", "1", "--json")
	var sc struct {
		Fields   []struct{ Name string }
		Spearman float64
		Seconds  map[string]float64
	}
	if code != 0 || json.Unmarshal([]byte(out), &sc) != nil || len(sc.Fields) != 39 || sc.Seconds["exact"] <= 0 {
		t.Fatalf("score: %d %s", code, out)
	}
	pruned := filepath.Join(dir, "p.shark")
	if code, out, e := shark(t, "prune", mdl, data, "--keep", "10", "-o", pruned, "--json"); code != 0 || !strings.Contains(out, `"kept"`) {
		t.Fatalf("prune: %s %s", out, e)
	}
	comp := filepath.Join(dir, "c.shark")
	rep := filepath.Join(dir, "c.md")
	code, out, e = shark(t, "compress", mdl, data, "--keep-fraction", "0.5", "--budget", "40%", "-o", comp, "--report", rep, "--json")
	var cr struct {
		Before int64    `json:"embedding_bytes_before"`
		After  int64    `json:"embedding_bytes_after"`
		Kept   []string `json:"kept_fields"`
		AUC0   float64  `json:"auc_before"`
		AUC1   float64  `json:"auc_after"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &cr) != nil || len(cr.Kept) != 20 || cr.After >= cr.Before {
		t.Fatalf("compress: %d %s %s", code, out, e)
	}
	if code, _, _ := shark(t, "verify", comp); code != 0 {
		t.Fatal("compressed model does not verify")
	}
	if code, out, _ := shark(t, "eval", comp, data); code != 0 || !strings.Contains(out, "AUC") {
		t.Fatal("compressed model does not evaluate")
	}
	if b, err := os.ReadFile(rep); err != nil || !strings.Contains(string(b), "embedding bytes") {
		t.Fatal("no report")
	}
	exp := filepath.Join(dir, "exp")
	if code, _, e := shark(t, "experiment", "taylor", mdl, data, "-o", exp, "--repeats", "1"); code != 0 {
		t.Fatal(e)
	}
	for _, f := range []string{"report.md", "results.json", "taylor-vs-exact.svg", "taylor-scores.svg"} {
		if _, err := os.Stat(filepath.Join(exp, f)); err != nil {
			t.Fatal(err)
		}
	}
	// A bad row names its line; --skip-bad goes on.
	bad := filepath.Join(dir, "bad.tsv")
	b, _ := os.ReadFile(data)
	os.WriteFile(bad, append(b, []byte("1\t2\n")...), 0o644)
	if code, _, e := shark(t, "eval", mdl, bad); code != 1 || !strings.Contains(e, "line 4001") {
		t.Fatalf("bad row: %d %q", code, e)
	}
	if code, _, e := shark(t, "eval", mdl, bad, "--skip-bad"); code != 0 || !strings.Contains(e, "skipped 1") {
		t.Fatalf("skip-bad: %d %q", code, e)
	}
}
