package main

import (
	"path/filepath"
	"strings"
	"testing"

	"shark/internal/pyref"
)

// sharedCheckpoints saves what a new user's trial did: a config dict shown
// 200 times in a list (pickle.py writes it once, then memo references),
// and an Adam checkpoint whose param_groups hold that dict too.
const sharedCheckpoints = `
import sys, os, torch
torch.manual_seed(7)
out = sys.argv[1]
cfg = {str(i): i for i in range(2000)}
torch.save({"emb.weight": torch.randn(1200, 8), "cfgs": [cfg] * 200}, os.path.join(out, "shared.pt"))
emb, lin = torch.nn.Embedding(1500, 16), torch.nn.Linear(16, 1)
opt = torch.optim.Adam(list(emb.parameters()) + list(lin.parameters()), lr=1e-3)
lin(emb(torch.randint(0, 1500, (64,)))).pow(2).mean().backward()
opt.step()
osd = opt.state_dict()
osd["param_groups"][0]["cfg"] = cfg
torch.save({"model": {"emb.weight": emb.weight.detach(), "lin.weight": lin.weight.detach(), "lin.bias": lin.bias.detach()},
            "optimizer": osd, "cfgs": [cfg] * 50}, os.path.join(out, "sharedopt.pt"))
`

// sharedBack checks the exports: every value but the quantized table is
// the source's, the shared dict equal at each place it was shown.
const sharedBack = `
import sys, torch
def same(a, b, path, skip):
    if path == skip:
        assert a.shape == b.shape and (a - b).abs().max() < 0.1 * a.abs().max(), path
        return
    assert type(a) is type(b), (path, type(a), type(b))
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), path
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys()), path
        for k in a:
            same(a[k], b[k], path + "." + str(k), skip)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, path + "." + str(i), skip)
    else:
        assert a == b, (path, a, b)
args = sys.argv[1:]
for i in range(0, len(args), 3):
    same(torch.load(args[i]), torch.load(args[i + 1]), "", args[i + 2])
print("ok")
`

// A checkpoint showing one dict many times opens, quantizes and exports to
// pt with every value where it was (the dict written out at each place).
func TestSharedDictCheckpoint(t *testing.T) {
	dir := t.TempDir()
	pyref.RunWith(t, []string{"torch"}, sharedCheckpoints, dir)
	var args []string
	for _, c := range []struct{ file, table string }{{"shared.pt", "emb.weight"}, {"sharedopt.pt", "model.emb.weight"}} {
		src := filepath.Join(dir, c.file)
		code, out, errOut := shark(t, "inspect", src)
		if code != 0 || !strings.Contains(out, c.table) {
			t.Fatalf("inspect %s: %d %s", c.file, code, errOut)
		}
		sh, back := src+".shark", src+".back.pt"
		if code, out, errOut := shark(t, "quantize", src, "--budget", "30%", "-o", sh, "--json"); code != 0 || !strings.Contains(out, `"`+c.table+`"`) {
			t.Fatalf("quantize %s: %s %s", c.file, out, errOut)
		}
		if code, _, errOut := shark(t, "export", sh, "--to", "pt", "-o", back); code != 0 {
			t.Fatalf("export %s: %s", c.file, errOut)
		}
		args = append(args, src, back, "."+c.table)
	}
	if got := pyref.RunWith(t, []string{"torch"}, sharedBack, args...); strings.TrimSpace(got) != "ok" {
		t.Fatalf("python: %s", got)
	}
}
