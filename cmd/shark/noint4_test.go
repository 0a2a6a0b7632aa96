package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// compress takes --no-int4 as quantize does: the budget is met with the
// paper's fp32, fp16 and int8 alone, where int4 rows would be chosen
// otherwise.
func TestCompressNoInt4(t *testing.T) {
	dir := t.TempDir()
	data, mdl := filepath.Join(dir, "s.tsv"), filepath.Join(dir, "m.shark")
	if code, _, e := shark(t, "synth", "-o", data, "--rows", "3000", "--fields", "6"); code != 0 {
		t.Fatal(e)
	}
	if code, _, e := shark(t, "train", data, "-o", mdl, "--epochs", "1"); code != 0 {
		t.Fatal(e)
	}
	int4 := map[bool]int64{}
	for _, no := range []bool{false, true} {
		args := []string{"compress", mdl, data, "--keep-fraction", "1", "--budget", "55%", "-o", filepath.Join(dir, "c.shark"), "--json"}
		if no {
			args = append(args, "--no-int4")
		}
		code, out, e := shark(t, args...)
		var r struct {
			Tiers []struct{ INT4 int64 } `json:"tiers"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || len(r.Tiers) == 0 {
			t.Fatalf("%v: %d %s %s", args, code, out, e)
		}
		for _, tb := range r.Tiers {
			int4[no] += tb.INT4
		}
	}
	if int4[true] != 0 || int4[false] == 0 {
		t.Fatalf("int4 rows: %d with --no-int4, %d without", int4[true], int4[false])
	}
}
