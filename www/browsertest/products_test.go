package browsertest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"shark/compress"
	"shark/formats"
	"shark/formats/npy"
	"shark/formats/npz"
)

// tableNPZ writes an .npz of the named tables, rows x dim each, of
// Gaussian rows of varied scale.
func tableNPZ(t *testing.T, rows, dim int, names ...string) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(rows), uint64(dim)))
	var buf bytes.Buffer
	w := npz.NewWriter(&buf, false)
	for _, n := range names {
		vals := make([]float32, rows*dim)
		for i := range rows {
			s := 0.05 * (1 + float64(i%97))
			for j := range dim {
				vals[i*dim+j] = float32(r.NormFloat64() * s)
			}
		}
		if err := w.Write(n, formats.F32, []int64{int64(rows), int64(dim)}, bytes.NewReader(formats.EncodeFloat32(nil, vals))); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	return buf.Bytes()
}

// downloadsTo sends the browser's downloads to a new folder.
func downloadsTo(t *testing.T, ctx context.Context) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// products runs the checks of the page as a product: a result bound to
// its file, progress beside its button, the smallest budget on the slider,
// and a model of many tables.
func products(t *testing.T, ctx context.Context) {
	big := tableNPZ(t, 400_000, 32, "big_emb") // about 50 MiB: seconds of work in the tab
	t.Run("progress and cancel sit by the button, and cancelling keeps the measurement", func(t *testing.T) {
		drop(t, ctx, "big.npz", big)
		waitJS(t, ctx, `document.getElementById('file-title').textContent === 'big.npz' && document.getElementById('plan-rows').dataset.measured === '1' && !document.getElementById('go').disabled`, 3*time.Minute)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("go"))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `!document.getElementById('go-busy').hidden`, time.Minute)
		gap := eval[float64](t, ctx, `document.getElementById('go-busy').getBoundingClientRect().top - document.getElementById('go').getBoundingClientRect().bottom`)
		if gap < 0 || gap > 60 {
			t.Fatalf("the progress is %v px from the Compress button", gap)
		}
		if !eval[bool](t, ctx, `document.getElementById('busy').hidden`) {
			t.Fatal("progress at the top of the page too")
		}
		shot(t, ctx, "8-progress-by-the-button")
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("go-cancel"))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `document.getElementById('go-busy').hidden && document.getElementById('budget-note').textContent.includes('cancelled')`, time.Minute)
		// A new budget assigns again from what was measured: no measuring.
		stages := eval[[]string](t, ctx, `(() => { const s = []; return shark.plan({budget: 0.4}, (p) => s.push(p.stage)).then(() => s); })()`)
		for _, st := range stages {
			if st == "measure" {
				t.Fatalf("after a cancel the plan measured again: %v", stages)
			}
		}
	})

	t.Run("a drop mid-compression binds the result to its own file", func(t *testing.T) {
		dir := downloadsTo(t, ctx)
		drop(t, ctx, "big.npz", big)
		waitJS(t, ctx, `document.getElementById('file-title').textContent === 'big.npz' && document.getElementById('plan-rows').dataset.measured === '1' && !document.getElementById('go').disabled`, 3*time.Minute)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("go"))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `!document.getElementById('go-busy').hidden`, time.Minute)
		small := tableNPZ(t, 3000, 16, "small_emb")
		drop(t, ctx, "small.npz", small)
		waitJS(t, ctx, `document.getElementById('file-title').textContent === 'small.npz' && document.getElementById('plan-rows').dataset.measured === '1' && !document.getElementById('go').disabled`, 3*time.Minute)
		if !eval[bool](t, ctx, `document.getElementById('result').hidden && document.getElementById('go-busy').hidden`) {
			t.Fatal("the big file's job or result shows beside the small file")
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("go"))); err != nil {
			t.Fatal(err)
		}
		got := download(t, filepath.Join(dir, "small.shark"))
		f, err := formats.OpenReaderAt(bytes.NewReader(got), int64(len(got)))
		if err != nil || len(f.Tensors) != 1 || f.Tensors[0].Name != "small_emb" {
			t.Fatalf("small.shark holds %v (%v)", f, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("downloads: %v", ents)
		}
	})

	t.Run("a file that goes away while it is measured says why, and every worker works on", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "gone.npy")
		const rows, dim = 1 << 22, 64 // 1 GiB, sparse on disk
		hdr, _ := npy.HeaderBytes(formats.F32, []int64{rows, dim})
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(hdr)
		f.Truncate(int64(len(hdr)) + rows*dim*4)
		f.Close()
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{path})); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `document.getElementById('file-title').textContent === 'gone.npy' && document.querySelector('#plan-rows button') !== null`, 2*time.Minute)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#plan-rows button"))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `!document.getElementById('plan-busy').hidden`, time.Minute)
		time.Sleep(300 * time.Millisecond)
		os.Remove(path)
		waitJS(t, ctx, `document.getElementById('plan-busy').hidden && document.getElementById('budget-note').textContent.includes('reading gone.npy')`, time.Minute)
		t.Logf("the page says: %s", eval[string](t, ctx, `document.getElementById('budget-note').textContent`))
		drop(t, ctx, "big.npz", big)
		waitJS(t, ctx, `document.getElementById('file-title').textContent === 'big.npz' && document.getElementById('plan-rows').dataset.measured === '1' && !document.getElementById('go').disabled`, 3*time.Minute)
		cores := eval[int](t, ctx, `Math.min(8, navigator.hardwareConcurrency || 1)`)
		if w := eval[string](t, ctx, `document.getElementById('plan-rows').dataset.workers`); w != fmt.Sprint(cores) {
			t.Fatalf("after the file went away, measured on %s Web Workers of %d", w, cores)
		}
		if warn := eval[string](t, ctx, `document.getElementById('plan-warn').hidden ? '' : document.getElementById('plan-warn').textContent`); strings.Contains(warn, "measured here") {
			t.Fatalf("a helper failed: %s", warn)
		}
	})

	t.Run("the smallest budget is on the slider, and a budget change leaves no stale result", func(t *testing.T) {
		drop(t, ctx, "narrow.npz", tableNPZ(t, 20_000, 8, "gmf_user", "gmf_item"))
		waitJS(t, ctx, `document.getElementById('file-title').textContent === 'narrow.npz' && document.getElementById('plan-rows').dataset.measured === '1' && !document.getElementById('go').disabled`, 3*time.Minute)
		min := eval[float64](t, ctx, `Number(document.getElementById('budget').min)`)
		mark := eval[string](t, ctx, `document.getElementById('budget-min').hidden ? '' : document.getElementById('budget-min').textContent`)
		if min < 20 || !strings.Contains(mark, "smallest possible") {
			t.Fatalf("slider min %v, mark %q", min, mark)
		}
		if v := eval[float64](t, ctx, `(document.getElementById('budget').value = 5, Number(document.getElementById('budget').value))`); v != min {
			t.Fatalf("the slider took %v below its smallest %v", v, min)
		}
		// Compress, then change the budget: the result goes at once.
		eval[bool](t, ctx, `(document.getElementById('budget').value = 40, document.getElementById('budget').dispatchEvent(new Event('change')), true)`)
		waitJS(t, ctx, `!document.getElementById('go').disabled && !document.getElementById('plan-table').classList.contains('stale')`, time.Minute)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("go"))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `!document.getElementById('result').hidden`, time.Minute)
		eval[bool](t, ctx, `(document.getElementById('budget').value = 41, document.getElementById('budget').dispatchEvent(new Event('input')), true)`)
		if !eval[bool](t, ctx, `document.getElementById('result').hidden && document.getElementById('go').disabled && document.getElementById('plan-table').classList.contains('stale')`) {
			t.Fatal("a result of 40% stays beside 41%")
		}
		eval[bool](t, ctx, `(document.getElementById('budget').value = 30, document.getElementById('budget').dispatchEvent(new Event('change')), true)`)
		waitJS(t, ctx, `!document.getElementById('go').disabled`, time.Minute)
		// Without int4 the smallest budget rises above 30%: said in place,
		// and the slider moves up to it (see moments' slider test).
		eval[bool](t, ctx, `(document.getElementById('no-int4').click(), true)`)
		waitJS(t, ctx, `!document.getElementById('budget-note').hidden && document.getElementById('budget-note').textContent.includes('smallest')`, time.Minute)
		gap := eval[float64](t, ctx, `document.getElementById('budget-note').getBoundingClientRect().top - document.getElementById('budget').getBoundingClientRect().bottom`)
		if gap < 0 || gap > 80 || !eval[bool](t, ctx, `document.getElementById('error').hidden`) {
			t.Fatalf("the message is %v px below the slider, or an error shows", gap)
		}
		if min2 := eval[float64](t, ctx, `Number(document.getElementById('budget').min)`); min2 <= min {
			t.Fatalf("without int4 the smallest budget is %v, with it %v", min2, min)
		}
		shot(t, ctx, "9-smallest-budget")
		eval[bool](t, ctx, `(document.getElementById('no-int4').click(), true)`)
	})

	t.Run("a model of 39 tables can be searched", func(t *testing.T) {
		var names []string
		for i := range 39 {
			names = append(names, fmt.Sprintf("field_%02d_emb", i))
		}
		drop(t, ctx, "ctr39.npz", tableNPZ(t, 1000, 8, names...))
		waitJS(t, ctx, `document.getElementById('file-title').textContent === 'ctr39.npz' && document.querySelectorAll('#table-cards .card').length === 39`, 3*time.Minute)
		eval[bool](t, ctx, `(document.getElementById('filter').value = 'field_17', document.getElementById('filter').dispatchEvent(new Event('input')), true)`)
		rows := eval[float64](t, ctx, `[...document.querySelectorAll('#tensor-rows tr')].filter(r => !r.hidden).length`)
		cards := eval[float64](t, ctx, `[...document.querySelectorAll('#table-cards .card')].filter(c => !c.hidden).length`)
		if rows != 1 || cards != 1 || !strings.Contains(eval[string](t, ctx, `document.getElementById('filter-count').textContent`), "1 of 39") {
			t.Fatalf("the filter shows %v rows and %v cards", rows, cards)
		}
		shot(t, ctx, "10-search")
		eval[bool](t, ctx, `(document.getElementById('filter').value = '', document.getElementById('filter').dispatchEvent(new Event('input')), true)`)
	})

	t.Run("the tab's time on a 1 GiB table against native", func(t *testing.T) {
		if testing.Short() {
			t.Skip("writes and compresses a 1 GiB table")
		}
		pageAgainstNative(t, ctx)
	})
}

// pageAgainstNative compresses a 1 GiB table of Gaussian rows in the tab
// and in this process (the portable build), and reports both.
func pageAgainstNative(t *testing.T, ctx context.Context) {
	path := filepath.Join(t.TempDir(), "gib.npy")
	const rows, dim = 1 << 22, 64
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := npy.Write(f, formats.F32, []int64{rows, dim}, &gaussian{r: rand.New(rand.NewPCG(1, 1)), left: rows * dim}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{path})); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.getElementById('file-title').textContent === 'gib.npy'`, time.Minute)
	page := eval[float64](t, ctx, `(() => { const t0 = performance.now(); return shark.compress({budget: 0.3}).then(() => (performance.now() - t0) / 1000); })()`)
	t0 := time.Now()
	in, err := compress.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	plan, err := compress.NewPlan(in, compress.DefaultSettings(), compress.Env{SpillRows: compress.DefaultSpillRows})
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	if err := plan.WriteFile(filepath.Join(t.TempDir(), "gib.shark")); err != nil {
		t.Fatal(err)
	}
	native := time.Since(t0).Seconds()
	t.Logf("1 GiB table (4,194,304 x 64) at 30%%: the tab %.1f s, native (this test's portable build, %d cores) %.1f s: the tab takes %.1fx",
		page, runtime.NumCPU(), native, page/native)
}

type gaussian struct {
	r    *rand.Rand
	left int
}

func (g *gaussian) Read(p []byte) (int, error) {
	n := 0
	for ; n+4 <= len(p) && g.left > 0; n += 4 {
		binary.LittleEndian.PutUint32(p[n:], math.Float32bits(float32(g.r.NormFloat64()*0.05)))
		g.left--
	}
	if n == 0 && g.left == 0 {
		return 0, io.EOF
	}
	return n, nil
}
