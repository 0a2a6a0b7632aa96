package pytorch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/internal/pyref"
)

// fixtures saves checkpoints with PyTorch itself, and beside each tensor's
// name the bytes torch holds for it (C order, little-endian), in
// DIR/<file>.<tensor>.bin.
const fixtures = `
import sys, os, torch
torch.manual_seed(7)
out = sys.argv[1]

def save(fname, obj, tensors):
    torch.save(obj, os.path.join(out, fname))
    for k, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.bfloat16:
            b = t.view(torch.int16).numpy().tobytes()
        else:
            b = t.numpy().tobytes()
        with open(os.path.join(out, fname + "." + k + ".bin"), "wb") as f:
            f.write(b)

class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.user_emb = torch.nn.Embedding(1000, 16)
        self.item_bag = torch.nn.EmbeddingBag(500, 8, mode="sum")
        self.top = torch.nn.Linear(24, 1)

m = Model()
sd = m.state_dict()
save("sd.pt", sd, dict(sd))
save("wrap.pt", {"state_dict": sd, "epoch": 3, "lr": 0.5, "note": "x"}, dict(sd))
save("nested.pt", {"model": sd, "optimizer": {"step": torch.tensor(5)}},
     dict([("model." + k, v) for k, v in sd.items()] + [("optimizer.step", torch.tensor(5))]))
h = {k: v.half() for k, v in sd.items()}
save("half.pt", h, h)
b = {"table": torch.randn(300, 8).bfloat16()}
save("bf16.pt", b, b)
base = torch.randn(50, 12)
views = {"base": base, "rows": base[10:20], "cols": base[:, 2:6], "t": base.t(), "row": base[3],
         "scalar": base[4, 5], "step": base[::3, ::2]}
save("views.pt", views, views)
a = torch.randn(20, 4)
shared = {"a": a, "b": a, "tail": a[5:]}
save("shared.pt", shared, shared)
ints = {"ids": torch.arange(10), "mask": torch.ones(5, dtype=torch.bool), "f64": torch.randn(4, dtype=torch.float64),
        "i8": torch.tensor([-3, 4], dtype=torch.int8), "u8": torch.tensor([200, 1], dtype=torch.uint8),
        "i16": torch.tensor([-300, 7], dtype=torch.int16), "i32": torch.tensor([1 << 20, -5], dtype=torch.int32),
        "empty": torch.zeros(0, 8)}
save("dtypes.pt", ints, ints)
p = {"weight": torch.nn.Parameter(torch.randn(6, 3))}
save("param.pt", p, p)
`

// realFiles writes the fixtures once per test binary.
var realDir string

func real(t *testing.T) string {
	t.Helper()
	if realDir == "" {
		dir, err := os.MkdirTemp("", "shark-pytorch-")
		if err != nil {
			t.Fatal(err)
		}
		pyref.RunWith(t, []string{"torch"}, fixtures, dir)
		realDir = dir
	}
	return realDir
}

// expected lists the tensors a fixture holds: name -> torch's bytes.
func expected(t *testing.T, dir, file string) map[string][]byte {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(dir, file+".*.bin"))
	out := map[string][]byte{}
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), file+"."), ".bin")] = b
	}
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range []string{realDir, hostileDir, trainingDir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}
