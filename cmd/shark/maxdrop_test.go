package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// budgetSearch is compress --json's budget_search and what it is judged by.
type budgetSearch struct {
	AUCBefore float64 `json:"auc_before"`
	AUCAfter  float64 `json:"auc_after"`
	BytesFP32 int64   `json:"embedding_bytes_before"`
	BytesOut  int64   `json:"embedding_bytes_after"`
	Search    struct {
		MaxAUCDrop  float64 `json:"max_auc_drop"`
		BaseAUC     float64 `json:"validation_auc_before"`
		Budget      float64 `json:"budget"`
		BudgetBytes int64   `json:"budget_bytes"`
		MinBudget   float64 `json:"min_budget"`
		Met         bool    `json:"met"`
		Bytes       int64   `json:"bytes"`
		Keeps       []struct {
			Keep   int     `json:"keep"`
			AUC    float64 `json:"auc"`
			Drop   float64 `json:"drop"`
			Within bool    `json:"within"`
			Bytes  int64   `json:"bytes"`
		} `json:"keep_probes"`
		Probes []struct {
			Budget      float64 `json:"budget"`
			BudgetBytes int64   `json:"budget_bytes"`
			Bytes       int64   `json:"bytes"`
			AUC         float64 `json:"auc"`
			Drop        float64 `json:"drop"`
			Within      bool    `json:"within"`
		} `json:"probes"`
	} `json:"budget_search"`
	Valid struct{ Kind, Text string } `json:"validation_rows"`
	Kept  []string                    `json:"kept_fields"`
}

func compressSearch(t *testing.T, args ...string) budgetSearch {
	t.Helper()
	code, out, e := shark(t, append([]string{"compress", "--json"}, args...)...)
	var r budgetSearch
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || len(r.Search.Probes) == 0 {
		t.Fatalf("%v: exit %d: %s %s", args, code, out, e)
	}
	return r
}

// checkSearch checks the search's own account: every probe is judged by
// the tolerance, none within is below the budget found, and the budget
// found is one within, stored within its bytes.
func checkSearch(t *testing.T, r budgetSearch) {
	t.Helper()
	s := r.Search
	found := false
	for _, p := range s.Probes {
		if p.Within != (p.Drop <= s.MaxAUCDrop) || p.Drop != s.BaseAUC-p.AUC || p.Bytes > p.BudgetBytes {
			t.Fatalf("probe %+v (tolerance %v)", p, s.MaxAUCDrop)
		}
		if p.Within && p.BudgetBytes < s.BudgetBytes {
			t.Fatalf("within at %d bytes, below the budget found %d", p.BudgetBytes, s.BudgetBytes)
		}
		found = found || (p.Within && p.BudgetBytes == s.BudgetBytes)
	}
	if !s.Met || !found || r.BytesOut > s.BudgetBytes || s.Budget < s.MinBudget || r.Valid.Kind != "validation" {
		t.Fatalf("search %+v, stored %d, validation rows %+v", s, r.BytesOut, r.Valid)
	}
}

// compress --max-auc-drop chooses on a validation share of DATA, never on
// the test file: the test file's labels reversed change the AUC reported,
// not one probe. Text output prints each probe and the budget found.
func TestCompressMaxAUCDropNeverOnTest(t *testing.T) {
	dir := t.TempDir()
	all := filepath.Join(dir, "all.tsv")
	if code, _, e := shark(t, "synth", "-o", all, "--rows", "3000", "--fields", "6"); code != 0 {
		t.Fatal(e)
	}
	b, err := os.ReadFile(all)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	data, test, reversed := filepath.Join(dir, "data.tsv"), filepath.Join(dir, "test.tsv"), filepath.Join(dir, "reversed.tsv")
	var rev strings.Builder
	for _, l := range lines[2400:] {
		if l != "" {
			rev.WriteString(map[byte]string{'0': "1", '1': "0"}[l[0]] + l[1:])
		}
	}
	os.WriteFile(data, []byte(strings.Join(lines[:2400], "")), 0o644)
	os.WriteFile(test, []byte(strings.Join(lines[2400:], "")), 0o644)
	os.WriteFile(reversed, []byte(rev.String()), 0o644)
	mdl := filepath.Join(dir, "m.shark")
	if code, _, e := shark(t, "train", data, "-o", mdl, "--epochs", "1"); code != 0 {
		t.Fatal(e)
	}
	args := []string{mdl, data, "-o", filepath.Join(dir, "c.shark"), "--keep-fraction", "1", "--max-auc-drop", "0.0001"}
	a := compressSearch(t, append(args, "--test", test)...)
	z := compressSearch(t, append(args, "--test", reversed)...)
	checkSearch(t, a)
	if !reflect.DeepEqual(a.Search, z.Search) || !reflect.DeepEqual(a.Valid, z.Valid) || a.AUCAfter == z.AUCAfter {
		t.Fatalf("the test file changed the search:\n%+v\n%+v\n(AUC after %v and %v)", a.Search, z.Search, a.AUCAfter, z.AUCAfter)
	}
	code, out, e := shark(t, append([]string{"compress"}, append(args, "--test", test)...)...)
	if code != 0 || !strings.Contains(out, "probe 1: budget ") || !strings.Contains(out, "the smallest within the AUC drop 0.0001") ||
		!strings.Contains(out, "tables and budget chosen on the validation") {
		t.Fatalf("text: exit %d\n%s%s", code, out, e)
	}
	// Without --test too, the validation rows are those train kept out of
	// DATA, rows the model never fitted.
	if r := compressSearch(t, args...); !strings.Contains(r.Valid.Text, "of data.tsv (share 0.2 of the training rows") || !strings.Contains(r.Valid.Text, "never fitted") {
		t.Fatalf("without --test: %+v", r.Valid)
	}
	if code, _, e := shark(t, append([]string{"compress"}, append(args, "--budget", "30%")...)...); code != 2 || !strings.Contains(e, "exclude each other") {
		t.Fatalf("--budget with --max-auc-drop: exit %d %s", code, e)
	}
}

// On the real Criteo sample, the search bisects to the smallest budget
// within a tight tolerance on validation rows; the test rows' AUC then
// drops by at most 0.001 with at least 70% fewer embedding bytes. Pruning
// too (half the fields asked, 0.001), it tries keep counts and keeps the
// one of the fewest bytes within the tolerance.
func TestCriteoMaxAUCDrop(t *testing.T) {
	const criteo = "../../../shared/data/criteo-10k.tsv"
	if _, err := os.Stat(criteo); err != nil {
		t.Skipf("needs the real Criteo sample %s; ../shared/data is absent", criteo)
	}
	dir := t.TempDir()
	mdl := filepath.Join(dir, "m.shark")
	if code, _, e := shark(t, "train", criteo, "-o", mdl); code != 0 {
		t.Fatal(e)
	}
	r := compressSearch(t, mdl, criteo, "-o", filepath.Join(dir, "c.shark"), "--keep-fraction", "1", "--max-auc-drop", "0.0002")
	checkSearch(t, r)
	for i, p := range r.Search.Probes {
		t.Logf("probe %d: budget %.2f%%, validation AUC %.5f, drop %+.5f, within %v", i+1, 100*p.Budget, p.AUC, p.Drop, p.Within)
	}
	less := 1 - float64(r.BytesOut)/float64(r.BytesFP32)
	t.Logf("budget %.2f%%: test AUC %.5f -> %.5f, %.1f%% fewer bytes", 100*r.Search.Budget, r.AUCBefore, r.AUCAfter, 100*less)
	if r.AUCBefore-r.AUCAfter > 0.001 || less < 0.70 {
		t.Fatalf("test AUC %.5f -> %.5f, %.1f%% fewer bytes", r.AUCBefore, r.AUCAfter, 100*less)
	}
	p := compressSearch(t, mdl, criteo, "-o", filepath.Join(dir, "p.shark"), "--max-auc-drop", "0.001")
	checkSearch(t, p)
	best := -1
	for i, k := range p.Search.Keeps {
		t.Logf("keep %d: validation AUC %.5f, drop %+.5f, within %v, %d bytes", k.Keep, k.AUC, k.Drop, k.Within, k.Bytes)
		if k.Within && (best < 0 || k.Bytes < p.Search.Keeps[best].Bytes) {
			best = i
		}
	}
	less = 1 - float64(p.BytesOut)/float64(p.BytesFP32)
	t.Logf("kept %d fields, budget %.2f%%: test AUC %.5f -> %.5f, %.1f%% fewer bytes", len(p.Kept), 100*p.Search.Budget, p.AUCBefore, p.AUCAfter, 100*less)
	if len(p.Search.Keeps) < 3 || best < 0 || len(p.Kept) != p.Search.Keeps[best].Keep || p.BytesOut != p.Search.Keeps[best].Bytes || less < 0.70 {
		t.Fatalf("keep probes %+v: kept %d fields, %d bytes", p.Search.Keeps, len(p.Kept), p.BytesOut)
	}
}
