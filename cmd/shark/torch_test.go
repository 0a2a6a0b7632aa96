package main

import (
	"path/filepath"
	"strings"
	"testing"

	"shark/facetest"
	"shark/internal/pyref"
)

// A PyTorch checkpoint goes through the CLI and comes back as one PyTorch
// opens with weights_only=True, in its own structure: quantize, then export
// in both layouts.
func TestPyTorchThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	pt := facetest.Torch(t, dir)
	code, out, errOut := shark(t, "inspect", pt)
	if code != 0 || !strings.Contains(out, "pytorch.wrapper: state_dict") || !strings.Contains(out, "user_emb.weight") {
		t.Fatalf("inspect: %d %s %s", code, out, errOut)
	}
	m := filepath.Join(dir, "m.shark")
	if code, _, errOut := shark(t, "quantize", pt, "-o", m); code != 0 {
		t.Fatalf("quantize: %s", errOut)
	}
	deq, tiers := filepath.Join(dir, "deq.pt"), filepath.Join(dir, "tiers.pt")
	for _, c := range [][2]string{{"dequantized", deq}, {"tiers", tiers}} {
		if code, _, errOut := shark(t, "export", m, "--to", "pt", "--layout", c[0], "-o", c[1]); code != 0 {
			t.Fatalf("export %s: %s", c[0], errOut)
		}
	}
	got := pyref.RunWith(t, []string{"torch"}, `
import sys, warnings, torch
warnings.simplefilter("error")
src = torch.load(sys.argv[1], weights_only=True)["state_dict"]
# The exports keep the checkpoint's own structure: {"state_dict": ..., "epoch": 3}.
deq = torch.load(sys.argv[2], weights_only=True)
tiers = torch.load(sys.argv[3], weights_only=True)
assert deq["epoch"] == 3 and tiers["epoch"] == 3 and len(deq) == 2 and len(tiers) == 2
deq, tiers = deq["state_dict"], tiers["state_dict"]
for k, v in src.items():
    assert deq[k].shape == v.shape and deq[k].dtype == torch.float32, k
    assert (deq[k] - v).abs().max() < 0.05 * v.abs().max(), k
    if v.shape[0] >= 1000:
        n = sum(tiers[k + "." + t + ".ids"].numel() for t in ("fp32", "fp16", "int8", "int4"))
        assert n == v.shape[0], k
        assert tiers[k + ".int8.rows"].shape[1] == v.shape[1] + 8, k
print(len(deq), len(tiers))
`, pt, deq, tiers)
	if strings.TrimSpace(got) != "3 17" {
		t.Fatalf("torch sees %s tensors", got)
	}
}
