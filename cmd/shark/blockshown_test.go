package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// The rows per block and the container version a file was written with
// are shown by quantize --json, inspect (text and --json) and verify
// (text and --json): a reader of the file needs them, and only the
// header held them.
func TestBlockAndVersionShown(t *testing.T) {
	out := filepath.Join(t.TempDir(), "q.shark")
	code, stdout, stderr := shark(t, "quantize", ncf, "-o", out, "--json", "--tiers", "all", "--budget", "10%", "--block", "32")
	var q struct {
		Block int `json:"block"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &q) != nil || q.Block != 32 {
		t.Fatalf("quantize --json: exit %d, block %d, want 32\n%s", code, q.Block, stderr)
	}
	blocked := checkInspectShowsBlock(t, out)
	checkVerifyShowsBlock(t, out, blocked)
}

// checkInspectShowsBlock checks inspect's version and blocks of 32 rows,
// and returns the tables that have them.
func checkInspectShowsBlock(t *testing.T, out string) map[string]bool {
	t.Helper()
	code, stdout, stderr := shark(t, "inspect", out, "--json")
	var ins struct {
		Facts   string `json:"facts"`
		Version string `json:"version"`
		Tensors []struct {
			Name  string           `json:"name"`
			Why   string           `json:"why"`
			Tiers map[string]int64 `json:"tiers"`
			Block int64            `json:"block"`
		} `json:"tensors"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &ins) != nil {
		t.Fatalf("inspect --json: exit %d %s", code, stderr)
	}
	if ins.Version != "2.0" || !strings.HasSuffix(ins.Facts, " · container version 2.0") {
		t.Errorf("inspect --json: version %q, facts %q; want 2.0 in both", ins.Version, ins.Facts)
	}
	blocked := map[string]bool{}
	for _, ts := range ins.Tensors {
		inBlocks := ts.Tiers["int8-block"]+ts.Tiers["int4-block"]+ts.Tiers["int2-block"] > 0
		if want := map[bool]int64{true: 32}[inBlocks]; ts.Block != want || strings.Contains(ts.Why, "blocks of 32 rows") != inBlocks {
			t.Errorf("inspect --json: %s: block %d, why %q; want %d", ts.Name, ts.Block, ts.Why, want)
		}
		blocked[ts.Name] = inBlocks
	}
	if !anyTrue(blocked) {
		t.Fatalf("no table took a block tier: %+v", ins.Tensors)
	}
	_, text, _ := shark(t, "inspect", out)
	if !strings.Contains(text, "container version 2.0") || !strings.Contains(text, "blocks of 32 rows") {
		t.Errorf("inspect: no version or block size:\n%s", text)
	}
	return blocked
}

func anyTrue(m map[string]bool) bool {
	for _, v := range m {
		if v {
			return true
		}
	}
	return false
}

// checkVerifyShowsBlock checks verify's version and blocks of 32 rows for
// the tables that have them.
func checkVerifyShowsBlock(t *testing.T, out string, blocked map[string]bool) {
	t.Helper()
	code, stdout, stderr := shark(t, "verify", out, "--json")
	var v struct {
		OK      bool   `json:"ok"`
		Version string `json:"version"`
		Tables  []struct {
			Name  string `json:"name"`
			Block int64  `json:"block"`
		} `json:"tables"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &v) != nil || !v.OK || v.Version != "2.0" || len(v.Tables) == 0 {
		t.Fatalf("verify --json: exit %d, %+v %s", code, v, stderr)
	}
	for _, tb := range v.Tables {
		if want := map[bool]int64{true: 32}[blocked[tb.Name]]; tb.Block != want {
			t.Errorf("verify --json: %s: block %d, want %d", tb.Name, tb.Block, want)
		}
	}
	_, text, _ := shark(t, "verify", out)
	if !strings.Contains(text, ": ok, container version 2.0\n") || !strings.Contains(text, "; block tiers in blocks of 32 rows\n") {
		t.Errorf("verify: no version or block size:\n%s", text)
	}
}
