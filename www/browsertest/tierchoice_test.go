package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// cliBinary builds the CLI (cmd/shark) the page's bytes are compared with.
func cliBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shark")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/shark")
	cmd.Dir = filepath.Join("..", "..") // the main module: this one lacks the CLI's requirements
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the CLI: %v\n%s", err, out)
	}
	return bin
}

// cliQuantize is what `shark quantize` writes for data (a file called
// name) with args, at the tests' creation time.
func cliQuantize(t *testing.T, bin, name string, data []byte, args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, name), filepath.Join(dir, "out.shark")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"quantize", in, "-o", out}, args...)...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", created))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shark quantize %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// planned waits until the plan of the settings on screen is shown.
func planned(t *testing.T, ctx context.Context) {
	t.Helper()
	waitJS(t, ctx, `document.getElementById('plan-busy').hidden && !document.getElementById('go').disabled && !document.getElementById('plan-table').classList.contains('stale')`, 2*time.Minute)
}

// tierState is the tier control as shown: the preset, the boxes ticked,
// the no-int4 box and whether the block size shows.
func tierState(t *testing.T, ctx context.Context) string {
	return eval[string](t, ctx, `[document.getElementById('tiers').value,
		[...document.querySelectorAll('#tier-boxes input:checked')].map((b) => b.value).join(','),
		document.getElementById('no-int4').checked, !document.getElementById('block-label').hidden].join(' ')`)
}

// The page lets a user choose the tiers, below int4 too: the smallest
// budget on the slider and the plan follow them, the no-int4 box agrees
// with the choice, a change of tiers during a compression delivers no
// result of the tiers before, and the page writes the CLI's bytes for the
// same --tiers and --block.
func TestBrowserTierChoice(t *testing.T) {
	ctx, dir := page(t)
	bin := cliBinary(t)
	eval[bool](t, ctx, fmt.Sprintf(`(shark.created = %d, true)`, created))
	data := tableNPZ(t, 20_000, 8, "gmf_user", "gmf_item")
	dropMeasured(t, ctx, "tiers.npz", data)
	if s := tierState(t, ctx); s != "default fp32,fp16,int8,int4 false false" {
		t.Fatalf("the tiers at first: %s", s)
	}
	minDefault := eval[float64](t, ctx, `Number(document.getElementById('budget').min)`)

	// The no-int4 box is the paper's preset, both ways.
	click(t, ctx, "#no-int4")
	if s := tierState(t, ctx); s != "paper fp32,fp16,int8 true false" {
		t.Fatalf("no-int4 ticked: %s", s)
	}
	planned(t, ctx)
	click(t, ctx, "#no-int4")
	if s := tierState(t, ctx); s != "default fp32,fp16,int8,int4 false false" {
		t.Fatalf("no-int4 unticked: %s", s)
	}
	planned(t, ctx)

	// Every tier: the smallest budget falls far below int4's, and a budget
	// under int4's smallest is met with the tiers below it.
	eval[bool](t, ctx, `(() => { const s = document.getElementById('tiers'); s.value = 'all'; s.dispatchEvent(new Event('change')); return true; })()`)
	if s := tierState(t, ctx); s != "all fp32,fp16,int8,int4,int2,int8-block,int4-block,int2-block false true" {
		t.Fatalf("all chosen: %s", s)
	}
	planned(t, ctx)
	minAll := eval[float64](t, ctx, `Number(document.getElementById('budget').min)`)
	mark := eval[string](t, ctx, `document.getElementById('budget-min').textContent`)
	if !(minAll*2 < minDefault) || !strings.Contains(mark, "smallest possible") {
		t.Fatalf("the smallest budget with every tier %v%% (%q), with the default tiers %v%%", minAll, mark, minDefault)
	}
	budget := int(minDefault) - 8
	eval[bool](t, ctx, fmt.Sprintf(`(() => { const b = document.getElementById('budget'); b.value = %d;
		b.dispatchEvent(new Event('input')); b.dispatchEvent(new Event('change')); return true; })()`, budget))
	eval[bool](t, ctx, `(() => { const b = document.getElementById('block'); b.value = 32;
		b.dispatchEvent(new Event('input')); b.dispatchEvent(new Event('change')); return true; })()`)
	planned(t, ctx)
	if got := eval[string](t, ctx, `document.getElementById('budget-out').value`); got != fmt.Sprintf("%d%%", budget) {
		t.Fatalf("the budget shows %s, asked %d%%", got, budget)
	}
	if plan := eval[string](t, ctx, `document.getElementById('plan-rows').textContent`); !strings.Contains(plan, "-block") && !strings.Contains(plan, "int2") {
		t.Fatalf("at %d%% the plan takes no tier below int4: %s", budget, plan)
	}
	if hint := eval[string](t, ctx, `document.getElementById('compress-hint').textContent`); !strings.Contains(hint, "int4-block or int2-block") {
		t.Fatalf("the hint names other tiers: %s", hint)
	}
	shot(t, ctx, "tiers-1280")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	shot(t, ctx, "tiers-390")
	if w := eval[float64](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
		t.Fatalf("at 390 px the page is %v px wide", w)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateReset()); err != nil {
		t.Fatal(err)
	}

	click(t, ctx, "#go")
	got := download(t, filepath.Join(dir, "tiers.shark"))
	flags := []string{"--budget", fmt.Sprintf("%d%%", budget), "--tiers", "all", "--block", "32"}
	if want := cliQuantize(t, bin, "tiers.npz", data, flags...); !bytes.Equal(got, want) {
		t.Fatalf("the page wrote %d bytes, shark quantize %s %d", len(got), strings.Join(flags, " "), len(want))
	}

	// A change of tiers while writing cancels it: no result of every tier
	// is delivered, and Compress then writes the new tiers' bytes.
	dir = downloadsTo(t, ctx)
	pace(t, ctx, 150)
	defer pace(t, ctx, 0)
	click(t, ctx, "#go")
	waitJS(t, ctx, `!document.getElementById('go-busy').hidden && document.getElementById('go-label').textContent.startsWith('write')`, time.Minute)
	click(t, ctx, `#tier-boxes input[value="int2-block"]`)
	if s := tierState(t, ctx); s != "custom fp32,fp16,int8,int4,int2,int8-block,int4-block false true" {
		t.Fatalf("int2-block unticked: %s", s)
	}
	waitJS(t, ctx, `document.getElementById('go-busy').hidden`, time.Minute)
	pace(t, ctx, 0)
	planned(t, ctx)
	time.Sleep(500 * time.Millisecond) // a download, if one was started, lands
	if ents, _ := os.ReadDir(dir); len(ents) != 0 || !eval[bool](t, ctx, `document.getElementById('result').hidden`) {
		t.Fatalf("a result of every tier was delivered after int2-block was unticked: downloads %v", ents)
	}
	click(t, ctx, "#go")
	got = download(t, filepath.Join(dir, "tiers.shark"))
	flags = []string{"--budget", fmt.Sprintf("%d%%", budget), "--tiers", "fp32,fp16,int8,int4,int2,int8-block,int4-block", "--block", "32"}
	if want := cliQuantize(t, bin, "tiers.npz", data, flags...); !bytes.Equal(got, want) {
		t.Fatalf("the page wrote %d bytes, shark quantize %s %d", len(got), strings.Join(flags, " "), len(want))
	}

	// No tier, or a block size no plan takes, is said under the slider.
	eval[bool](t, ctx, `(() => { for (const b of document.querySelectorAll('#tier-boxes input:checked')) b.click(); return true; })()`)
	waitJS(t, ctx, `!document.getElementById('budget-note').hidden && document.getElementById('budget-note').textContent.includes('at least one tier') && document.getElementById('go').disabled`, time.Minute)
	eval[bool](t, ctx, `(() => { const s = document.getElementById('tiers'); s.value = 'all'; s.dispatchEvent(new Event('change')); return true; })()`)
	eval[bool](t, ctx, `(() => { const b = document.getElementById('block'); b.value = -1;
		b.dispatchEvent(new Event('input')); b.dispatchEvent(new Event('change')); return true; })()`)
	waitJS(t, ctx, `document.getElementById('budget-note').textContent.includes('Rows per block: a whole number from 1 to 65,536, or 0 for 64.') && document.getElementById('go').disabled`, time.Minute)

	// A table large enough to be measured and written on every core's
	// Worker, in blocks of 48 rows (the ranges start at a block's first
	// row), writes the CLI's bytes too.
	// Typed, without leaving the box: the plan follows once the typing pauses.
	eval[bool](t, ctx, `(() => { const b = document.getElementById('block'); b.value = 48;
		b.dispatchEvent(new Event('input')); return true; })()`)
	planned(t, ctx)
	big := tableNPZ(t, 70_000, 8, "big_emb")
	dir = downloadsTo(t, ctx)
	dropMeasured(t, ctx, "bigtiers.npz", big)
	planned(t, ctx)
	t.Logf("measured on %s Web Workers", eval[string](t, ctx, `document.getElementById('plan-rows').dataset.workers`))
	click(t, ctx, "#go")
	got = download(t, filepath.Join(dir, "bigtiers.shark"))
	flags = []string{"--budget", fmt.Sprintf("%d%%", budget), "--tiers", "all", "--block", "48"}
	if want := cliQuantize(t, bin, "bigtiers.npz", big, flags...); !bytes.Equal(got, want) {
		t.Fatalf("the page wrote %d bytes, shark quantize %s %d", len(got), strings.Join(flags, " "), len(want))
	}
}
