package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// --tiers all opens int2 and the block tiers to the solver: at 10% of the
// fp32 bytes, below what the default tiers can reach, the tables are
// stored (verify passes) in those tiers, the JSON naming every tier
// allowed; --block changes the blocks and so the file; a bad --block or a
// share of rows in a tier after int4 is refused.
func TestQuantizeEveryTier(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	dir := t.TempDir()
	if code, _, e := shark(t, "quantize", ncf, "-o", filepath.Join(dir, "d.shark"), "--budget", "10%"); code == 0 || !strings.Contains(e, "below the smallest") {
		t.Fatalf("the default tiers at 10%%: exit %d: %s", code, e)
	}
	a, b := filepath.Join(dir, "a.shark"), filepath.Join(dir, "b.shark")
	allowed, rows := quantizeTiers(t, a, "--budget", "10%", "--tiers", "all")
	if !slices.Equal(allowed, []string{"fp32", "fp16", "int8", "int4", "int2", "int8-block", "int4-block", "int2-block"}) ||
		rows["int2-block"]+rows["int4-block"]+rows["int8-block"] == 0 {
		t.Fatalf("--tiers all: allowed %v, rows %v", allowed, rows)
	}
	if _, rows := quantizeTiers(t, b, "--budget", "10%", "--tiers", "all", "--block", "16"); rows["int2-block"]+rows["int4-block"]+rows["int8-block"] == 0 {
		t.Fatalf("--block 16: rows %v", rows)
	}
	for _, f := range []string{a, b} {
		if code, _, e := shark(t, "verify", f); code != 0 {
			t.Fatalf("verify %s: %s", f, e)
		}
	}
	x, _ := os.ReadFile(a)
	y, _ := os.ReadFile(b)
	if string(x) == string(y) {
		t.Fatal("--block 16 wrote the file of blocks of 64")
	}
	var inspect struct {
		Tensors []struct{ Tiers map[string]int64 }
	}
	code, out, _ := shark(t, "inspect", a, "--json")
	if code != 0 || json.Unmarshal([]byte(out), &inspect) != nil {
		t.Fatalf("inspect: %d %s", code, out)
	}
	var blockRows int64
	for _, ts := range inspect.Tensors {
		blockRows += ts.Tiers["int2-block"] + ts.Tiers["int4-block"] + ts.Tiers["int8-block"]
	}
	if blockRows != rows["int2-block"]+rows["int4-block"]+rows["int8-block"] {
		t.Fatalf("inspect counts %d block-tier rows, quantize %v", blockRows, rows)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tiers", "all", "--block", "-1"}, "--block -1 is outside its range 0..65536"},
		{[]string{"--tiers", "all", "--block", "70000"}, "--block 70000 is outside its range 0..65536"},
		{[]string{"--tiers", "all", "--fp32", "0.5", "--int4", "0.5", "--fp16", "0", "--int8", "0", "--int2", "0.1"}, "unknown flag: --int2"},
	} {
		out := filepath.Join(dir, "x.shark")
		code, stdout, stderr := shark(t, append([]string{"quantize", ncf, "-o", out}, tc.args...)...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// inspect counts a table's block parameters in its stored bytes, as
// quantize's bytes_after does (it left them out).
func TestInspectBytesHoldBlockParams(t *testing.T) {
	out := filepath.Join(t.TempDir(), "a.shark")
	code, stdout, stderr := shark(t, "quantize", ncf, "-o", out, "--json", "--budget", "10%", "--tiers", "all")
	var q struct {
		Tables []struct {
			Name       string `json:"name"`
			BytesAfter int64  `json:"bytes_after"`
		} `json:"tables"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &q) != nil || len(q.Tables) == 0 {
		t.Fatalf("quantize: %d %s\n%s", code, stderr, stdout)
	}
	code, stdout, stderr = shark(t, "inspect", out, "--json")
	var ins struct {
		Tensors []struct {
			Name  string `json:"name"`
			Bytes int64  `json:"bytes"`
		} `json:"tensors"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &ins) != nil {
		t.Fatalf("inspect: %d %s\n%s", code, stderr, stdout)
	}
	for _, tb := range q.Tables {
		i := slices.IndexFunc(ins.Tensors, func(ts struct {
			Name  string `json:"name"`
			Bytes int64  `json:"bytes"`
		}) bool {
			return ts.Name == tb.Name
		})
		if i < 0 || ins.Tensors[i].Bytes != tb.BytesAfter {
			t.Fatalf("table %q: quantize says %d bytes after, inspect %+v", tb.Name, tb.BytesAfter, ins.Tensors)
		}
	}
}
