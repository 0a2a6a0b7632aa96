package browsertest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// What a user's trial of the tiers below int4 found on the page: the
// slider reaches the smallest budget (in steps of 0.1%, its bytes the
// CLI's --budget of that share, and 0.1% less refused by the CLI); rows
// per block 0 means 64, as the CLI's --block 0; the view of a .shark gives
// its container version and block size; an .onnx export's name carries
// no layout, and the page says that it holds the lookups alone.
func TestBrowserTrialFixes(t *testing.T) {
	ctx, dir := page(t)
	bin := cliBinary(t)
	eval[bool](t, ctx, fmt.Sprintf(`(shark.created = %d, true)`, created))
	data := tableNPZ(t, 20_000, 8, "gmf_user", "gmf_item")
	dropMeasured(t, ctx, "trial.npz", data)
	eval[bool](t, ctx, `(() => { const s = document.getElementById('tiers'); s.value = 'all'; s.dispatchEvent(new Event('change')); return true; })()`)
	planned(t, ctx)
	eval[bool](t, ctx, `(() => { const b = document.getElementById('block'); b.value = 0;
		b.dispatchEvent(new Event('input')); b.dispatchEvent(new Event('change')); return true; })()`)
	planned(t, ctx)
	min := eval[string](t, ctx, `document.getElementById('budget').min`)
	if mark := eval[string](t, ctx, `document.getElementById('budget-min').textContent`); !strings.HasSuffix(mark, "smallest possible: "+min+"%") {
		t.Fatalf("the slider's lower end %s%%, its mark %q", min, mark)
	}
	eval[bool](t, ctx, `(() => { const b = document.getElementById('budget'); b.value = b.min;
		b.dispatchEvent(new Event('input')); b.dispatchEvent(new Event('change')); return true; })()`)
	planned(t, ctx)
	if got := eval[string](t, ctx, `document.getElementById('budget-out').value`); got != min+"%" {
		t.Fatalf("the budget shows %s at the slider's lower end %s%%", got, min)
	}
	click(t, ctx, "#go")
	got := download(t, filepath.Join(dir, "trial.shark"))
	flags := []string{"--budget", min + "%", "--tiers", "all", "--block", "0"}
	if want := cliQuantize(t, bin, "trial.npz", data, flags...); !bytes.Equal(got, want) {
		t.Fatalf("the page wrote %d bytes at its smallest budget, shark quantize %s %d", len(got), strings.Join(flags, " "), len(want))
	}
	checkBelowRefused(t, bin, data, min)

	click(t, ctx, "#open-result")
	waitJS(t, ctx, `document.getElementById('file-title').textContent === 'trial.shark' && !document.getElementById('export').hidden`, time.Minute)
	if facts := eval[string](t, ctx, `document.getElementById('file-facts').textContent`); !strings.HasSuffix(facts, "container version 2.0") {
		t.Errorf("the facts of the .shark: %q", facts)
	}
	if why := eval[string](t, ctx, `document.getElementById('summary').textContent`); !strings.Contains(why, "in blocks of 64 rows") {
		t.Errorf("the .shark's view names no block size: %q", why)
	}
	click(t, ctx, `.export[data-to="onnx"]`)
	waitJS(t, ctx, `!document.getElementById('export-link').hidden`, time.Minute)
	if name := eval[string](t, ctx, `document.getElementById('export-link').download`); name != "trial.onnx" {
		t.Errorf("the .onnx export is named %q", name)
	}
	if n := eval[string](t, ctx, `document.getElementById('export-note').hidden ? '' : document.getElementById('export-note').textContent`); !strings.Contains(n, `the quantized lookups alone (an input "<table>.ids" and an output "<table>.rows" a table)`) {
		t.Errorf("the .onnx export's note: %q", n)
	}
}

// checkBelowRefused runs the CLI a step of the slider below its lower end,
// which must be refused: the slider's lower end is the smallest step.
func checkBelowRefused(t *testing.T, bin string, data []byte, min string) {
	t.Helper()
	var m float64
	fmt.Sscan(min, &m)
	in := filepath.Join(t.TempDir(), "trial.npz")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	below := fmt.Sprintf("%.1f%%", m-0.1)
	out, err := exec.Command(bin, "quantize", in, "-o", in+".shark", "--budget", below, "--tiers", "all").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "smallest") {
		t.Fatalf("shark quantize --budget %s (a step below the slider's lower end %s%%): %v\n%s", below, min, err, out)
	}
}
