package main

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"shark/formats"
	"shark/internal/pyref"
)

// trainingScript defines the model the checkpoint tests train: two
// embedding tables of 1000 rows and more, trained one Adam step.
const trainingScript = `
import sys, os, torch
torch.manual_seed(5)

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb_l = torch.nn.ModuleList([torch.nn.Embedding(1200, 16), torch.nn.Embedding(1000, 8)])
        self.top = torch.nn.Linear(24, 1)
    def forward(self, a, b):
        return self.top(torch.cat([self.emb_l[0](a), self.emb_l[1](b)], 1))

def trained():
    m = Net()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    a, b = torch.randint(0, 1200, (256,)), torch.randint(0, 1000, (256,))
    m(a, b).pow(2).mean().backward()
    opt.step()
    return m, opt
`

// trainingCheckpoints saves {"model", "optimizer", "epoch"} as ckpt.pt and
// Lightning's layout as lightning.pt in dir.
func trainingCheckpoints(t *testing.T, dir string) {
	t.Helper()
	pyref.RunWith(t, []string{"torch"}, trainingScript+`
m, opt = trained()
out = sys.argv[1]
torch.save({"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, os.path.join(out, "ckpt.pt"))
torch.save({"state_dict": m.state_dict(), "optimizer_states": [opt.state_dict()], "epoch": 3, "global_step": 1,
            "hyper_parameters": {"lr": 1e-3, "dims": (16, 8), "name": "net", "amp": False, "sched": None}},
           os.path.join(out, "lightning.pt"))
`, dir)
}

// Optimizer state takes no share of the budget and is kept bit for bit;
// inspect says what it is.
func TestCheckpointOptimizerState(t *testing.T) {
	dir := t.TempDir()
	trainingCheckpoints(t, dir)
	for _, c := range []struct{ file, prefix string }{{"ckpt.pt", "model."}, {"lightning.pt", ""}} {
		src := filepath.Join(dir, c.file)
		code, out, errOut := shark(t, "inspect", src)
		if code != 0 || !strings.Contains(out, "optimizer state (dense, not a table)") {
			t.Fatalf("inspect %s: %d %s %s", c.file, code, out, errOut)
		}
		sh := filepath.Join(dir, c.file+".shark")
		code, out, errOut = shark(t, "quantize", src, "--budget", "30%", "-o", sh, "--json")
		if code != 0 {
			t.Fatalf("quantize %s: %s", c.file, errOut)
		}
		var res struct {
			Tables []struct{ Name string }
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tb := range res.Tables {
			names = append(names, tb.Name)
		}
		if want := c.prefix + "emb_l.0.weight " + c.prefix + "emb_l.1.weight"; strings.Join(names, " ") != want {
			t.Fatalf("%s: tables %v, want %s", c.file, names, want)
		}
		sameOptimizerBytes(t, src, sh)
		// The .shark keeps the optimizer state's role: inspected, it is
		// still no table.
		if code, out, errOut := shark(t, "inspect", sh); code != 0 || strings.Count(out, "optimizer state (dense, not a table)") != 12 {
			t.Fatalf("inspect %s: %d %s %s", sh, code, out, errOut)
		}
	}
}

// sameOptimizerBytes checks that every optimizer tensor of src is in sh,
// dense, with the same bytes.
func sameOptimizerBytes(t *testing.T, src, sh string) {
	t.Helper()
	a, fa, err := formats.OpenFile(src)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	b, fb, err := formats.OpenFile(sh)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	n := 0
	for _, ta := range a.Tensors {
		if !ta.OptimizerState {
			continue
		}
		n++
		tb, err := b.Tensor(ta.Name)
		if err != nil {
			t.Fatal(err)
		}
		if tb.Tiers != nil || !bytes.Equal(tensorBytes(t, ta), tensorBytes(t, tb)) {
			t.Fatalf("%s: optimizer tensor %q changed", sh, ta.Name)
		}
	}
	if n != 12 {
		t.Fatalf("%s: %d optimizer tensors, Adam over 4 parameters has 12", src, n)
	}
}

func tensorBytes(t *testing.T, ft *formats.Tensor) []byte {
	t.Helper()
	rc, err := ft.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkBack is the Python side of the round trip: the export's pickle is
// one torch.load(weights_only=True) reads (PyTorch 1.13's opcodes and
// globals, and BINFLOAT, which torch.save writes for floats and later
// PyTorch reads), the model and the optimizer load from it, the optimizer's
// state is the original's bit for bit, and the rest is the original.
const checkBack = `
import zipfile, pickletools
from torch._weights_only_unpickler import _get_allowed_globals
ALLOWED = set("PROTO GLOBAL NEWOBJ REDUCE BUILD APPEND APPENDS SETITEM SETITEMS MARK TUPLE TUPLE1 TUPLE2 TUPLE3 "
              "NONE NEWFALSE NEWTRUE EMPTY_TUPLE EMPTY_LIST EMPTY_DICT BININT BININT1 BININT2 BINUNICODE "
              "BINPERSID BINGET LONG_BINGET BINPUT LONG_BINPUT LONG1 STOP BINFLOAT".split())

def weights_only_pickle(path):
    z = zipfile.ZipFile(path)
    pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
    for op, arg, _ in pickletools.genops(z.read(pkl)):
        assert op.name in ALLOWED, op.name
        if op.name == "GLOBAL":
            assert arg.replace(" ", ".") in _get_allowed_globals(), arg

def bits(t):
    return t.detach().contiguous().numpy().tobytes()

def check(orig_path, back_path, model_key, opt_of):
    weights_only_pickle(back_path)
    orig, back = torch.load(orig_path), torch.load(back_path)
    assert list(back.keys()) == list(orig.keys()), (list(back.keys()), list(orig.keys()))
    m = Net()
    m.load_state_dict(back[model_key])
    for k, v in orig[model_key].items():
        got = m.state_dict()[k]
        if k.startswith("emb_l."):
            err = (got - v).abs().max().item()
            assert 0 < err < 0.05 * v.abs().max().item(), (k, err)
        else:
            assert bits(got) == bits(v), k
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    opt.load_state_dict(opt_of(back))
    want = opt_of(orig)
    assert opt.state_dict()["param_groups"] == want["param_groups"]
    for i, st in want["state"].items():
        for k, v in st.items():
            assert bits(opt.state_dict()["state"][i][k]) == bits(v), (i, k)
    assert any(bits(v["exp_avg_sq"]) != bits(torch.zeros_like(v["exp_avg_sq"])) for v in want["state"].values())
    for k in orig:
        if k not in (model_key,) and not k.startswith("optimizer"):
            assert back[k] == orig[k], (k, back[k], orig[k])
    m(torch.tensor([1, 2]), torch.tensor([3, 4])).sum().backward()
    opt.step()

d = sys.argv[1]
check(d + "/ckpt.pt", d + "/ckpt.pt.back.pt", "model", lambda c: c["optimizer"])
# The tiers layout puts a table's tiers where the table was, beside the rest.
weights_only_pickle(d + "/ckpt.pt.tiers.pt")
tiers = torch.load(d + "/ckpt.pt.tiers.pt")
assert "emb_l.0.weight.int8.rows" in tiers["model"] and "top.bias" in tiers["model"] and tiers["epoch"] == 3
torch.optim.Adam(Net().parameters(), lr=1e-3).load_state_dict(tiers["optimizer"])
check(d + "/lightning.pt", d + "/lightning.pt.back.pt", "state_dict", lambda c: c["optimizer_states"][0])
print("ok")
`

// A training checkpoint comes back from .shark as one PyTorch resumes
// from: the model's and the optimizer's load_state_dict take their parts,
// the optimizer's state is bit for bit the original's, and the epoch,
// param_groups and hyper-parameters are where they were.
func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	trainingCheckpoints(t, dir)
	for _, f := range []string{"ckpt.pt", "lightning.pt"} {
		src, sh := filepath.Join(dir, f), filepath.Join(dir, f+".shark")
		if code, _, errOut := shark(t, "quantize", src, "--budget", "30%", "-o", sh); code != 0 {
			t.Fatalf("quantize %s: %s", f, errOut)
		}
		if code, _, errOut := shark(t, "export", sh, "--to", "pt", "-o", src+".back.pt"); code != 0 {
			t.Fatalf("export %s: %s", f, errOut)
		}
	}
	sh := filepath.Join(dir, "ckpt.pt.shark")
	if code, _, errOut := shark(t, "export", sh, "--to", "pt", "--layout", "tiers", "-o", filepath.Join(dir, "ckpt.pt.tiers.pt")); code != 0 {
		t.Fatalf("export tiers: %s", errOut)
	}
	if code, out, errOut := shark(t, "verify", sh); code != 0 {
		t.Fatalf("verify: %s %s", out, errOut)
	}
	if got := pyref.RunWith(t, []string{"torch"}, trainingScript+checkBack, dir); strings.TrimSpace(got) != "ok" {
		t.Fatalf("python: %s", got)
	}
}
