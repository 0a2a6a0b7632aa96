package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/core"
	"shark/formats"
	"shark/formats/sharkfile"
)

// writeTiersFile writes a .shark file of one table, "emb", of 600 rows
// taking the given tiers in turn.
func writeTiersFile(t *testing.T, tiers []core.Tier) string {
	path := filepath.Join(t.TempDir(), "later.shark")
	tb := &core.Table{R: 600, D: 8, Data: make([]float32, 600*8)}
	for i := range tb.Data {
		tb.Data[i] = float32(i%29) - 14
	}
	rowTiers := make([]core.Tier, tb.R)
	for r := range rowTiers {
		rowTiers[r] = tiers[r%len(tiers)]
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := sharkfile.NewWriter(f)
	if err := w.WriteTable("emb", tb, rowTiers, sharkfile.TableInfo{SourceDType: formats.F32}, nil); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(w.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
	return path
}

// inspect and verify count the rows of every tier a table's rows take,
// in text and in JSON; a file of the default tiers is shown as before.
// (inspect's text names the later tiers after the default four's counts.)
func TestInspectVerifyLaterTiers(t *testing.T) {
	later := writeTiersFile(t, []core.Tier{core.FP32, core.FP16, core.INT8, core.INT4, core.INT2})
	old := writeTiersFile(t, []core.Tier{core.FP16, core.INT8})
	for _, c := range []struct {
		path, header, cells, verified string
		tiers                         map[string]int64
	}{
		{later, "TIERS (fp32/fp16/int8/int4)", "120/120/120/120 int2 120",
			"emb: 600 rows, fp32 120, fp16 120, int8 120, int4 120, int2 120\n",
			map[string]int64{"fp32": 120, "fp16": 120, "int8": 120, "int4": 120, "int2": 120}},
		{old, "TIERS (fp32/fp16/int8/int4)", "0/300/300/0", "emb: 600 rows, fp32 0, fp16 300, int8 300, int4 0\n",
			map[string]int64{"fp32": 0, "fp16": 300, "int8": 300, "int4": 0}},
	} {
		code, out, e := shark(t, "inspect", c.path)
		if code != 0 || !strings.Contains(out, c.header) || !strings.Contains(out, c.cells) {
			t.Fatalf("inspect %s: %d %s\n%s", c.path, code, e, out)
		}
		code, out, e = shark(t, "verify", c.path)
		if code != 0 || !strings.HasSuffix(out, c.verified) {
			t.Fatalf("verify %s: %d %s\n%q", c.path, code, e, out)
		}
		code, out, e = shark(t, "verify", c.path, "--json")
		var res struct {
			Tables []struct {
				Name  string           `json:"name"`
				Rows  int64            `json:"rows"`
				Tiers map[string]int64 `json:"tiers"`
			} `json:"tables"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Tables) != 1 || !equalCounts(res.Tables[0].Tiers, c.tiers) {
			t.Fatalf("verify --json %s: %d %s\n%s", c.path, code, e, out)
		}
		code, out, e = shark(t, "inspect", c.path, "--json")
		var ins struct {
			Tensors []struct {
				Tiers map[string]int64 `json:"tiers"`
			} `json:"tensors"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &ins) != nil || len(ins.Tensors) != 1 || !equalCounts(ins.Tensors[0].Tiers, c.tiers) {
			t.Fatalf("inspect --json %s: %d %s\n%s", c.path, code, e, out)
		}
	}
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// verify fails on a flipped byte of a table's block parameters, naming
// the checksum and its offset.
func TestVerifyFlippedBlockParams(t *testing.T) {
	path := writeTiersFile(t, []core.Tier{core.FP16, core.INT2, core.INT4B, core.INT2B})
	rd, err := sharkfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tbl, _ := rd.Table("emb")
	p := tbl.Entry().Params
	rd.Close()
	if p == nil || p.Len < 8 {
		t.Fatalf("no block parameters: %+v", p)
	}
	b, _ := os.ReadFile(path)
	b[p.Off+5] ^= 1
	os.WriteFile(path, b, 0o644)
	code, _, e := shark(t, "verify", path)
	if code != 1 || !strings.Contains(e, "checksum") || !strings.Contains(e, "offset") {
		t.Fatalf("verify of a flipped block parameter: %d %q", code, e)
	}
	// --json says it as every failure does: the error, its kind, the exit.
	code, out, _ := shark(t, "verify", path, "--json")
	var res struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
		Kind  string `json:"kind"`
		Exit  int    `json:"exit"`
	}
	if code != 1 || json.Unmarshal([]byte(out), &res) != nil || res.OK || !strings.Contains(res.Error, "checksum") || res.Kind == "" || res.Exit != 1 {
		t.Fatalf("verify --json of a flipped block parameter: %d %s", code, out)
	}
}
