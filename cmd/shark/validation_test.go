package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"shark/compress"
	"shark/ctr/dataset"
	"shark/ctr/model"
	"shark/ctr/modelfile"
)

// rowText is row i of ds, label and ids, as a map key.
func rowText(ds *model.Dataset, i int) string {
	return fmt.Sprint(ds.Labels[i], ds.Sample(i))
}

// unfittedRows is the rows of path the model at mdl was not trained on,
// told by their content against its record, as rowText keys.
func unfittedRows(t *testing.T, l *modelfile.Loaded, path string) map[string]bool {
	t.Helper()
	ds, keys, _, err := l.Encoding.EncodeKeys(dataset.FileOpener(path, l.Encoding.Options), false)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for i, k := range keys {
		if !l.Training.Trained(k) {
			out[rowText(ds, i)] = true
		}
	}
	return out
}

// The rows prune and compress choose on (the budget search's too) are rows
// train kept out and the model never fitted, with or without a test file;
// the held-out rows they report are others.
func TestValidationRowsNeverFitted(t *testing.T) {
	dir := t.TempDir()
	lines := synthLines(t, dir, 5000, "2")
	data := writeLines(t, filepath.Join(dir, "d.tsv"), lines[:4000], false)
	test := writeLines(t, filepath.Join(dir, "t.tsv"), lines[4000:], false)
	split, withTest := filepath.Join(dir, "split.shark"), filepath.Join(dir, "test.shark")
	for _, args := range [][]string{{"train", data, "-o", split, "--epochs", "1"}, {"train", data, "--test", test, "-o", withTest, "--epochs", "1"}} {
		if code, _, e := shark(t, args...); code != 0 {
			t.Fatal(e)
		}
	}
	for _, c := range []struct{ model, test string }{{split, ""}, {withTest, test}} {
		l, err := modelfile.Load(c.model, false)
		if err != nil {
			t.Fatal(err)
		}
		d, err := l.Data(data, modelfile.DataOptions{Test: c.test, FineTune: true})
		if err == nil {
			err = compress.KeepValidation(d, l.Model) // as compress --max-auc-drop
		}
		if err != nil {
			t.Fatal(err)
		}
		unfitted := unfittedRows(t, l, data)
		fitted := 0
		for i := 0; i < d.Valid.Rows(); i++ {
			if !unfitted[rowText(d.Valid, i)] {
				fitted++
			}
		}
		l.Close()
		if d.Valid.Rows() < 400 || fitted > 0 || d.Valid == d.Eval || d.ValidRows.Kind != dataset.RowsValid || len(d.Notes) > 0 {
			t.Errorf("--test %q: %d of the %d validation rows (%s) are rows the model fitted; notes %q", c.test, fitted, d.Valid.Rows(), d.ValidRows.Text, d.Notes)
		}
	}
}

// When the held-out drop passes --max-auc-drop (the validation rows did
// not foresee it), compress says so in a warning and in held_out_within,
// and still writes the file; within, it says nothing.
func TestCompressSaysHeldOutPastTolerance(t *testing.T) {
	dir := t.TempDir()
	data, mdl, out := filepath.Join(dir, "s.tsv"), filepath.Join(dir, "m.shark"), filepath.Join(dir, "c.shark")
	if code, _, e := shark(t, "synth", "-o", data, "--rows", "4000", "--fields", "6"); code != 0 {
		t.Fatal(e)
	}
	if code, _, e := shark(t, "train", data, "-o", mdl); code != 0 {
		t.Fatal(e)
	}
	seen := map[bool]bool{}
	// On this model the first is past on the held-out rows, the second within.
	for _, c := range [][]string{{"1e-05", "--no-int4"}, {"0.001"}} {
		tol := c[0]
		args := append([]string{"compress", mdl, data, "-o", out, "--keep-fraction", "1", "--max-auc-drop"}, c...)
		code, stdout, e := shark(t, append(args, "--json")...)
		var r struct {
			AUCBefore float64 `json:"auc_before"`
			AUCAfter  float64 `json:"auc_after"`
			Within    *bool   `json:"held_out_within"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &r) != nil || r.Within == nil {
			t.Fatalf("%s: exit %d %s %s", tol, code, stdout, e)
		}
		var max float64
		fmt.Sscan(tol, &max)
		warned := strings.Contains(e, "past --max-auc-drop "+tol)
		if *r.Within != (r.AUCBefore-r.AUCAfter <= max) || warned == *r.Within {
			t.Errorf("%s: held-out AUC %.5f -> %.5f, held_out_within %v, warning %q", tol, r.AUCBefore, r.AUCAfter, *r.Within, e)
		}
		code, stdout, e = shark(t, args...)
		if code != 0 || strings.Contains(e, "warning: the held-out AUC drop") == *r.Within || !strings.Contains(stdout, "saved ") {
			t.Errorf("%s text: exit %d %s %s", tol, code, stdout, e)
		}
		seen[*r.Within] = true
	}
	if !seen[false] || !seen[true] {
		t.Fatalf("the tolerances tried do not show both cases: %v", seen)
	}
}

// compress has no tier fractions: its --tiers help names what it has.
func TestCompressTiersHelp(t *testing.T) {
	code, out, _ := shark(t, "compress", "--help")
	i := strings.Index(out, "--tiers string")
	if code != 0 || i < 0 || strings.Contains(out, "tier fractions") || !strings.Contains(out[i:], "with --budget or --max-auc-drop") {
		t.Fatalf("exit %d: %s", code, out)
	}
}

// A model without validation rows (--valid 0, or saved before train kept
// them) still compresses, with a warning that its choices are made on rows
// it fitted; one with them has no such warning.
func TestCompressWarnsWithoutValidationRows(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "s.tsv")
	if code, _, e := shark(t, "synth", "-o", data, "--rows", "3000", "--fields", "6"); code != 0 {
		t.Fatal(e)
	}
	for _, valid := range []string{"0", "0.2"} {
		mdl := filepath.Join(dir, "m"+valid+".shark")
		if code, _, e := shark(t, "train", data, "-o", mdl, "--epochs", "1", "--valid", valid); code != 0 {
			t.Fatal(e)
		}
		code, out, e := shark(t, "compress", mdl, data, "-o", filepath.Join(dir, "c.shark"), "--keep-fraction", "1", "--max-auc-drop", "0.001")
		warned := strings.Contains(e, "records no validation rows")
		if code != 0 || warned != (valid == "0") || !strings.Contains(out, "saved ") {
			t.Errorf("--valid %s: exit %d, warned %v: %s %s", valid, code, warned, out, e)
		}
	}
}
