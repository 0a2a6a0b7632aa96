package main

import (
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
