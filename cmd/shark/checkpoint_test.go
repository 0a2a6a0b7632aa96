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
