package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Under --json a failure is a JSON object on stdout too, with the message
// that stderr shows, its kind and the exit status; without --json stdout
// stays empty.
func TestJSONErrorObject(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		kind string
		exit int
	}{
		{[]string{"quantize", "in.npz", "-o", "x.shark", "--bogus"}, "usage", 2},
		{[]string{"quantize", "in.npz"}, "usage", 2},
		{[]string{"quantize", filepath.Join(dir, "missing.npz"), "-o", filepath.Join(dir, "x.shark")}, "input", 1},
		{[]string{"quantize", ncf, "-o", filepath.Join(dir, "y.shark"), "--budget", "1%"}, "budget", 1},
		{[]string{"quantize", ncf, "-o", ncf}, "output", 2},
	} {
		code, out, errOut := shark(t, append(tc.args, "--json")...)
		var r errorReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Errorf("%v: stdout is no JSON object: %v\n%q", tc.args, err, out)
			continue
		}
		onStderr := r.Error != "" && strings.Contains("\n"+errOut, "\n"+r.Error+"\n")
		if code != tc.exit || r.Exit != code || r.Kind != tc.kind || !onStderr {
			t.Errorf("%v: exit %d, %+v, stderr %q; want exit %d, kind %s and stderr's message", tc.args, code, r, errOut, tc.exit, tc.kind)
		}
		if code, out, _ := shark(t, tc.args...); code != tc.exit || out != "" {
			t.Errorf("%v without --json: exit %d, stdout %q", tc.args, code, out)
		}
	}
	// --json after -- is an argument, not the flag.
	if jsonRequested([]string{"quantize", "--", "--json"}) || !jsonRequested([]string{"--json=true"}) || jsonRequested([]string{"--json=false"}) {
		t.Error("jsonRequested reads the command line wrongly")
	}
}

// A misspelled flag gets the nearest flag of the command, within two
// edits, inherited flags included; a far one gets none.
func TestFlagSuggestion(t *testing.T) {
	for _, tc := range []struct{ flag, want string }{
		{"--budgte", "did you mean --budget?"},
		{"--jsno", "did you mean --json?"},
		{"--outptu", "did you mean --output?"},
		{"--min-row", "did you mean --min-rows?"},
		{"--frobnicate", ""},
	} {
		code, _, errOut := shark(t, "quantize", "in.npz", "-o", "x.shark", tc.flag)
		got := strings.Contains(errOut, "did you mean")
		if code != 2 || got != (tc.want != "") || (tc.want != "" && !strings.Contains(errOut, tc.want)) {
			t.Errorf("%s: exit %d, stderr %q; want %q", tc.flag, code, errOut, tc.want)
		}
	}
	for a, b := range map[[2]string]int{{"", ""}: 0, {"abc", ""}: 3, {"budget", "budgte"}: 2, {"kitten", "sitting"}: 3, {"json", "jsno"}: 2} {
		if d := levenshtein(a[0], a[1]); d != b {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", a[0], a[1], d, b)
		}
	}
}

// A missing required flag says which spelling to use and what it is for.
func TestRequiredFlagSaysWhatFor(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"quantize", "in.npz"}, "shark quantize: -o/--output is required: the .shark file to write\n"},
		{[]string{"counts", "m", "d"}, "shark counts: -o/--output is required: the counts file to write (.npz)\n"},
		{[]string{"export", "m.shark"}, "--to is required: the format to write"},
	} {
		code, _, errOut := shark(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "required flag(s)") {
			t.Errorf("%v: exit %d, stderr %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
}

// The error object's schema is kept as the results' are (go test -run
// Golden -update rewrites it).
func TestGoldenJSONError(t *testing.T) {
	_, out, _ := shark(t, "quantize", filepath.Join(t.TempDir(), "missing.npz"), "-o", "x.shark", "--json")
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	got, _ := json.MarshalIndent(schema(v), "", "  ")
	file := filepath.Join("testdata", "json", "error.json")
	if *update {
		if err := os.WriteFile(file, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test -run Golden -update writes it)", err)
	}
	if strings.TrimSpace(string(want)) != string(got) {
		t.Errorf("the error object changed its schema:\n%s\nwant\n%s", got, want)
	}
}
