package compress

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"shark/formats/sharkfile"
	"shark/internal/pyref"
)

// tiedModel is a torch.save of a model whose output layer is its
// embedding's weight (emb.weight and out.weight: one Parameter), beside a
// table that shares a storage but not the view (part, rows 1..).
const tiedModel = `
import sys, torch
torch.manual_seed(5)
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(3000, 16)
        self.out = torch.nn.Linear(16, 3000, bias=False)
        self.out.weight = self.emb.weight
m = M()
sd = m.state_dict()
base = torch.randn(2001, 8)
sd["other.weight"] = base
sd["part.weight"] = base[1:]
torch.save(sd, sys.argv[1])
`

// A tied pair is measured, budgeted and stored once, recorded as the same
// tensor, and exported as one storage under both names (pt) or as two
// copies (npz, which has no sharing).
func TestTiedWeightsStoredOnce(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "tied.pt")
	pyref.RunWith(t, []string{"torch"}, tiedModel, model)
	in, err := Open(model)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	roles, whys := map[string]string{}, map[string]string{}
	for _, ts := range Summarize(in).Tensors {
		roles[ts.Name], whys[ts.Name] = ts.Role, ts.Why
	}
	if roles["out.weight"] != `same as "emb.weight"` || roles["part.weight"] != RoleTable {
		t.Fatalf("roles %q", roles)
	}
	if !strings.HasPrefix(whys["out.weight"], `tied: the storage of "emb.weight"`) {
		t.Fatalf("out.weight's reason %q does not say it is tied", whys["out.weight"])
	}
	s := DefaultSettings()
	s.Budget = 0.40
	plan, err := NewPlan(in, s, Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	var names []string
	for _, tp := range plan.Tables {
		names = append(names, tp.Name)
	}
	if strings.Join(names, " ") != "emb.weight other.weight part.weight" {
		t.Fatalf("planned %v: the tied pair is planned twice, or a view was dropped", names)
	}
	if want := int64(3000*16+2001*8+2000*8) * 4; plan.FP32Bytes() != want {
		t.Fatalf("the plan budgets %d fp32 bytes, want %d", plan.FP32Bytes(), want)
	}
	sharkPath := filepath.Join(dir, "tied.shark")
	if err := plan.WriteFile(sharkPath); err != nil {
		t.Fatal(err)
	}
	sin, err := Open(sharkPath)
	if err != nil {
		t.Fatal(err)
	}
	defer sin.Close()
	rd, _ := sin.Shark()
	if got := len(rd.Tables()); got != 3 {
		t.Fatalf("%d tables stored, want 3", got)
	}
	for _, e := range rd.Header.Tensors {
		if e.Name == "out.weight" && (e.Kind != sharkfile.KindAlias || e.SameAs != "emb.weight") {
			t.Fatalf("out.weight stored as %s %q", e.Kind, e.SameAs)
		}
	}
	for _, ts := range Summarize(sin).Tensors {
		if ts.Name == "out.weight" && (ts.Role != `same as "emb.weight"` || ts.Bytes != 0) {
			t.Fatalf("inspect of the .shark: out.weight %q, %d bytes", ts.Role, ts.Bytes)
		}
	}
	checkTiedExports(t, dir, sin)
}

// checkTiedExports exports sin to pt (dequantized and tiers) and npz, and
// has PyTorch and NumPy check what they hold.
func checkTiedExports(t *testing.T, dir string, sin *Input) {
	t.Helper()
	paths := map[string]string{}
	for _, c := range []struct {
		to     string
		layout Layout
	}{{"pt", Dequantized}, {"pt", Tiers}, {"npz", Dequantized}, {"safetensors", Dequantized}} {
		p := filepath.Join(dir, string(c.layout)+"."+c.to)
		if err := ExportFile(sin, c.to, c.layout, p); err != nil {
			t.Fatal(err)
		}
		paths[string(c.layout)+"."+c.to] = p
	}
	st, err := Open(paths["dequantized.safetensors"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, errA := st.File.Tensor("emb.weight")
	b, errB := st.File.Tensor("out.weight")
	if errA != nil || errB != nil || a.Bytes != 3000*16*4 || b.Bytes != a.Bytes {
		t.Fatalf("safetensors: %v %v %v", a, errA, errB)
	}
	av, _ := a.Float32s()
	bv, _ := b.Float32s()
	if !slices.Equal(av, bv) {
		t.Fatal("safetensors: the copies differ")
	}
	pyref.RunWith(t, []string{"torch", "numpy"}, `
import sys, warnings, torch, numpy as np
warnings.simplefilter("error")
deq, tiers, npz = sys.argv[1:4]
sd = torch.load(deq, weights_only=True)
a, b = sd["emb.weight"], sd["out.weight"]
assert a.data_ptr() == b.data_ptr() and a.shape == b.shape == (3000, 16), "pt: not one storage"
assert sd["other.weight"].data_ptr() != sd["part.weight"].data_ptr(), "pt: a view became the same tensor"
sd = torch.load(tiers, weights_only=True)
for t in ("fp32", "fp16", "int8", "int4"):
    for k in ("ids", "rows"):
        x, y = sd["emb.weight.%s.%s" % (t, k)], sd["out.weight.%s.%s" % (t, k)]
        assert x.data_ptr() == y.data_ptr(), "pt tiers: %s %s not one storage" % (t, k)
z = np.load(npz)
assert np.array_equal(z["emb.weight"], z["out.weight"]), "npz: the copies differ"
assert np.allclose(z["emb.weight"], torch.load(deq, weights_only=True)["emb.weight"].numpy())
`, paths["dequantized.pt"], paths["tiers.pt"], paths["dequantized.npz"])
}
