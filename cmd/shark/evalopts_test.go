package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// eval reads data with the options the model was trained with: the same
// options given again change nothing, other ones are refused saying what
// the model was trained with, never dropped or ignored silently.
func TestEvalModelOptions(t *testing.T) {
	dir := t.TempDir()
	data := csvFromSynth(t, dir, "2000", true)
	m3, mo := filepath.Join(dir, "m3.shark"), filepath.Join(dir, "mo.shark")
	for _, tr := range [][]string{
		{"train", data, "-o", m3, "--label", "clicked", "--ignore", "outcome", "--epochs", "1", "--dim", "4"},
		{"train", data, "-o", mo, "--label", "clicked", "--epochs", "1", "--dim", "4"},
	} {
		if code, _, e := shark(t, tr...); code != 0 {
			t.Fatal(e)
		}
	}
	code, want, e := shark(t, "eval", m3, data, "--json")
	if code != 0 {
		t.Fatal(e)
	}
	for _, args := range [][]string{
		{"--label", "clicked"},
		{"--label", "clicked", "--ignore", "outcome", "--format", "csv"},
		{"--ignore", "outcome", "--min-count", "2"},
	} {
		code, out, e := shark(t, append([]string{"eval", m3, data, "--json"}, args...)...)
		if code != 0 || out != want {
			t.Errorf("eval %v, the options it was trained with: exit %d %s %s, want %s", args, code, out, e, want)
		}
	}
	// The format was sniffed at training, so a format given is used, not
	// dropped: criteo rows are not these.
	if code, _, e := shark(t, "eval", m3, data, "--format", "criteo"); code != 1 || !strings.Contains(e, "criteo rows") {
		t.Errorf("eval --format criteo of a CSV: exit %d %q", code, e)
	}
	for _, c := range []struct {
		model string
		args  []string
		want  string
	}{
		{m3, []string{"--ignore", "c"}, "--ignore c, but the model was trained with --ignore outcome"},
		{m3, []string{"--label", "clicked", "--ignore", "outcome,c"}, "--ignore outcome,c, but the model was trained with --ignore outcome"},
		{m3, []string{"--label", "clicked>0"}, `--label "clicked>0", but the model was trained with --label "clicked"`},
		{m3, []string{"--label", "a"}, `--label "a", but the model was trained with --label "clicked"`},
		{m3, []string{"--min-count", "5"}, "--min-count 5, but the model was trained with --min-count 2"},
		{mo, []string{"--ignore", "outcome"}, "--ignore outcome, but the model was trained with no --ignore"},
		{mo, []string{"--numeric", "a"}, "--numeric a, but the model was trained with no --numeric"},
	} {
		code, _, e := shark(t, append([]string{"eval", c.model, data}, c.args...)...)
		if code != 2 || !strings.Contains(e, c.want) {
			t.Errorf("eval %s %v: exit %d, %q; want exit 2 saying %q", filepath.Base(c.model), c.args, code, e, c.want)
		}
	}
}

// evalResult is what TestEvalCSVColumnOrder compares of eval's JSON.
type evalResult struct {
	AUC  float64
	Rows struct{ Count, Excluded int }
}

// reorderCSV writes a copy of the CSV at src with its columns in the order
// of cols, given as indices into src's columns.
func reorderCSV(t *testing.T, src, dst string, cols []int) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, ",")
		for i, c := range cols {
			if i > 0 {
				out.WriteByte(',')
			}
			out.WriteString(f[c])
		}
		out.WriteByte('\n')
	}
	if err := os.WriteFile(dst, []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// eval of copies of the training CSV with two columns swapped, or all of
// them moved, scores the same held-out rows with the same AUC, leaving out
// the same training rows; a copy with a column renamed is refused naming it.
func TestEvalCSVColumnOrder(t *testing.T) {
	dir := t.TempDir()
	data := csvFromSynth(t, dir, "2000", true) // clicked,a,b,c,d,e,f,outcome
	m := filepath.Join(dir, "m.shark")
	if code, _, e := shark(t, "train", data, "-o", m, "--label", "clicked", "--ignore", "outcome", "--epochs", "2", "--dim", "4"); code != 0 {
		t.Fatal(e)
	}
	eval := func(path string) (evalResult, string) {
		var r evalResult
		code, out, e := shark(t, "eval", m, path, "--json")
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
			return r, e
		}
		return r, ""
	}
	want, e := eval(data)
	if e != "" || want.Rows.Excluded == 0 {
		t.Fatalf("the training file: %+v %s", want, e)
	}
	for name, cols := range map[string][]int{"swapped.csv": {0, 2, 1, 3, 4, 5, 6, 7}, "moved.csv": {6, 7, 3, 0, 5, 1, 4, 2}} {
		p := filepath.Join(dir, name)
		reorderCSV(t, data, p, cols)
		if got, e := eval(p); got != want {
			t.Errorf("%s: %+v %s, want %+v as the training file", name, got, e, want)
		}
	}
	b, _ := os.ReadFile(data)
	renamed := filepath.Join(dir, "renamed.csv")
	os.WriteFile(renamed, []byte(strings.Replace(string(b), "clicked,a,", "clicked,z,", 1)), 0o644)
	if _, e := eval(renamed); !strings.Contains(e, `the model's fields "a" are not columns of the file; the file's columns "z" are not fields of the model`) {
		t.Errorf("a renamed column: %q", e)
	}
}
