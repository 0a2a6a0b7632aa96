package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"shark/internal/pyref"
)

// float64Model writes tables of float64: "big" holds 1e300 at row 3 and
// "tiny" 1e-300 at row 5 (no float32 holds either: an infinity, a 0), and
// "plain" holds values float32 can.
const float64Model = `
import sys, numpy as np
r = np.random.default_rng(7)
big, tiny, plain = (r.standard_normal((200, 8)) for _ in range(3))
big[3, 2] = 1e300
tiny[5, :] = 0
tiny[5, 1] = -1e-300
np.savez(sys.argv[1], big=big, tiny=tiny, plain=plain)
`

// sameNPZ prints, for each array of the first file, whether the second
// holds it exactly, dtype and all.
const sameNPZ = `
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
for k in sorted(a.files):
    print(k, a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]))
`

// TestQuantizeFloat64BeyondFloat32: a float64 table holding a value no
// float32 can hold is kept dense, exactly, and said so; verify passes and
// the export gives the source's values back. Before, 1e300 came back inf
// and 1e-300 came back 0, and verify passed.
func TestQuantizeFloat64BeyondFloat32(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "m.npz")
	pyref.Run(t, float64Model, src)
	for i, args := range [][]string{{"--fp32", "1", "--fp16", "0", "--int8", "0", "--int4", "0"}, {"--budget", "30%"}} {
		out := filepath.Join(dir, "m.shark")
		code, stdout, stderr := shark(t, append([]string{"quantize", src, "-o", out, "--min-rows", "10", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: quantize: %d %s", args, code, stderr)
		}
		var res struct {
			Tables    []struct{ Name string }
			KeptDense []struct {
				Name string
				Row  int
			} `json:"kept_dense"`
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err)
		}
		if len(res.Tables) != 1 || res.Tables[0].Name != "plain" || len(res.KeptDense) != 2 ||
			res.KeptDense[0].Name != "big" || res.KeptDense[0].Row != 3 || res.KeptDense[1].Name != "tiny" || res.KeptDense[1].Row != 5 {
			t.Errorf("%v: tables %+v, kept dense %+v; want plain compressed, big (row 3) and tiny (row 5) kept", args, res.Tables, res.KeptDense)
		}
		for _, name := range []string{`"big": row 3`, `"tiny": row 5`} {
			if !strings.Contains(stderr, name) {
				t.Errorf("%v: no warning naming %s: %s", args, name, stderr)
			}
		}
		if code, _, stderr := shark(t, "verify", out); code != 0 {
			t.Fatalf("%v: verify: %s", args, stderr)
		}
		back := filepath.Join(dir, "back.npz")
		if code, _, stderr := shark(t, "export", out, "--to", "npz", "-o", back); code != 0 {
			t.Fatalf("%v: export: %s", args, stderr)
		}
		got := pyref.Run(t, sameNPZ, src, back)
		for _, k := range []string{"big", "tiny"} {
			if !strings.Contains(got, k+" True") {
				t.Errorf("run %d %v: %s not given back exactly:\n%s", i, args, k, got)
			}
		}
	}
	code, _, stderr := shark(t, "quantize", src, "-o", filepath.Join(dir, "t.shark"), "--tables", "big|plain")
	if code == 0 || !strings.Contains(stderr, `"big"`) || !strings.Contains(stderr, "row 3") {
		t.Errorf("--tables naming big: code %d, %s; want a refusal naming it and its row", code, stderr)
	}
}
