package browsertest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shark/compress"
	"shark/formats"
	"shark/formats/npz"
)

// created is the creation time the page and the references record.
const created = 1700000000

// reference is what the CLI writes for data (a file called name) at budget.
func reference(t *testing.T, name string, data []byte, budget float64) []byte {
	t.Helper()
	in, err := compress.OpenReaderAt(bytes.NewReader(data), int64(len(data)), name)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	s := compress.DefaultSettings()
	s.Created, s.Budget = created, budget
	plan, err := compress.NewPlan(in, s, compress.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	var buf bytes.Buffer
	if err := plan.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pace slows every progress report of the page's later jobs by ms (the
// page's test hook), so that a small table's job lasts seconds.
func pace(t *testing.T, ctx context.Context, ms int) {
	t.Helper()
	eval[bool](t, ctx, fmt.Sprintf(`shark.pace(%d).then(() => true)`, ms))
}

// dropMeasured drops data as name and waits for its plan.
func dropMeasured(t *testing.T, ctx context.Context, name string, data []byte) {
	t.Helper()
	drop(t, ctx, name, data)
	waitJS(t, ctx, fmt.Sprintf(`document.getElementById('file-title').textContent === %q && document.getElementById('plan-rows').dataset.measured === '1' && !document.getElementById('go').disabled`, name), 2*time.Minute)
}

// click clicks the element sel names, which must be enabled. It clicks
// through the DOM: a mouse click at the element's place can land on
// another when the page moves meanwhile (a chart arriving).
func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	waitJS(t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && !e.disabled; })()`, sel), 30*time.Second)
	eval[bool](t, ctx, fmt.Sprintf(`(document.querySelector(%q).click(), true)`, sel))
}

// moments checks that what the page shows and saves is right at every
// moment (issue 25): a result only under the settings it was made with, an
// export that stops at Cancel.
func moments(t *testing.T, ctx context.Context) {
	t.Run("a budget change during compression delivers no old result", func(t *testing.T) {
		dir := downloadsTo(t, ctx)
		data := tableNPZ(t, 20_000, 16, "paced_emb")
		eval[bool](t, ctx, fmt.Sprintf(`(shark.created = %d, true)`, created))
		dropMeasured(t, ctx, "paced.npz", data)
		pace(t, ctx, 150)
		defer pace(t, ctx, 0)
		click(t, ctx, "#go")
		waitJS(t, ctx, `!document.getElementById('go-busy').hidden && document.getElementById('go-label').textContent.startsWith('write')`, time.Minute)
		eval[bool](t, ctx, `(() => { const b = document.getElementById('budget'); b.value = 57;
			b.dispatchEvent(new Event('input')); b.dispatchEvent(new Event('change')); return true; })()`)
		waitJS(t, ctx, `document.getElementById('go-busy').hidden && !document.getElementById('plan-table').classList.contains('stale') && !document.getElementById('go').disabled`, time.Minute)
		time.Sleep(500 * time.Millisecond) // a download, if one was started, lands
		if ents, _ := os.ReadDir(dir); len(ents) != 0 || !eval[bool](t, ctx, `document.getElementById('result').hidden`) {
			t.Fatalf("the 30%% result was delivered under 57%%: downloads %v, result shown: %q", ents,
				eval[string](t, ctx, `document.getElementById('result').hidden ? '' : document.getElementById('result-text').textContent`))
		}
		// Compress now writes what the CLI writes at 57%.
		click(t, ctx, "#go")
		got := download(t, filepath.Join(dir, "paced.shark"))
		if want := reference(t, "paced.npz", data, 0.57); !bytes.Equal(got, want) {
			t.Fatalf("the page wrote %d bytes, the CLI at 57%% %d", len(got), len(want))
		}
	})

	t.Run("cancel stops an export, whose bar moves, and the export before is not offered meanwhile", func(t *testing.T) {
		data := tableNPZ(t, 20_000, 16, "exp_emb")
		drop(t, ctx, "exp.shark", reference(t, "exp.npz", data, 0.3))
		waitJS(t, ctx, `document.getElementById('file-title').textContent === 'exp.shark' && !document.getElementById('export').hidden`, time.Minute)
		click(t, ctx, `button[data-to="npz"]`)
		waitJS(t, ctx, `!document.getElementById('export-link').hidden`, time.Minute)
		pace(t, ctx, 100)
		defer pace(t, ctx, 0)
		click(t, ctx, `button[data-to="npz"]`)
		waitJS(t, ctx, `document.getElementById('export-progress').value > 0`, time.Minute)
		v := eval[float64](t, ctx, `document.getElementById('export-progress').value`)
		waitJS(t, ctx, fmt.Sprintf(`document.getElementById('export-progress').value > %v`, v), time.Minute)
		if !eval[bool](t, ctx, `document.getElementById('export-link').hidden && !document.getElementById('export-busy').hidden`) {
			t.Fatal("the export before stays offered while another runs")
		}
		shot(t, ctx, "11-export-progress")
		click(t, ctx, "#export-cancel")
		waitJS(t, ctx, `document.getElementById('export-busy').hidden`, 10*time.Second)
		if !eval[bool](t, ctx, `document.getElementById('export-link').hidden && document.getElementById('export-note').textContent.includes('cancelled')`) {
			t.Fatalf("after Cancel the page offers %q", eval[string](t, ctx, `document.getElementById('export-link').textContent`))
		}
		if msg := eval[string](t, ctx, `document.getElementById('error').hidden ? '' : document.getElementById('error').textContent`); msg != "" {
			t.Fatalf("error after Cancel: %s", msg)
		}
		// A .shark file's view (tier bars, the export row) fits a phone.
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
			t.Fatal(err)
		}
		defer chromedp.Do(ctx, chromedp.EmulateReset())
		time.Sleep(200 * time.Millisecond)
		shot(t, ctx, "11-shark-file-390")
		if w := eval[float64](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
			t.Fatalf("at 390 px the page is %v px wide", w)
		}
		// A short name starts where its cell's text does: no blank before it.
		if d := eval[float64](t, ctx, `(() => { const c = document.querySelector('#tensor-rows tr[data-name="exp_emb"] code');
			return c.querySelector('.ntail').getBoundingClientRect().left - c.getBoundingClientRect().left; })()`); d > 0.5 {
			t.Fatalf("exp_emb starts %.1f px into its name", d)
		}
	})

	fileBefore(t, ctx)
	slider(t, ctx)
	longNames(t, ctx)
	timesAndCharts(t, ctx)
}

// countsNPZ writes access counts for a table of rows rows: every row seen
// (row+1) times, clicked once.
func countsNPZ(t *testing.T, table string, rows int) string {
	t.Helper()
	var buf bytes.Buffer
	w := npz.NewWriter(&buf, false)
	for k, suffix := range []string{".pos", ".neg"} {
		b := make([]byte, 0, 8*rows)
		for r := range rows {
			b = binary.LittleEndian.AppendUint64(b, uint64(1+r*(1-k)))
		}
		if err := w.Write(table+suffix, formats.I64, []int64{int64(rows)}, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	path := filepath.Join(t.TempDir(), table+".counts.npz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fileBefore checks that nothing of the file before shows under the next:
// its plan rows, its access counts, its hints; and that after a cancelled
// measurement Compress can be pressed, as the page then says.
func fileBefore(t *testing.T, ctx context.Context) {
	t.Run("the file before leaves nothing under the next", func(t *testing.T) {
		dropMeasured(t, ctx, "alpha.npz", tableNPZ(t, 3000, 8, "alpha_emb"))
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("counts-file"), []string{countsNPZ(t, "alpha_emb", 3000)})); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `document.getElementById('compress-hint').textContent.includes('access counts') && !document.getElementById('go').disabled`, time.Minute)
		pace(t, ctx, 1000)
		defer pace(t, ctx, 0)
		drop(t, ctx, "beta.npz", tableNPZ(t, 20_000, 8, "beta_emb"))
		waitJS(t, ctx, `document.getElementById('file-title').textContent === 'beta.npz' && !document.getElementById('compress').hidden`, time.Minute)
		left := eval[[]string](t, ctx, `(() => { const l = [];
			if (document.querySelector('#plan-rows tr[data-name="alpha_emb"]')) l.push('alpha_emb plan row');
			if (document.getElementById('compress-hint').textContent.includes('access counts')) l.push('hint: ' + document.getElementById('compress-hint').textContent);
			if (!document.getElementById('counts-name').textContent.startsWith('none')) l.push('counts: ' + document.getElementById('counts-name').textContent);
			return l; })()`)
		if len(left) > 0 {
			t.Fatalf("alpha.npz's state shows under beta.npz: %q", left)
		}
		waitJS(t, ctx, `!document.getElementById('plan-busy').hidden`, time.Minute)
		click(t, ctx, "#plan-cancel")
		waitJS(t, ctx, `document.getElementById('plan-busy').hidden && document.getElementById('budget-note').textContent.includes('press Compress')`, 30*time.Second)
		if eval[bool](t, ctx, `document.getElementById('go').disabled`) {
			t.Fatal("the page says press Compress, and Compress is disabled")
		}
		pace(t, ctx, 0)
		click(t, ctx, "#go") // measures, with beta's own norms, and writes
		waitJS(t, ctx, `!document.getElementById('result').hidden && document.getElementById('download').download === 'beta.shark'`, time.Minute)
		if msg := eval[string](t, ctx, `document.getElementById('budget-note').className === 'note' && !document.getElementById('budget-note').hidden ? document.getElementById('budget-note').textContent : ''`); msg != "" {
			t.Fatalf("the page says: %s", msg)
		}
	})
}

// slider checks the budget slider at a budget that cannot be met: the
// thumb, its label and the plan agree, and the smallest-budget mark sits
// under the slider's lowest place, covering nothing, on a phone too.
func slider(t *testing.T, ctx context.Context) {
	t.Run("at an impossible budget the slider, its label and the plan agree", func(t *testing.T) {
		dropMeasured(t, ctx, "narrow2.npz", tableNPZ(t, 20_000, 8, "gmf_user", "gmf_item"))
		eval[bool](t, ctx, `(() => { const b = document.getElementById('budget'); b.value = 30; b.dispatchEvent(new Event('input')); b.dispatchEvent(new Event('change')); return true; })()`)
		waitJS(t, ctx, `!document.getElementById('go').disabled && document.getElementById('budget-out').value === '30%'`, time.Minute)
		eval[bool](t, ctx, `(document.getElementById('no-int4').click(), true)`)
		defer eval[bool](t, ctx, `(document.getElementById('no-int4').click(), true)`)
		waitJS(t, ctx, `!document.getElementById('plan-busy').hidden || !document.getElementById('budget-note').hidden`, time.Minute)
		waitJS(t, ctx, `document.getElementById('plan-busy').hidden && Number(document.getElementById('budget').min) > 30`, time.Minute)
		time.Sleep(300 * time.Millisecond) // any plan the slider's move starts
		waitJS(t, ctx, `document.getElementById('plan-busy').hidden`, time.Minute)
		state := eval[string](t, ctx, `(() => { const b = document.getElementById('budget');
			return [b.value, b.min, document.getElementById('budget-out').value, document.getElementById('go').disabled,
				document.getElementById('plan-table').classList.contains('stale'), document.getElementById('budget-note').textContent].join(' | '); })()`)
		if !eval[bool](t, ctx, `(() => { const b = document.getElementById('budget');
			return b.value === b.min && document.getElementById('budget-out').value === b.value + '%' && !document.getElementById('go').disabled &&
				!document.getElementById('plan-table').classList.contains('stale'); })()`) {
			t.Fatalf("value | min | label | Compress disabled | plan stale | note: %s", state)
		}
		t.Logf("value | min | label | Compress disabled | plan stale | note: %s", state)
		checkMark(t, ctx)
		shot(t, ctx, "12-impossible-budget-1280")
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
			t.Fatal(err)
		}
		defer chromedp.Do(ctx, chromedp.EmulateReset())
		checkMark(t, ctx)
		if !eval[bool](t, ctx, `(() => { const r = document.getElementById('budget-min').getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth; })()`) {
			t.Fatal("the smallest-budget mark is cut off at 390 px")
		}
		shot(t, ctx, "12-impossible-budget-390")
	})
}

// checkMark checks that the smallest-budget mark's triangle points at the
// thumb's centre at the slider's lowest value, and covers neither the note
// nor the int4 box.
func checkMark(t *testing.T, ctx context.Context) {
	t.Helper()
	off := eval[float64](t, ctx, `(() => { const b = document.getElementById('budget'), m = document.getElementById('budget-min');
		const r = b.getBoundingClientRect(), th = parseFloat(getComputedStyle(b).getPropertyValue('--thumb')) || 16;
		const tri = (m.querySelector('.tri') || m).getBoundingClientRect();
		return tri.left + tri.width / 2 - (r.left + th / 2); })()`)
	if off < -3 || off > 3 {
		t.Fatalf("the smallest-budget mark is %.1f px from the thumb at the slider's lowest value", off)
	}
	over := eval[[]string](t, ctx, `(() => { const m = document.getElementById('budget-min').getBoundingClientRect(), l = [];
		for (const e of [document.getElementById('no-int4').parentElement, document.getElementById('budget-note'), document.getElementById('budget')]) {
			const r = e.getBoundingClientRect();
			if (r.width && r.height && m.left < r.right && r.left < m.right && m.top < r.bottom && r.top < m.bottom) l.push(e.id || e.textContent);
		}
		return l; })()`)
	if len(over) > 0 {
		t.Fatalf("the smallest-budget mark covers %q", over)
	}
}

// longNames checks a model of TorchRec-named tables at 1280 and 390 px:
// every name's distinguishing part (t_cat_N.weight) shows whole inside its
// cell or card, the full name is its tooltip, and the page never scrolls
// sideways.
func longNames(t *testing.T, ctx context.Context) {
	t.Run("long names show their distinguishing part, and the page fits a phone", func(t *testing.T) {
		var names []string
		for i := range 26 {
			names = append(names, fmt.Sprintf("model.sparse_arch.embedding_bag_collection.embedding_bags.t_cat_%d.weight", i))
		}
		dropMeasured(t, ctx, "torchrec.npz", tableNPZ(t, 1000, 4, names...))
		waitJS(t, ctx, `document.querySelectorAll('#table-cards svg').length === 26 && document.querySelectorAll('#plan-rows tr[data-name]').length === 26`, time.Minute)
		defer chromedp.Do(ctx, chromedp.EmulateReset())
		for _, w := range []int64{1280, 390} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 844)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond) // the layout settles
			bad := eval[[]string](t, ctx, `(() => {
				const l = [], W = document.documentElement.scrollWidth;
				if (W > window.innerWidth) l.push('the page is ' + W + ' px wide in ' + window.innerWidth);
				let n = 0;
				for (const row of document.querySelectorAll('#tensor-rows tr, #table-cards .card, #plan-rows tr[data-name]')) {
					const full = row.dataset.name, box = (row.tagName === 'TR' ? row.cells[0] : row).getBoundingClientRect();
					const shown = row.querySelector('[title]'), want = full.split('.').slice(-2).join('.');
					const tail = shown && [...shown.querySelectorAll('*')].find((e) => e.textContent === want);
					if (!shown || shown.title !== full) { l.push(full + ': no tooltip'); continue; }
					if (!tail) { l.push(full + ': ' + want + ' is not shown whole'); continue; }
					const r = tail.getBoundingClientRect();
					if (r.width === 0 || r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.right > window.innerWidth)
						l.push(full + ': ' + want + ' at ' + r.left.toFixed(0) + '..' + r.right.toFixed(0) + ' outside ' + box.left.toFixed(0) + '..' + box.right.toFixed(0));
					n++;
				}
				if (n !== 3 * 26) l.push(n + ' names checked');
				return l; })()`)
			shot(t, ctx, fmt.Sprintf("13-long-names-%d", w))
			if len(bad) > 0 {
				if len(bad) > 6 {
					bad = append(bad[:6], fmt.Sprintf("and %d more", len(bad)-6))
				}
				t.Fatalf("at %d px: %q", w, bad)
			}
		}
	})
}

// timesAndCharts checks that the time the page reports counts every phase
// since the drop (the measuring done on opening too), and that the charts'
// axis labels are drawn whole.
func timesAndCharts(t *testing.T, ctx context.Context) {
	t.Run("the time reported counts every phase since the drop, and chart labels are whole", func(t *testing.T) {
		pace(t, ctx, 200) // measuring on opening takes a while
		dropMeasured(t, ctx, "timed.npz", tableNPZ(t, 20_000, 16, "timed_emb"))
		pace(t, ctx, 0)
		click(t, ctx, "#go")
		waitJS(t, ctx, `!document.getElementById('result').hidden`, time.Minute)
		text := eval[string](t, ctx, `document.getElementById('result-text').textContent`)
		m := regexp.MustCompile(`([0-9.]+) s of work since the drop \(opening ([0-9.]+) s \+ measuring ([0-9.]+) s \+ writing ([0-9.]+) s\)`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("the page says %q", text)
		}
		var v [4]float64
		for i := range v {
			v[i], _ = strconv.ParseFloat(m[i+1], 64)
		}
		if v[2] < 0.3 || math.Abs(v[0]-v[1]-v[2]-v[3]) > 0.02 {
			t.Fatalf("the page says %q: measuring took at least 0.4 s, and the parts add up to the whole", text)
		}
		t.Logf("the page says: %s", text)
		cut := eval[[]string](t, ctx, `(() => { const l = [];
			for (const svg of document.querySelectorAll('#table-cards svg')) {
				const vb = svg.viewBox.baseVal;
				for (const e of svg.querySelectorAll('text')) {
					const b = e.getBBox();
					if (b.y < vb.y - 0.5 || b.y + b.height > vb.y + vb.height + 0.5 || b.x < vb.x - 0.5 || b.x + b.width > vb.x + vb.width + 0.5) l.push(e.textContent + ' at ' + [b.x, b.y, b.width, b.height].map((x) => x.toFixed(1)).join(',') + ' in ' + [vb.x, vb.y, vb.width, vb.height].join(','));
				}
			}
			return l; })()`)
		if len(cut) > 0 {
			t.Fatalf("chart labels drawn outside their chart: %q", cut)
		}
	})
}
