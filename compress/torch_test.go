package compress

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"shark/core"
	"shark/internal/pyref"
)

// A checkpoint written by PyTorch, quantized by shark and exported for
// PyTorch serving: PyTorch's own quantized embedding-bag operators over the
// exported int8 and int4 rows give shark's pooled sums, and PyTorch's int4
// prepack of the original rows is shark's int4 rows, byte for byte.
func TestTorchServesExport(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "model.pt")
	pyref.RunWith(t, []string{"torch"}, `
import sys, torch
torch.manual_seed(11)
sd = {"emb.weight": torch.randn(5000, 32), "odd.weight": torch.randn(3000, 13) * 4,
      "top.bias": torch.randn(3)}
torch.save(sd, sys.argv[1])
`, model)
	in, err := Open(model)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	s := DefaultSettings()
	s.Assign, s.Fractions = "fractions", [core.NumTiers]float64{0.25, 0.25, 0.25, 0.25}
	plan, err := NewPlan(in, s, Env{})
	if err != nil {
		t.Fatal(err)
	}
	sharkPath := filepath.Join(dir, "model.shark")
	if err := plan.WriteFile(sharkPath); err != nil {
		t.Fatal(err)
	}
	sin, err := Open(sharkPath)
	if err != nil {
		t.Fatal(err)
	}
	defer sin.Close()
	exported := filepath.Join(dir, "tiers.pt")
	if err := ExportFile(sin, "pt", Tiers, exported); err != nil {
		t.Fatal(err)
	}
	bags := sharkBags(t, sin)
	b, _ := json.Marshal(bags)
	os.WriteFile(filepath.Join(dir, "bags.json"), b, 0o644)
	out := pyref.RunWith(t, []string{"torch"}, `
import sys, json, warnings, torch
warnings.simplefilter("error")
model, exported, bags = sys.argv[1:4]
orig = torch.load(model, weights_only=True)
sd = torch.load(exported, weights_only=True)
worst = 0.0
with open(bags) as f:
    cases = json.load(f)
for b in cases:
    w = sd[b["table"] + "." + b["tier"] + ".rows"]
    op = {"int8": torch.ops.quantized.embedding_bag_byte_rowwise_offsets,
          "int4": torch.ops.quantized.embedding_bag_4bit_rowwise_offsets}[b["tier"]]
    got = op(w, torch.tensor(b["ranks"]), torch.tensor(b["offsets"]), False, 0, False, None, None, False)
    # An odd width's int4 rows end in a padding nibble, which the operator
    # returns as one more column.
    want = torch.tensor(b["sums"]).reshape(got.shape[0], -1)
    got = got[:, :want.shape[1]]
    scale = torch.maximum(want.abs(), torch.ones_like(want))
    worst = max(worst, ((got - want).abs() / scale).max().item())
for name in ("emb.weight", "odd.weight"):
    ids = sd[name + ".int4.ids"]
    if orig[name].shape[1] % 2 == 0:  # PyTorch's 4-bit prepack takes even widths alone
        packed = torch.ops.quantized.embedding_bag_4bit_prepack(orig[name][ids])
        assert torch.equal(packed, sd[name + ".int4.rows"]), name + ": int4 rows differ from embedding_bag_4bit_prepack"
    assert sd[name + ".int8.rows"].shape[1] == orig[name].shape[1] + 8
    assert sd[name + ".fp16.rows"].dtype == torch.float16
assert torch.equal(sd["top.bias"], orig["top.bias"])
print(worst)
`, model, exported, filepath.Join(dir, "bags.json"))
	var worst float64
	if err := json.Unmarshal([]byte(out), &worst); err != nil || worst > 1e-6 {
		t.Fatalf("PyTorch's pooled sums differ from shark's by %v (relative; at most 1e-6) %v", worst, err)
	}
	t.Logf("largest relative difference of PyTorch's pooled sums from shark's: %g", worst)
}

type bagCase struct {
	Table   string    `json:"table"`
	Tier    string    `json:"tier"`
	Ranks   []int64   `json:"ranks"`   // rows of the tier's block
	Offsets []int64   `json:"offsets"` // where each bag starts in Ranks
	Sums    []float32 `json:"sums"`    // shark's PoolBags over the same rows
}

// sharkBags pools random bags of each table's int8 and int4 rows with
// shark's PoolBags.
func sharkBags(t *testing.T, in *Input) []bagCase {
	rd, _ := in.Shark()
	r := rand.New(rand.NewPCG(1, 2))
	var out []bagCase
	for _, tbl := range rd.Tables() {
		for _, tier := range []core.Tier{core.INT8, core.INT4} {
			ids := tbl.IDs(tier)
			c := bagCase{Table: tbl.Name(), Tier: tier.String()}
			var global, offsets []int
			for range 64 {
				c.Offsets = append(c.Offsets, int64(len(c.Ranks)))
				offsets = append(offsets, len(global))
				for range 1 + r.IntN(20) {
					k := r.IntN(len(ids))
					c.Ranks = append(c.Ranks, int64(k))
					global = append(global, int(ids[k]))
				}
			}
			offsets = append(offsets, len(global))
			c.Sums = make([]float32, 64*tbl.Dim())
			if err := tbl.PoolBags(global, offsets, false, c.Sums); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
	}
	return out
}

// The torch layout in an .npz and a .safetensors: int8 rows carry the
// tiers layout's fp16 scale and bias widened to fp32, read by NumPy.
func TestTorchLayoutNPZ(t *testing.T) {
	in := openNCF(t)
	s := DefaultSettings()
	s.Assign, s.Fractions = "fractions", [core.NumTiers]float64{0.1, 0.2, 0.3, 0.4}
	plan, err := NewPlan(in, s, Env{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sharkPath := filepath.Join(dir, "m.shark")
	if err := plan.WriteFile(sharkPath); err != nil {
		t.Fatal(err)
	}
	sin, err := Open(sharkPath)
	if err != nil {
		t.Fatal(err)
	}
	defer sin.Close()
	for _, l := range []Layout{Tiers, Torch} {
		for _, to := range []string{"npz", "safetensors"} {
			if err := ExportFile(sin, to, l, filepath.Join(dir, string(l)+"."+to)); err != nil {
				t.Fatal(err)
			}
		}
	}
	pyref.Run(t, `
import sys, os, json, struct, numpy as np
d = sys.argv[1]
def safetensors(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    h.pop("__metadata__", None)
    return {k: np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], np.uint8) for k, v in h.items()}
for to in ("npz", "safetensors"):
    if to == "npz":
        tiers, torch = np.load(os.path.join(d, "tiers.npz")), np.load(os.path.join(d, "torch.npz"))
        names = [k[:-len(".int8.rows")] for k in tiers.files if k.endswith(".int8.rows")]
        get = lambda z, k: z[k]
    else:
        tiers, torch = safetensors(os.path.join(d, "tiers.safetensors")), safetensors(os.path.join(d, "torch.safetensors"))
        names = [k[:-len(".int8.rows")] for k in tiers if k.endswith(".int8.rows")]
    assert names
    for n in names:
        a, b = tiers[n + ".int8.rows"], torch[n + ".int8.rows"]
        if to == "safetensors":
            rows = len(tiers[n + ".int8.ids"]) // 8
            a, b = a.reshape(rows, -1), b.reshape(rows, -1)
        D = a.shape[1] - 4
        assert b.shape == (a.shape[0], D + 8), (a.shape, b.shape)
        assert np.array_equal(a[:, :D], b[:, :D])
        wide = np.ascontiguousarray(b[:, D:]).view("<f4")
        half = np.ascontiguousarray(a[:, D:]).view("<f2").astype("<f4")
        assert np.array_equal(wide.view(np.uint32), half.view(np.uint32)), n
        assert np.array_equal(tiers[n + ".int4.rows"], torch[n + ".int4.rows"])
`, dir)
}
