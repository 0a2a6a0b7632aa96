package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// heldOutFiles writes a training file and a separate test file of the same
// synthetic data, and a model trained on the one with the other as --test.
func heldOutFiles(t *testing.T) (dir, train, test, model string, auc float64) {
	t.Helper()
	dir = t.TempDir()
	all := filepath.Join(dir, "all.tsv")
	if code, _, e := shark(t, "synth", "-o", all, "--rows", "6000", "--fields", "6"); code != 0 {
		t.Fatal(e)
	}
	b, _ := os.ReadFile(all)
	lines := bytes.SplitAfter(b, []byte("\n"))
	train, test = filepath.Join(dir, "train.tsv"), filepath.Join(dir, "test.tsv")
	os.WriteFile(train, bytes.Join(lines[:4000], nil), 0o644)
	os.WriteFile(test, bytes.Join(lines[4000:], nil), 0o644)
	model = filepath.Join(dir, "m.shark")
	code, out, e := shark(t, "train", train, "--test", test, "-o", model, "--epochs", "2", "--json")
	var r struct {
		AUC  float64
		Rows struct{ Kind, File string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Rows.Kind != "test file" || r.Rows.File != "test.tsv" {
		t.Fatalf("train: %d %s %s", code, out, e)
	}
	return dir, train, test, model, r.AUC
}

// auc runs a command with --json and returns its AUC field and rows.
func auc(t *testing.T, field string, args ...string) (float64, string) {
	t.Helper()
	code, out, e := shark(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("%v: %d %s", args, code, e)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	rows, _ := r["rows"].(map[string]any)
	v, _ := r[field].(float64)
	return v, rows["text"].(string)
}

// A model trained with --test gives, through every command that scores
// it, the AUC of evaluating it on the test file directly, and every such
// command refuses the training file alone.
func TestHeldOutRows(t *testing.T) {
	dir, train, test, model, trained := heldOutFiles(t)
	direct, rows := auc(t, "auc", "eval", model, test)
	if direct != trained || rows != "all 2,000 rows of test.tsv, a file the model was not trained on" {
		t.Fatalf("eval on the test file: %v (%s), train reported %v", direct, rows, trained)
	}
	if got, rows := auc(t, "auc", "eval", model, train, "--test", test); got != direct || rows != "test file test.tsv, 2,000 rows" {
		t.Fatalf("eval --test: %v (%s), want %v", got, rows, direct)
	}
	pruned, comp := filepath.Join(dir, "p.shark"), filepath.Join(dir, "c.shark")
	if got, _ := auc(t, "base_auc", "prune", model, train, "--test", test, "--keep", "20", "-o", pruned); got != direct {
		t.Fatalf("prune's base AUC %v, want %v", got, direct)
	}
	if got, _ := auc(t, "auc_before", "compress", model, train, "--test", test, "-o", comp); got != direct {
		t.Fatalf("compress's AUC before %v, want %v", got, direct)
	}
	if _, rows := auc(t, "", "score", model, train, "--test", test); rows != "test file test.tsv, 2,000 rows" {
		t.Fatalf("score: rows %s", rows)
	}
	if _, rows := auc(t, "", "experiment", "taylor", model, train, "--test", test, "-o", filepath.Join(dir, "x"), "--repeats", "1"); rows != "test file test.tsv, 2,000 rows" {
		t.Fatalf("experiment: rows %s", rows)
	}
	// What compress and prune report after is what their files score on
	// the test file.
	after, _ := auc(t, "auc_after", "compress", model, train, "--test", test, "-o", comp)
	if got, _ := auc(t, "auc", "eval", comp, test); got != after {
		t.Fatalf("the compressed file scores %v on the test file, compress said %v", got, after)
	}
	// The training file alone is refused, naming the --test to pass, and so
	// is the training file passed as the test file; the pruned and
	// compressed models were fine-tuned on all of it too.
	for _, args := range [][]string{
		{"eval", model, train}, {"score", model, train}, {"prune", model, train, "--keep", "20", "-o", filepath.Join(dir, "p2.shark")},
		{"compress", model, train, "-o", filepath.Join(dir, "c2.shark")}, {"experiment", "sweep", model, train, "-o", filepath.Join(dir, "y")},
		{"eval", pruned, train}, {"eval", comp, train},
	} {
		code, out, e := shark(t, args...)
		if code != 2 || out != "" || !strings.Contains(e, "trained on every row of train.tsv") || !strings.Contains(e, "--test test.tsv") {
			t.Errorf("%v: exit %d, stderr %q; want it refused, naming --test test.tsv", args, code, e)
		}
	}
	if code, _, e := shark(t, "eval", model, test, "--test", train); code != 2 || !strings.Contains(e, "trained on rows of train.tsv") {
		t.Errorf("the training file as --test: %d %q", code, e)
	}
	for _, f := range []string{"p2.shark", "c2.shark", "y"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("a refused command wrote %s", f)
		}
	}
}
