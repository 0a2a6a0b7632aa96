package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/compress"
	"shark/facetest"
)

// The CLI writes, for each input, the bytes the application layer writes
// (and so the page and the desktop app), and the same bytes on every run
// given SOURCE_DATE_EPOCH.
func TestQuantizeWritesTheFacesBytes(t *testing.T) {
	const created = 1700000000
	t.Setenv("SOURCE_DATE_EPOCH", fmt.Sprint(created))
	dir := t.TempDir()
	for _, in := range facetest.Inputs(t, dir, ncf) {
		want := facetest.Reference(t, in, created)
		for run := range 2 {
			out := filepath.Join(dir, fmt.Sprintf("%s.%d.shark", filepath.Base(in), run))
			if code, _, errOut := shark(t, "quantize", in, "-o", out); code != 0 {
				t.Fatalf("%s: %d %s", in, code, errOut)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s, run %d: the CLI wrote %d bytes that differ from the application layer's %d", in, run, len(got), len(want))
			}
		}
	}
}

// inspect shows the summary every face shows: compress.Summarize's.
func TestInspectShowsTheSummary(t *testing.T) {
	for _, in := range facetest.Inputs(t, t.TempDir(), ncf) {
		f, err := compress.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		want := compress.Summarize(f)
		f.Close()
		code, out, errOut := shark(t, "inspect", in, "--json")
		var got compress.Summary
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
			t.Fatalf("%s: %d %s", in, code, errOut)
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(&got)
		if !bytes.Equal(wj, gj) {
			t.Fatalf("%s: inspect --json %s, summary %s", in, gj, wj)
		}
		_, text, _ := shark(t, "inspect", in)
		for _, ts := range want.Tensors {
			if !strings.Contains(text, ts.ShapeText) || !strings.Contains(text, ts.Size) {
				t.Fatalf("%s: the table lacks %s's %q or %q:\n%s", in, ts.Name, ts.ShapeText, ts.Size, text)
			}
		}
	}
}

// shark compress writes, for a model, its data and a test file, the bytes
// compress.CompressModel writes (and so the desktop's pipeline panel, whose
// test compares with the same case) given SOURCE_DATE_EPOCH.
func TestCompressWritesTheModelFacesBytes(t *testing.T) {
	dir := t.TempDir()
	c := facetest.NewModelCase(t, dir)
	out := filepath.Join(dir, "small.shark")
	args := []string{"compress", c.Model, c.Data, "--test", c.Test, "--keep", fmt.Sprint(c.Settings.Keep),
		"--budget", fmt.Sprintf("%g%%", 100*c.Settings.Quantize.Budget), "--tolerance", fmt.Sprint(c.Settings.Tolerance), "-o", out}
	if code, _, errOut := shark(t, args...); code != 0 {
		t.Fatalf("%d %s", code, errOut)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, c.Want) {
		t.Fatalf("the CLI wrote %d bytes that differ from the application layer's %d", len(got), len(c.Want))
	}
}
