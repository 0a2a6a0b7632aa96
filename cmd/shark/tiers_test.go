package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// quantizeTiers runs quantize --json on ncf with args and returns the
// allowed tiers it names and its rows per tier over every table.
func quantizeTiers(t *testing.T, out string, args ...string) (allowed []string, rows map[string]int64) {
	t.Helper()
	return quantizeTiersOf(t, ncf, out, args...)
}

// --tiers keeps the budget's solver to the tiers named, and the JSON names
// them; fp32 can be left out when every row fits elsewhere; --no-int4 is
// --tiers fp32,fp16,int8, byte for byte.
func TestQuantizeTiers(t *testing.T) {
	// Two runs a second apart would record two creation times.
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	dir := t.TempDir()
	all, rows := quantizeTiers(t, filepath.Join(dir, "all.shark"), "--budget", "25%")
	if !slices.Equal(all, []string{"fp32", "fp16", "int8", "int4"}) || rows["int4"] == 0 || rows["int8"] == 0 {
		t.Fatalf("every tier: allowed %v, rows %v; want int4 and int8 rows at 25%%", all, rows)
	}
	some, rows := quantizeTiers(t, filepath.Join(dir, "some.shark"), "--budget", "25%", "--tiers", "fp16, INT4")
	if !slices.Equal(some, []string{"fp16", "int4"}) || rows["int8"] != 0 || rows["fp32"] != 0 || rows["fp16"] == 0 || rows["int4"] == 0 {
		t.Fatalf("--tiers fp16,int4: allowed %v, rows %v", some, rows)
	}
	paper := filepath.Join(dir, "paper.shark")
	named, _ := quantizeTiers(t, paper, "--budget", "40%", "--tiers", "fp32,fp16,int8")
	noInt4 := filepath.Join(dir, "noint4.shark")
	synonym, _ := quantizeTiers(t, noInt4, "--budget", "40%", "--no-int4")
	a, _ := os.ReadFile(paper)
	b, _ := os.ReadFile(noInt4)
	if !slices.Equal(named, synonym) || !slices.Equal(named, []string{"fp32", "fp16", "int8"}) || len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("--tiers fp32,fp16,int8 (%v, %d bytes) differs from --no-int4 (%v, %d bytes)", named, len(a), synonym, len(b))
	}
}

// Fixed fractions may use only the tiers allowed; thresholds use every
// tier, so they refuse a restriction; a bad name says which names are.
func TestTiersRefused(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.shark")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tiers", "fp32,int3"}, `"int3" is not a tier (want some of fp32, fp16, int8, int4`},
		{[]string{"--tiers", "fp32,,int8"}, `"" is not a tier`},
		{[]string{"--tiers", "int4", "--no-int4"}, "--no-int4 means --tiers fp32,fp16,int8"},
		{[]string{"--tiers", "all", "--no-int4"}, "--no-int4 means --tiers fp32,fp16,int8"},
		{[]string{"--tiers", "fp16,int8", "--fp32", "0.5", "--fp16", "0.5", "--int8", "0", "--int4", "0"}, "a share 0.5 of rows in fp32, which is not among the tiers allowed (fp16, int8)"},
		{[]string{"--no-int4", "--fp32", "0.5", "--int4", "0.5", "--fp16", "0", "--int8", "0"}, "a share 0.5 of rows in int4"},
		{[]string{"--tiers", "fp32,fp16", "--thresholds", "3,2,1"}, "invalid argument: tier choice: --thresholds put rows in each of fp32, fp16, int8 and int4 (a band of priorities each), and --tiers allows only fp32, fp16;"},
		{[]string{"--tiers", "all", "--thresholds", "1,0.5,0.1"}, "--thresholds put every row in fp32, fp16, int8 or int4 (a band of priorities each), never in int2; only a budget gives rows the tiers after int4"},
		{[]string{"--tiers", "fp32,fp16,int8,int4,int4-block", "--thresholds", "1,0.5,0.1"}, "never in int4-block;"},
		{[]string{"--block", "16"}, "invalid argument: tier choice: --block 16 sets the rows per block"},
	} {
		code, stdout, stderr := shark(t, append([]string{"quantize", ncf, "-o", out}, tc.args...)...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%v: wrote %s", tc.args, out)
		}
	}
}

// fp32 may be left out only if the other tiers hold every row: a row past
// binary16's range, which only fp32 holds, makes --tiers without fp32 an
// error naming the table and the row, by the budget and by fractions.
func TestTiersWithoutFP32NeedEveryRowHeld(t *testing.T) {
	dir := t.TempDir()
	table, counts, _ := rangeTable(t, dir)
	out := filepath.Join(dir, "x.shark")
	for _, args := range [][]string{
		{"--counts", counts, "--budget", "30%", "--tiers", "fp16,int8,int4"},
		{"--fp32", "0", "--fp16", "0.5", "--int8", "0.5", "--int4", "0", "--tiers", "fp16,int8"},
	} {
		code, _, stderr := shark(t, append([]string{"quantize", table, "-o", out}, args...)...)
		if code == 0 || !strings.Contains(stderr, `table "big": row 3 of table 0 holds a value that none of the tiers allowed`) || !strings.Contains(stderr, "allow fp32") {
			t.Errorf("%v: exit %d, stderr %q; want the row past binary16 named", args, code, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%v: wrote %s", args, out)
		}
	}
	// With fp32 allowed the same budget is met, the row at fp32.
	if code, _, stderr := shark(t, "quantize", table, "-o", out, "--counts", counts, "--budget", "30%", "--tiers", "fp32,fp16,int8,int4"); code != 0 {
		t.Fatalf("with fp32: exit %d: %s", code, stderr)
	}
}

// compress takes --tiers as quantize does, and its JSON names the tiers.
func TestCompressTiers(t *testing.T) {
	dir := t.TempDir()
	data, mdl := filepath.Join(dir, "s.tsv"), filepath.Join(dir, "m.shark")
	if code, _, e := shark(t, "synth", "-o", data, "--rows", "3000", "--fields", "6"); code != 0 {
		t.Fatal(e)
	}
	if code, _, e := shark(t, "train", data, "-o", mdl, "--epochs", "1"); code != 0 {
		t.Fatal(e)
	}
	args := []string{"compress", mdl, data, "--keep-fraction", "1", "--budget", "50%", "-o", filepath.Join(dir, "c.shark"), "--json", "--tiers", "fp16,int4"}
	code, out, e := shark(t, args...)
	var r struct {
		Tiers   []struct{ FP32, FP16, INT8, INT4 int64 } `json:"tiers"`
		Allowed []string                                 `json:"allowed_tiers"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || len(r.Tiers) == 0 {
		t.Fatalf("%v: %d %s %s", args, code, out, e)
	}
	var fp16, int4 int64
	for _, tb := range r.Tiers {
		if tb.FP32 != 0 || tb.INT8 != 0 {
			t.Fatalf("--tiers fp16,int4: %+v", r.Tiers)
		}
		fp16, int4 = fp16+tb.FP16, int4+tb.INT4
	}
	if !slices.Equal(r.Allowed, []string{"fp16", "int4"}) || fp16 == 0 || int4 == 0 {
		t.Fatalf("allowed %v, %d fp16 and %d int4 rows", r.Allowed, fp16, int4)
	}
	if code, _, e := shark(t, append(args[:len(args)-1], "fp8")...); code != 2 || !strings.Contains(e, `"fp8" is not a tier`) {
		t.Fatalf("--tiers fp8: exit %d %s", code, e)
	}
}
