package main

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"shark/ctr/dataset"
)

// synthLines is n rows of synthetic data as lines (with their "\n").
func synthLines(t *testing.T, dir string, n int, seed string) [][]byte {
	t.Helper()
	p := filepath.Join(dir, "synth-"+seed+".tsv")
	if code, _, e := shark(t, "synth", "-o", p, "--rows", "9000", "--fields", "6", "--seed", seed); code != 0 {
		t.Fatal(e)
	}
	b, _ := os.ReadFile(p)
	return bytes.SplitAfter(b, []byte("\n"))[:n]
}

func writeLines(t *testing.T, path string, lines [][]byte, crlf bool) string {
	t.Helper()
	b := bytes.Join(lines, nil)
	if crlf {
		b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func shuffled(lines [][]byte) [][]byte {
	out := append([][]byte{}, lines...)
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// rowsRun is a command's --json result: its AUC and its rows.
type rowsRun struct {
	AUC, AUCBefore float64
	Rows           struct {
		Kind                        string
		Count, Excluded, Validation int
		Text                        string
	}
}

func runRows(t *testing.T, args ...string) rowsRun {
	t.Helper()
	code, out, e := shark(t, append(args, "--json")...)
	var r struct {
		AUC       float64 `json:"auc"`
		AUCBefore float64 `json:"auc_before"`
		Rows      json.RawMessage
	}
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("%v: exit %d %s %s", args, code, out, e)
	}
	var rr rowsRun
	rr.AUC, rr.AUCBefore = r.AUC, r.AUCBefore
	json.Unmarshal(r.Rows, &rr.Rows)
	return rr
}

// A row the model was trained on is never scored as held-out, whatever
// file it arrives in: the training file with LF for CRLF, shuffled, or its
// training rows mixed with new rows. eval and compress leave them out and
// say how many, in JSON and in text.
func TestTrainingRowsNeverHeldOut(t *testing.T) {
	dir := t.TempDir()
	lines := synthLines(t, dir, 5000, "1")
	data := writeLines(t, filepath.Join(dir, "d.tsv"), lines, true)
	model := filepath.Join(dir, "m.shark")
	tr := runRows(t, "train", data, "--split", "0.25", "-o", model, "--epochs", "1")
	held := tr.Rows.Count
	if held < 1000 || held > 1500 || tr.Rows.Kind != "held-out split" {
		t.Fatalf("train held out %+v", tr.Rows)
	}
	lf := writeLines(t, filepath.Join(dir, "lf.tsv"), lines, false)
	mixed := writeLines(t, filepath.Join(dir, "shuffled.tsv"), shuffled(lines), false)
	for _, f := range []string{data, lf, mixed} {
		for _, cmd := range [][]string{{"eval", model, f}, {"compress", model, f, "-o", filepath.Join(dir, "c.shark"), "--keep-fraction", "1"}} {
			r := runRows(t, cmd...)
			auc := r.AUC
			if cmd[0] == "compress" {
				auc = r.AUCBefore
			}
			// Neither the training rows nor the validation rows (kept out
			// of training, for compress's choices) are held out.
			if r.Rows.Count != held || r.Rows.Validation == 0 || r.Rows.Excluded+r.Rows.Validation != len(lines)-held || math.Abs(auc-tr.AUC) > 1e-9 {
				t.Errorf("%s %s: AUC %v on %+v; train scored %v on %d held-out rows", cmd[0], filepath.Base(f), auc, r.Rows, tr.AUC, held)
			}
		}
	}
	code, out, _ := shark(t, "eval", model, lf)
	ev := runRows(t, "eval", model, lf)
	if want := dataset.Count(ev.Rows.Excluded) + " rows it was trained on left out; " + dataset.Count(ev.Rows.Validation) + " validation rows left out"; code != 0 || !strings.Contains(out, want) {
		t.Errorf("eval's text does not say %q: %q", want, out)
	}
}

// With a test file, the training file's rows mixed into another file are
// left out of its score and counted, and that file scores as the new rows
// alone do.
func TestTrainingRowsMixedWithNewRows(t *testing.T) {
	dir := t.TempDir()
	lines := synthLines(t, dir, 9000, "1")
	train := writeLines(t, filepath.Join(dir, "train.tsv"), lines[:4000], true)
	test := writeLines(t, filepath.Join(dir, "test.tsv"), lines[4000:], false)
	model := filepath.Join(dir, "m.shark")
	runRows(t, "train", train, "--test", test, "-o", model, "--epochs", "1")
	fresh := lines[6000:]
	newRows := writeLines(t, filepath.Join(dir, "new.tsv"), fresh, false)
	mix := writeLines(t, filepath.Join(dir, "mix.tsv"), shuffled(append(append([][]byte{}, lines[:4000]...), fresh...)), false)
	alone, mixed := runRows(t, "eval", model, newRows), runRows(t, "eval", model, mix)
	if alone.AUC < 0.6 || mixed.Rows.Count != alone.Rows.Count || mixed.Rows.Excluded+mixed.Rows.Validation != alone.Rows.Excluded+4000 || math.Abs(mixed.AUC-alone.AUC) > 1e-9 {
		t.Fatalf("mixed file %v on %+v; the new rows alone %v on %+v", mixed.AUC, mixed.Rows, alone.AUC, alone.Rows)
	}
	// train itself leaves them out of a test file, and says so.
	tm := runRows(t, "train", train, "--test", mix, "-o", filepath.Join(dir, "m2.shark"), "--epochs", "1")
	if tm.Rows.Count != alone.Rows.Count || tm.Rows.Excluded != mixed.Rows.Excluded || tm.Rows.Validation != mixed.Rows.Validation || !strings.Contains(tm.Rows.Text, "rows the model was trained on left out") {
		t.Fatalf("train --test mix.tsv scored %+v", tm.Rows)
	}
	// The training rows alone, in a file of their own: nothing to score.
	lf := writeLines(t, filepath.Join(dir, "lf.tsv"), shuffled(lines[:4000]), false)
	for _, args := range [][]string{{"eval", model, lf}, {"eval", model, newRows, "--test", lf}} {
		if code, _, e := shark(t, args...); code != 2 || !strings.Contains(e, "trained on every row of lf.tsv") {
			t.Errorf("%v: exit %d, %q", args, code, e)
		}
	}
}

// With --test, pruning's choices (the tables' scores, what is dropped,
// rollbacks) come from a validation share of the training file: changing
// the test file's labels changes its score, not those choices.
func TestPruningIndependentOfTestFile(t *testing.T) {
	dir := t.TempDir()
	lines := synthLines(t, dir, 6000, "1")
	train := writeLines(t, filepath.Join(dir, "train.tsv"), lines[:4000], false)
	test := writeLines(t, filepath.Join(dir, "test.tsv"), lines[4000:], false)
	var flipped [][]byte
	for _, l := range lines[4000:] {
		l = append([]byte{}, l...)
		l[0] = map[byte]byte{'0': '1', '1': '0'}[l[0]]
		flipped = append(flipped, l)
	}
	test2 := writeLines(t, filepath.Join(dir, "test2.tsv"), flipped, false)
	model := filepath.Join(dir, "m.shark")
	runRows(t, "train", train, "--test", test, "-o", model, "--epochs", "1")
	type choices struct {
		Kept   []string              `json:"kept_fields"`
		Prune  any                   `json:"prune"`
		Before float64               `json:"auc_before"`
		Valid  struct{ Kind string } `json:"validation_rows"`
	}
	var got []choices
	for i, tf := range []string{test, test2} {
		code, out, e := shark(t, "compress", model, train, "--test", tf, "--tolerance", "0.001", "--rounds", "2", "-o", filepath.Join(dir, "c.shark"), "--json")
		var c choices
		if code != 0 || json.Unmarshal([]byte(out), &c) != nil {
			t.Fatalf("compress %d: exit %d %s", i, code, e)
		}
		got = append(got, c)
	}
	if got[0].Valid.Kind != "validation" || !reflect.DeepEqual(got[0].Kept, got[1].Kept) || !reflect.DeepEqual(got[0].Prune, got[1].Prune) {
		t.Fatalf("pruning's choices follow the test file's labels:\n%+v\n%+v", got[0], got[1])
	}
	if math.Abs(got[0].Before+got[1].Before-1) > 1e-6 {
		t.Fatalf("AUC %v and %v on the test file and its flipped copy", got[0].Before, got[1].Before)
	}
}
