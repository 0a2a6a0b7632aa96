package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// csvFromSynth writes synthetic rows as a CSV with a header: clicked, the
// six categorical columns, and, with leak set, an "outcome" column that
// spells the label out ("yes"/"no").
func csvFromSynth(t *testing.T, dir string, rows string, leak bool) string {
	t.Helper()
	src := filepath.Join(dir, "synth.tsv")
	if code, _, e := shark(t, "synth", "-o", src, "--rows", rows, "--fields", "6"); code != 0 {
		t.Fatal(e)
	}
	b, _ := os.ReadFile(src)
	var out bytes.Buffer
	out.WriteString("clicked,a,b,c,d,e,f")
	if leak {
		out.WriteString(",outcome")
	}
	out.WriteString("\n")
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		out.WriteString(cols[0] + "," + strings.Join(cols[14:20], ","))
		if leak {
			out.WriteString(map[string]string{"1": ",yes", "0": ",no"}[cols[0]])
		}
		out.WriteString("\n")
	}
	p := filepath.Join(dir, "d.csv")
	os.WriteFile(p, out.Bytes(), 0o644)
	return p
}

// A column that gives the label away is named, in a warning and in the
// JSON; clean data gives no such warning.
func TestTrainWarnsOfLeaks(t *testing.T) {
	for _, leak := range []bool{true, false} {
		dir := t.TempDir()
		data := csvFromSynth(t, dir, "3000", leak)
		code, out, e := shark(t, "train", data, "--label", "clicked", "-o", filepath.Join(dir, "m.shark"), "--epochs", "1", "--json")
		var r struct {
			AUC   float64
			Leaks []struct {
				Field string
				AUC   float64
			}
		}
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || !strings.Contains(out, `"leaks"`) {
			t.Fatalf("leak %v: exit %d %s %s", leak, code, out, e)
		}
		warned := strings.Contains(e, `column "outcome" alone separates the held-out labels`)
		named := len(r.Leaks) == 1 && r.Leaks[0].Field == "outcome" && r.Leaks[0].AUC >= 0.99
		if leak && (!warned || !named) || !leak && (warned || len(r.Leaks) != 0) {
			t.Errorf("leak %v: AUC %v, leaks %v, stderr %q", leak, r.AUC, r.Leaks, e)
		}
	}
}
