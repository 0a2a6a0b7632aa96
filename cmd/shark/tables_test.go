package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/formats"
	"shark/formats/npz"
	"shark/internal/pyref"
)

// inspected runs inspect --json with args and returns each tensor's table
// verdict and reason, by name.
func inspected(t *testing.T, args ...string) map[string]struct {
	Table bool
	Why   string
} {
	t.Helper()
	code, out, e := shark(t, append([]string{"inspect", "--json"}, args...)...)
	var s struct {
		Tensors []struct {
			Name  string
			Table bool
			Why   string
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
		t.Fatalf("inspect %v: %d %s %s", args, code, out, e)
	}
	m := map[string]struct {
		Table bool
		Why   string
	}{}
	for _, tn := range s.Tensors {
		m[tn.Name] = struct {
			Table bool
			Why   string
		}{tn.Table, tn.Why}
	}
	return m
}

// quantized runs quantize --json and returns the names of the tables it
// compressed.
func quantized(t *testing.T, args ...string) []string {
	t.Helper()
	code, out, e := shark(t, append([]string{"quantize", "--json"}, args...)...)
	var r struct{ Tables []struct{ Name string } }
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("quantize %v: %d %s %s", args, code, out, e)
	}
	var names []string
	for _, tb := range r.Tables {
		names = append(names, tb.Name)
	}
	return names
}

// An NCF state_dict for MovieLens-100K, as torch.save writes it, has
// 944-row user and 1,683-row item tables: the user table is a table by its
// module's name, under the 1,000-row rule, and inspect says so; the dense
// layers are not.
func TestNCFStateDictTablesByName(t *testing.T) {
	dir := t.TempDir()
	pt := filepath.Join(dir, "ncf.pt")
	pyref.RunWith(t, []string{"torch"}, `
import sys, torch
class NCF(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.emb_user = torch.nn.Embedding(944, 32)
        s.emb_item = torch.nn.Embedding(1683, 32)
        s.fc_layers = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16))
        s.affine_output = torch.nn.Linear(16, 1)
torch.manual_seed(0)
torch.save(NCF().state_dict(), sys.argv[1])
`, pt)
	got := inspected(t, pt)
	for name, want := range map[string]string{"emb_user.weight": "embedding module", "emb_item.weight": "embedding module",
		"fc_layers.0.weight": "32 rows < 1000", "fc_layers.0.bias": "1-D"} {
		if got[name].Table != strings.Contains(name, "emb") || !strings.Contains(got[name].Why, want) {
			t.Errorf("%s: %+v, want a reason with %q", name, got[name], want)
		}
	}
	if names := quantized(t, pt, "-o", filepath.Join(dir, "ncf.shark")); strings.Join(names, ",") != "emb_user.weight,emb_item.weight" {
		t.Fatalf("quantize compressed %v", names)
	}
}

// --min-rows changes the size rule in quantize and inspect alike; a
// negative one is refused.
func TestMinRows(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	w := npz.NewWriter(&b, false)
	for _, tn := range []struct {
		name string
		rows int64
	}{{"w", 944}, {"v", 50}} {
		w.Write(tn.name, formats.F32, []int64{tn.rows, 8}, bytes.NewReader(formats.EncodeFloat32(nil, make([]float32, tn.rows*8))))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "m.npz")
	if err := os.WriteFile(in, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := inspected(t, in); got["w"].Table || !strings.Contains(got["w"].Why, "944 rows < 1000") {
		t.Fatalf("default: %+v", got)
	}
	if code, _, e := shark(t, "quantize", in, "-o", filepath.Join(dir, "a.shark")); code == 0 || !strings.Contains(e, "--min-rows") {
		t.Fatalf("no table by default: %d %s", code, e)
	}
	if got := inspected(t, in, "--min-rows", "900"); !got["w"].Table || got["v"].Table || !strings.Contains(got["w"].Why, "944 rows ≥ 900") {
		t.Fatalf("--min-rows 900: %+v", got)
	}
	if names := quantized(t, in, "-o", filepath.Join(dir, "b.shark"), "--min-rows", "900"); strings.Join(names, ",") != "w" {
		t.Fatalf("--min-rows 900 compressed %v", names)
	}
	if code, _, e := shark(t, "quantize", in, "-o", filepath.Join(dir, "c.shark"), "--min-rows", "-1"); code != 2 {
		t.Fatalf("--min-rows -1: %d %s", code, e)
	}
}
