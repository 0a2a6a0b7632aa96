package pytorch

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"shark/internal/pyref"
)

// unusualOptimizerFixtures saves optimizers' state under keys naming no
// optimizer, without Optimizer.state_dict()'s {state, param_groups} shape:
// only the per-parameter state's own names say what it is.
const unusualOptimizerFixtures = `
import sys, os, torch
torch.manual_seed(6)
out = sys.argv[1]
for name, make in [("adam", lambda p: torch.optim.Adam(p, lr=1e-3)),
                   ("sgd", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
                   ("adagrad", lambda p: torch.optim.Adagrad(p, lr=0.1))]:
    emb, lin = torch.nn.Embedding(2000, 16), torch.nn.Linear(16, 1)
    gate = torch.nn.Linear(1, 1)
    opt = make(list(emb.parameters()) + list(lin.parameters()))
    lin(emb(torch.randint(0, 2000, (64,)))).pow(2).mean().backward()
    opt.step()
    sd = {"emb.weight": emb.weight.detach(), "lin.weight": lin.weight.detach(), "lin.bias": lin.bias.detach(),
          "optim_gate.weight": gate.weight.detach()}
    osd = opt.state_dict()
    torch.save({"model": sd, "trainer": {"opt_states": [osd["state"]], "groups": osd["param_groups"]}},
               os.path.join(out, name + ".pt"))
`

// An optimizer's state saved under unusual keys is still no table: its
// dicts' keys are the optimizer's state names (exp_avg_sq, momentum_buffer,
// sum); a parameter named optim_gate.weight stays a parameter.
func TestOptimizerStateByItsNames(t *testing.T) {
	dir := t.TempDir()
	pyref.RunWith(t, []string{"torch"}, unusualOptimizerFixtures, dir)
	cases := []struct {
		file   string
		states []string
	}{
		{"adam.pt", []string{"step", "exp_avg", "exp_avg_sq"}},
		{"sgd.pt", []string{"momentum_buffer"}},
		{"adagrad.pt", []string{"step", "sum"}},
	}
	for _, c := range cases {
		f := openPT(t, filepath.Join(dir, c.file))
		tables, opt, other := roles(f)
		if !slices.Equal(tables, []string{"model.emb.weight"}) {
			t.Errorf("%s: tables %v", c.file, tables)
		}
		if !slices.Equal(other, []string{"model.lin.weight", "model.lin.bias", "model.optim_gate.weight"}) {
			t.Errorf("%s: other tensors %v", c.file, other)
		}
		var want []string
		for p := range 3 {
			for _, s := range c.states {
				want = append(want, fmt.Sprintf("trainer.opt_states.0.%d.%s", p, s))
			}
		}
		if !slices.Equal(opt, want) {
			t.Errorf("%s: optimizer state %v, want %v", c.file, opt, want)
		}
	}
}
