package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// libFMFile writes synthetic rows the way libFM and libSVM files are made:
// one-hot features numbered across fields ("idx:1"), labels -1 and +1
// (pos and neg spell them), from the synthetic Criteo data of the
// training tests.
func libFMFile(t *testing.T, dir, name string, rows int, pos, neg string) string {
	t.Helper()
	src := filepath.Join(dir, "synth-"+name+".tsv")
	if code, _, e := shark(t, "synth", "-o", src, "--rows", fmt.Sprint(rows), "--fields", "6"); code != 0 {
		t.Fatal(e)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	index := map[string]int{} // field and value -> global feature index
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		out.WriteString(map[string]string{"1": pos, "0": neg}[cols[0]])
		for f := 14; f < 20; f++ {
			key := fmt.Sprint(f, "=", cols[f])
			if _, ok := index[key]; !ok {
				index[key] = len(index)
			}
			fmt.Fprintf(&out, " %d:1", index[key])
		}
		out.WriteByte('\n')
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A standard libFM or libSVM file, labels -1/+1, trains; its held-out AUC
// is the one the same rows give with 0/1 labels. (Three epochs: train
// keeps a fifth of its training rows out as validation rows, and two left
// the model short of a sensible AUC on the rest.)
func TestLibFMSignedLabels(t *testing.T) {
	dir := t.TempDir()
	aucs := map[string]float64{}
	for _, c := range []struct{ name, pos, neg string }{{"plus.libfm", "+1", "-1"}, {"sklearn.svm", "1", "-1"}, {"binary.svm", "1", "0"}} {
		data := libFMFile(t, dir, c.name, 4000, c.pos, c.neg)
		code, out, e := shark(t, "train", data, "-o", filepath.Join(dir, c.name+".shark"), "--epochs", "3", "--json")
		var r struct{ AUC float64 }
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
			t.Fatalf("%s: exit %d: %s", c.name, code, e)
		}
		aucs[c.name] = r.AUC
	}
	if a := aucs["plus.libfm"]; a < 0.65 || a != aucs["sklearn.svm"] || a != aucs["binary.svm"] {
		t.Fatalf("held-out AUCs %v: want the same sensible AUC for -1/+1 and 0/1", aucs)
	}
}

// Ratings in a libFM file are refused, naming the line and --label; a
// threshold reads them.
func TestLibFMLabelThreshold(t *testing.T) {
	dir := t.TempDir()
	data := libFMFile(t, dir, "ratings.libfm", 2000, "5", "2")
	code, _, e := shark(t, "train", data, "-o", filepath.Join(dir, "m.shark"), "--epochs", "1")
	if code == 0 || !strings.Contains(e, "line 1: label \"") || !strings.Contains(e, "--label") {
		t.Fatalf("ratings without a threshold: exit %d, %s", code, e)
	}
	if code, _, e := shark(t, "train", data, "--label", ">=4", "-o", filepath.Join(dir, "m.shark"), "--epochs", "1"); code != 0 {
		t.Fatalf("--label '>=4': exit %d, %s", code, e)
	}
	if code, _, e := shark(t, "eval", filepath.Join(dir, "m.shark"), data); code != 0 {
		t.Fatalf("eval with the model's own threshold: exit %d, %s", code, e)
	}
}
