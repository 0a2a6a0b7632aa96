package pytorch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/formats"
	"shark/internal/pyref"
)

// trainingFixtures saves training checkpoints as scripts do: a model of
// two embedding tables of 1000 rows and more, trained one Adam step, saved
// with its optimizer as {"model", "optimizer", "epoch"}, Lightning's
// {"state_dict", "optimizer_states", ...}, the optimizer's state_dict alone,
// and the whole model pickled.
const trainingFixtures = `
import sys, os, torch
torch.manual_seed(3)
out = sys.argv[1]

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb_l = torch.nn.ModuleList([torch.nn.Embedding(1200, 16), torch.nn.Embedding(1000, 8)])
        self.top = torch.nn.Linear(24, 1)
    def forward(self, a, b):
        return self.top(torch.cat([self.emb_l[0](a), self.emb_l[1](b)], 1))

m = Net()
opt = torch.optim.Adam(m.parameters(), lr=1e-3)
a, b = torch.randint(0, 1200, (256,)), torch.randint(0, 1000, (256,))
m(a, b).pow(2).mean().backward()
opt.step()
sd, osd = m.state_dict(), opt.state_dict()
torch.save({"model": sd, "optimizer": osd, "epoch": 3}, os.path.join(out, "ckpt.pt"))
torch.save({"state_dict": sd, "optimizer_states": [osd], "epoch": 3, "global_step": 1,
            "hyper_parameters": {"lr": 1e-3, "dims": [16, 8], "name": "net", "amp": False, "sched": None}},
           os.path.join(out, "lightning.pt"))
torch.save(osd, os.path.join(out, "opt.pt"))
torch.save(m, os.path.join(out, "whole.pt"))
torch.save(torch.nn.Sequential(torch.nn.Embedding(10, 2)), os.path.join(out, "sequential.pt"))
`

var trainingDir string

func training(t *testing.T) string {
	t.Helper()
	if trainingDir == "" {
		dir, err := os.MkdirTemp("", "shark-pytorch-training-")
		if err != nil {
			t.Fatal(err)
		}
		pyref.RunWith(t, []string{"torch"}, trainingFixtures, dir)
		trainingDir = dir
	}
	return trainingDir
}

// roles splits a file's tensor names into tables (at 1000 rows),
// optimizer state, and the rest.
func roles(f *formats.File) (tables, opt, other []string) {
	for _, ft := range f.Tensors {
		switch {
		case ft.IsTable(1000):
			tables = append(tables, ft.Name)
		case ft.OptimizerState:
			opt = append(opt, ft.Name)
		default:
			other = append(other, ft.Name)
		}
	}
	return
}

// Adam's moments are shaped like the tables they belong to, but are no
// tables: under an optimizer key, or in Optimizer.state_dict()'s shape.
func TestOptimizerStateIsNoTable(t *testing.T) {
	dir := training(t)
	cases := []struct {
		file   string
		tables []string
		nopt   int
		opt0   string
	}{
		{"ckpt.pt", []string{"model.emb_l.0.weight", "model.emb_l.1.weight"}, 12, "optimizer.state.0.step"},
		// The wrapper goes from the model's names though the optimizer sits beside it.
		{"lightning.pt", []string{"emb_l.0.weight", "emb_l.1.weight"}, 12, "optimizer_states.0.state.0.step"},
		{"opt.pt", nil, 12, "state.0.step"},
	}
	for _, c := range cases {
		f := openPT(t, filepath.Join(dir, c.file))
		tables, opt, other := roles(f)
		if strings.Join(tables, " ") != strings.Join(c.tables, " ") || len(opt) != c.nopt || opt[0] != c.opt0 {
			t.Errorf("%s: tables %v, optimizer state %v, other %v", c.file, tables, opt, other)
		}
		for _, n := range opt {
			if !strings.Contains(n, "state.") {
				t.Errorf("%s: %q taken for optimizer state", c.file, n)
			}
		}
		for _, n := range other {
			if strings.Contains(n, "exp_avg") {
				t.Errorf("%s: %q not taken for optimizer state", c.file, n)
			}
		}
	}
}

// A whole pickled model is refused with the advice to save its state_dict.
func TestWholeModelRefused(t *testing.T) {
	dir := training(t)
	for _, file := range []string{"whole.pt", "sequential.pt"} {
		_, _, err := formats.OpenFile(filepath.Join(dir, file))
		if !errors.Is(err, formats.ErrUnsupported) || !strings.Contains(err.Error(), "whole pickled model") ||
			!strings.Contains(err.Error(), "torch.save(model.state_dict(), path)") {
			t.Errorf("%s: %v", file, err)
		}
	}
}
