package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/internal/pyref"
)

// halfModel saves a small model's state dict in float16 and in bfloat16,
// as <dir>/float16.pt and <dir>/bfloat16.pt.
const halfModel = `
import sys, torch
torch.manual_seed(0)
m = torch.nn.Sequential(torch.nn.Embedding(1000, 16), torch.nn.Linear(16, 4))
for dt in ("float16", "bfloat16"):
    torch.save(m.to(getattr(torch, dt)).state_dict(), sys.argv[1] + "/" + dt + ".pt")
`

// compareHalf prints, for each pair of files (source, exported), each
// tensor's dtype back and its largest difference.
const compareHalf = `
import sys, torch
for src, back in zip(sys.argv[1::2], sys.argv[2::2]):
    a, b = torch.load(src), torch.load(back)
    for k in sorted(a):
        print(back, k, str(b[k].dtype), (a[k].double() - b[k].double()).abs().max().item())
`

// TestExportHalfKeepsDType: a float16 or bfloat16 model compressed and
// exported dequantized comes back in its dtype, exactly when its rows were
// kept at fp16, and no larger than it was. Before, its tables came back
// float32, the checkpoint twice its size.
func TestExportHalfKeepsDType(t *testing.T) {
	dir := t.TempDir()
	pyref.RunWith(t, []string{"torch"}, halfModel, dir)
	var pairs []string
	for _, dt := range []string{"float16", "bfloat16"} {
		src := filepath.Join(dir, dt+".pt")
		for i, tiers := range [][]string{{"0", "1", "0", "0"}, {"0", "0", "1", "0"}} {
			out, back := filepath.Join(dir, "m.shark"), filepath.Join(dir, fmt.Sprintf("%s.%d.pt", dt, i))
			args := []string{"quantize", src, "-o", out, "--fp32", tiers[0], "--fp16", tiers[1], "--int8", tiers[2], "--int4", tiers[3]}
			if code, _, stderr := shark(t, args...); code != 0 {
				t.Fatalf("%s %v: %s", dt, tiers, stderr)
			}
			if code, _, stderr := shark(t, "export", out, "--to", "pt", "-o", back); code != 0 {
				t.Fatalf("%s %v: export: %s", dt, tiers, stderr)
			}
			checkSize(t, src, back)
			pairs = append(pairs, src, back)
		}
	}
	got := pyref.RunWith(t, []string{"torch"}, compareHalf, pairs...)
	for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			t.Fatalf("python: %q", line)
		}
		dt := strings.TrimSuffix(filepath.Base(f[0]), filepath.Ext(filepath.Base(f[0])))
		dt, kept, _ := strings.Cut(dt, ".") // the dtype, and which run
		if f[2] != "torch."+dt {
			t.Errorf("%s: %s is %s, want torch.%s", f[0], f[1], f[2], dt)
		}
		if f[1] == "0.weight" && kept == "0" && f[3] != "0.0" {
			t.Errorf("%s: table kept at fp16 differs by %s", f[0], f[3])
		}
	}
}

// checkSize checks that back is no larger than src but for the
// checkpoint's own bookkeeping.
func checkSize(t *testing.T, src, back string) {
	t.Helper()
	a, err1 := os.Stat(src)
	b, err2 := os.Stat(back)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if b.Size() > a.Size()+a.Size()/20 {
		t.Errorf("%s: %d bytes from a %d-byte model", back, b.Size(), a.Size())
	}
}

// TestQuantizeHalfBudgetShare: a budget share is of fp32 bytes, and for a
// float16 model the summary says what it is of the model's own bytes, and
// warns of a budget that cannot shrink them. Before, nothing said so.
func TestQuantizeHalfBudgetShare(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "h.npz")
	pyref.Run(t, `
import sys, numpy as np
np.savez(sys.argv[1], t=np.random.default_rng(3).standard_normal((2000, 16)).astype(np.float16))
`, src)
	out := filepath.Join(dir, "h.shark")
	code, stdout, stderr := shark(t, "quantize", src, "-o", out, "--min-rows", "10", "--budget", "30%")
	if code != 0 || !strings.Contains(stdout, "30.0% of fp32 = 60.0% of their 62.5 KiB in the source's dtype") {
		t.Errorf("--budget 30%%: %d %s %s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "does not make them smaller") {
		t.Errorf("--budget 30%% warned: %s", stderr)
	}
	code, _, stderr = shark(t, "quantize", src, "-o", out, "--min-rows", "10", "--budget", "60%")
	if code != 0 || !strings.Contains(stderr, "is 120.0% of their 62.5 KiB in the source's 16-bit dtype: it does not make them smaller") {
		t.Errorf("--budget 60%%: %d %s", code, stderr)
	}
}
