package pytorch

import (
	"bytes"
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
        self.optim_gate = torch.nn.Linear(1, 1)
    def forward(self, a, b):
        return self.optim_gate(self.top(torch.cat([self.emb_l[0](a), self.emb_l[1](b)], 1)))

m = Net()
opt = torch.optim.Adam(m.parameters(), lr=1e-3)
a, b = torch.randint(0, 1200, (256,)), torch.randint(0, 1000, (256,))
m(a, b).pow(2).mean().backward()
opt.step()
sd, osd = m.state_dict(), opt.state_dict()
torch.save({"model": sd, "optimizer": osd, "epoch": 3}, os.path.join(out, "ckpt.pt"))
torch.save({"state_dict": sd, "optimizer_states": [osd], "epoch": 3, "global_step": 1,
            "callbacks": {"ModelCheckpoint{'monitor': 'val_loss'}": {"best_model_score": torch.tensor(0.25)}},
            "hyper_parameters": {"lr": 1e-3, "dims": [16, 8], "name": "net", "amp": False, "sched": None}},
           os.path.join(out, "lightning.pt"))
torch.save(osd, os.path.join(out, "opt.pt"))
torch.save({"model": sd, "epoch": 3, "names": ["a", "b"], "flags": (True, None, -7), "dtype": torch.float32,
            1: {"empty": [], "e": {}, "t": ()}}, os.path.join(out, "nofloat.pt"))
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
		{"ckpt.pt", []string{"model.emb_l.0.weight", "model.emb_l.1.weight"}, 18, "optimizer.state.0.step"},
		// The wrapper goes from the model's names though the optimizer sits beside it.
		{"lightning.pt", []string{"emb_l.0.weight", "emb_l.1.weight"}, 18, "optimizer_states.0.state.0.step"},
		{"opt.pt", nil, 18, "state.0.step"},
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

// sameCheckpoints is a Python check that two checkpoints hold the same
// values in the same containers, tensors bit for bit.
const sameCheckpoints = `
import sys, struct, collections, torch
def same(a, b, path):
    assert type(a) is type(b), (path, type(a), type(b))
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert a.detach().contiguous().numpy().tobytes() == b.detach().contiguous().numpy().tobytes(), path
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys()), (path, list(a.keys()), list(b.keys()))
        for k in a:
            same(a[k], b[k], path + "." + str(k))
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, path + "." + str(i))
    elif isinstance(a, float):
        assert struct.pack("<d", a) == struct.pack("<d", b), path
    else:
        assert a == b, (path, a, b)
args = sys.argv[1:]
for i in range(0, len(args), 3):
    wo = args[i + 2] == "1"
    same(torch.load(args[i], weights_only=wo), torch.load(args[i + 1], weights_only=wo), args[i])
print("same")
`

// rewrite writes f's tensors and structure through the Writer.
func rewrite(t *testing.T, f *formats.File, path string) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, "archive")
	for _, ft := range f.Tensors {
		rc, err := ft.Open()
		if err != nil {
			t.Fatal(err)
		}
		err = w.Write(ft.Name, ft.DType, ft.Shape, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	w.SetStructure(f.Structure)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A checkpoint read and written back holds what torch saved, where torch
// saved it: dicts (OrderedDict or not), lists, tuples, ints, floats,
// strings, bools, None, dtypes, tensors bit for bit.
func TestStructureRoundTrip(t *testing.T) {
	dir, out := training(t), t.TempDir()
	var args []string
	// PyTorch 1.13 reads no float with weights_only=True, not even from
	// torch.save's own files; the float-free checkpoint is read so.
	for _, c := range []struct {
		file        string
		weightsOnly string
	}{{"ckpt.pt", "0"}, {"lightning.pt", "0"}, {"opt.pt", "0"}, {"nofloat.pt", "1"}} {
		f := openPT(t, filepath.Join(dir, c.file))
		if f.Structure == nil {
			t.Fatalf("%s: no structure kept (%s)", c.file, f.Meta["pytorch.structure"])
		}
		back := filepath.Join(out, c.file)
		rewrite(t, f, back)
		args = append(args, filepath.Join(dir, c.file), back, c.weightsOnly)
	}
	if got := pyref.RunWith(t, []string{"torch"}, sameCheckpoints, args...); strings.TrimSpace(got) != "same" {
		t.Fatalf("%s", got)
	}
}

// A plain state_dict needs no structure: the writer's OrderedDict is it.
func TestFlatStateDictHasNoStructure(t *testing.T) {
	f := openPT(t, filepath.Join(real(t), "sd.pt"))
	if f.Structure != nil {
		t.Fatalf("structure %v kept for a plain state_dict", f.Structure.Flatten())
	}
}
