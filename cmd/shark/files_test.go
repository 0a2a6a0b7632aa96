package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestQuantizeInspectVerifyExport(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "ncf.shark")
	code, stdout, stderr := shark(t, "quantize", ncf, "-o", out, "--budget", "30%", "--json")
	if code != 0 {
		t.Fatalf("quantize: %d %s", code, stderr)
	}
	var q struct {
		InputBytes  int64 `json:"input_bytes"`
		OutputBytes int64 `json:"output_bytes"`
		Tables      []struct {
			Name        string
			Rows, Dim   int
			BytesBefore int64 `json:"bytes_before"`
			BytesAfter  int64 `json:"bytes_after"`
			Tiers       map[string]int64
			RMSE        float64
			MaxAbsErr   float64 `json:"max_abs_err"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &q); err != nil {
		t.Fatalf("quantize --json: %v\n%s", err, stdout)
	}
	var before, after int64
	for _, tb := range q.Tables {
		before += tb.BytesBefore
		after += tb.BytesAfter
		if tb.Tiers["fp32"]+tb.Tiers["fp16"]+tb.Tiers["int8"]+tb.Tiers["int4"] != int64(tb.Rows) || tb.RMSE <= 0 {
			t.Fatalf("table line %+v", tb)
		}
	}
	if len(q.Tables) != 2 || after > before*30/100 || q.OutputBytes <= 0 {
		t.Fatalf("quantize result %+v", q)
	}
	if !strings.Contains(stderr, "row L2 norms") {
		t.Fatalf("no warning about the fallback priority: %q", stderr)
	}

	code, stdout, _ = shark(t, "inspect", out, "--json")
	var in struct {
		Format  string
		Bytes   int64
		Tensors []struct {
			Name  string
			Shape []int64
			DType string
			Bytes int64
			Tiers map[string]int64
		}
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &in) != nil || in.Format != "shark" || len(in.Tensors) != 10 {
		t.Fatalf("inspect: %d %s", code, stdout)
	}
	tiered := 0
	for _, tn := range in.Tensors {
		if tn.Tiers != nil {
			tiered++
		}
	}
	if tiered != 2 {
		t.Fatalf("inspect shows %d tiered tables", tiered)
	}
	if code, stdout, _ := shark(t, "verify", out); code != 0 || !strings.Contains(stdout, "ok") {
		t.Fatalf("verify: %d", code)
	}
	for _, to := range []string{"npz", "safetensors"} {
		exp := filepath.Join(dir, "x."+to)
		if code, _, stderr := shark(t, "export", out, "--to", to, "-o", exp, "--layout", "tiers"); code != 0 {
			t.Fatalf("export %s: %s", to, stderr)
		}
		if code, _, stderr := shark(t, "verify", exp); code != 0 {
			t.Fatalf("verify export %s: %s", to, stderr)
		}
	}

	// One flipped byte: verify fails with a message naming where.
	b, _ := os.ReadFile(out)
	b[len(b)/3] ^= 1
	bad := filepath.Join(dir, "bad.shark")
	os.WriteFile(bad, b, 0o644)
	code, _, stderr = shark(t, "verify", bad)
	if code != 1 || !strings.Contains(stderr, "offset") {
		t.Fatalf("verify of a corrupt file: %d %q", code, stderr)
	}
	// Truncated.
	os.WriteFile(bad, b[:len(b)-5], 0o644)
	if code, _, stderr = shark(t, "verify", bad); code != 1 || !strings.Contains(stderr, "truncated") {
		t.Fatalf("verify of a truncated file: %d %q", code, stderr)
	}
}

func TestNothingLostOnError(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.shark")
	os.WriteFile(out, []byte("precious"), 0o644)
	// An impossible budget fails before anything replaces the output.
	code, _, stderr := shark(t, "quantize", ncf, "-o", out, "--budget", "1%")
	if code != 1 || !strings.Contains(stderr, "budget") {
		t.Fatalf("impossible budget: %d %q", code, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "precious" {
		t.Fatal("output replaced by a failed run")
	}
	// Output equal to the input is refused.
	cp := filepath.Join(dir, "in.npz")
	src, _ := os.ReadFile(ncf)
	os.WriteFile(cp, src, 0o644)
	if code, _, stderr := shark(t, "quantize", cp, "-o", cp); code != 2 || !strings.Contains(stderr, "same file") {
		t.Fatalf("in == out: %d %q", code, stderr)
	}
	if b, _ := os.ReadFile(cp); !bytes.Equal(b, src) {
		t.Fatal("input modified")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("temporary files left behind: %v", ents)
	}
	// Not a model file.
	txt := filepath.Join(dir, "notes.txt")
	os.WriteFile(txt, []byte("hello"), 0o644)
	if code, _, stderr := shark(t, "inspect", txt); code != 1 || !strings.Contains(stderr, "not a format shark reads") {
		t.Fatalf("inspect text: %d %q", code, stderr)
	}
}

func TestFractionsAndThresholds(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := shark(t, "quantize", ncf, "-o", filepath.Join(dir, "a.shark"), "--json",
		"--fp32", "0.1", "--fp16", "0.2", "--int8", "0.3", "--int4", "0.4")
	if code != 0 || !strings.Contains(stdout, `"fp32": 604`) {
		t.Fatalf("fractions: %d %s %s", code, stdout, stderr)
	}
	code, _, stderr = shark(t, "quantize", ncf, "-o", filepath.Join(dir, "b.shark"), "--thresholds", "1e9,1,0")
	if code != 0 {
		t.Fatalf("thresholds: %s", stderr)
	}
	if code, _, _ := shark(t, "quantize", ncf, "-o", filepath.Join(dir, "c.shark"), "--budget", "30%", "--fp32", "1"); code != 2 {
		t.Fatal("two assignment modes accepted")
	}
}

// bench lookup runs on a real compressed table and reports what it says,
// in text and JSON; bad use is an error, not a run.
func TestBenchLookup(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "ncf.shark")
	if code, _, stderr := shark(t, "quantize", ncf, "-o", out, "--budget", "30%"); code != 0 {
		t.Fatalf("quantize: %d %s", code, stderr)
	}
	code, stdout, stderr := shark(t, "bench", "lookup", out, "--bags", "600", "--json")
	if code != 0 {
		t.Fatalf("bench lookup: %d %s", code, stderr)
	}
	var r struct {
		Table              string
		Rows, Dim          int
		CompressedPerSec   float64 `json:"compressed_per_sec"`
		FP32PerSec         float64 `json:"fp32_per_sec"`
		Ratio              float64
		FP32PrefetchPerSec float64 `json:"fp32_prefetch_per_sec"`
		RatioBestFP32      float64 `json:"ratio_best_fp32"`
		Bags               int
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	if r.Table == "" || r.Rows < 1 || r.Dim < 1 || r.Bags != 600 {
		t.Fatalf("table or run: %+v", r)
	}
	if !(r.CompressedPerSec > 0 && r.FP32PerSec > 0 && r.FP32PrefetchPerSec > 0) {
		t.Fatalf("rates: %+v", r)
	}
	near := func(a, b float64) bool { return a > 0 && b > 0 && a/b > 1-1e-9 && a/b < 1+1e-9 }
	if !near(r.Ratio, r.CompressedPerSec/r.FP32PerSec) ||
		!near(r.RatioBestFP32, r.CompressedPerSec/max(r.FP32PerSec, r.FP32PrefetchPerSec)) {
		t.Fatalf("ratios do not follow from the rates: %+v", r)
	}
	code, stdout, _ = shark(t, "bench", "lookup", out, "--bags", "300")
	if code != 0 || !strings.Contains(stdout, "ratio") || !strings.Contains(stdout, "prefetching loop") {
		t.Fatalf("text output: %d\n%s", code, stdout)
	}
	// --sizes: three working sets, flagged where this small table cannot
	// make them.
	code, stdout, _ = shark(t, "bench", "lookup", out, "--bags", "300", "--sizes", "--json")
	var sz struct {
		LLC   int64 `json:"llc_bytes"`
		Sizes []struct {
			Name  string
			Rows  int
			Holds bool
			Ratio float64
		}
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &sz) != nil || sz.LLC <= 0 || len(sz.Sizes) != 3 ||
		!sz.Sizes[0].Holds || sz.Sizes[2].Holds || sz.Sizes[2].Rows != r.Rows || !(sz.Sizes[1].Ratio > 0) {
		t.Fatalf("--sizes: %d %+v\n%s", code, sz, stdout)
	}
	code, stdout, _ = shark(t, "bench", "lookup", out, "--bags", "300", "--sizes")
	if code != 0 || !strings.Contains(stdout, "last-level cache") || !strings.Contains(stdout, "too small") {
		t.Fatalf("--sizes text: %d\n%s", code, stdout)
	}
	for _, args := range [][]string{
		{"bench", "lookup"},
		{"bench", "lookup", out, "--bags", "0"},
		{"bench", "lookup", out, "--zipf", "1"},
		{"bench", "lookup", filepath.Join(dir, "missing.shark")},
		{"bench", "lookup", out, "--table", "no_such_table"},
	} {
		if code, _, stderr := shark(t, args...); code == 0 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want an error", args, code, stderr)
		}
	}
}
