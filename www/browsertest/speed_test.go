package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shark/compress"
	"shark/formats"
	"shark/formats/npy"
	"shark/www"
)

// page starts Chromium on the page and returns its context and the
// folder its downloads go to.
func page(t *testing.T) (context.Context, string) {
	t.Helper()
	exe := chromium(t)
	buildWasm(t)
	srv := newServer(t)
	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("no-first-run", true))
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv)); err != nil {
		t.Fatal(err)
	}
	return ctx, downloadsTo(t, ctx)
}

func newServer(t *testing.T) string {
	srv := httptest.NewServer(www.Handler(os.DirFS("../static")))
	t.Cleanup(srv.Close)
	return srv.URL
}

// gaussianNPY writes a rows x dim float32 .npy of Gaussian values.
func gaussianNPY(t *testing.T, path string, rows, dim int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := &gaussian{r: rand.New(rand.NewPCG(uint64(rows), 7)), left: rows * dim}
	if err := npy.Write(f, formats.F32, []int64{int64(rows), int64(dim)}, g); err != nil {
		t.Fatal(err)
	}
}

// downloaded waits until path holds a whole download (its size steady)
// and returns when it first appeared.
func downloaded(t *testing.T, path string, d time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(d)
	var seen time.Time
	last := int64(-1)
	for ; time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		st, err := os.Stat(path)
		if err != nil || st.Size() == 0 {
			continue
		}
		if seen.IsZero() {
			seen = time.Now()
		}
		if st.Size() == last {
			return seen
		}
		last = st.Size()
	}
	t.Fatalf("no whole download at %s in %v", path, d)
	return seen
}

// TestPageSpeed times a drop of a large float32 .npy to its download at
// 30% (open, measure, write, download), as a user sees it, with the primary
// Worker's record of where the time went, and times bin/shark quantize of
// the same file under each kernel set before and after it, with the load
// average at each end: the page's ratio to each. A benchmark, not a check:
// it runs when SHARK_PAGE_SPEED names the table's MiB (256, 1024).
func TestPageSpeed(t *testing.T) {
	mibs, _ := strconv.Atoi(os.Getenv("SHARK_PAGE_SPEED"))
	if mibs <= 0 {
		t.Skip("SHARK_PAGE_SPEED=<MiB> times the page on a table that large")
	}
	ctx, downloads := page(t)
	const dim = 64
	rows := mibs << 20 / (4 * dim)
	path := filepath.Join(t.TempDir(), "speed.npy")
	gaussianNPY(t, path, rows, dim)
	cores := eval[int](t, ctx, `navigator.hardwareConcurrency || 1`)
	before := timeCLI(t, path)
	t0 := time.Now()
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{path})); err != nil {
		t.Fatal(err)
	}
	// Up to 256 MiB the page measures on drop; above, the user asks.
	waitJS(t, ctx, `document.getElementById('file-title').textContent === 'speed.npy' && (document.getElementById('plan-rows').dataset.measured === '1' || document.querySelector('#plan-rows button') !== null)`, 10*time.Minute)
	if eval[bool](t, ctx, `document.querySelector('#plan-rows button') !== null`) {
		click(t, ctx, "#plan-rows button")
		waitJS(t, ctx, `document.getElementById('plan-rows').dataset.measured === '1' && !document.getElementById('go').disabled`, 20*time.Minute)
	}
	click(t, ctx, "#go")
	got := downloaded(t, filepath.Join(downloads, "speed.shark"), 20*time.Minute)
	said := eval[string](t, ctx, `document.getElementById('result-text').textContent`)
	mem := eval[float64](t, ctx, `shark.workerMemory()`)
	t.Logf("%d MiB float32 (%d x %d) at 30%%, drop to download: %.1f s (%d cores); the page says %q; the primary Worker's wasm memory %.0f MiB",
		mibs, rows, dim, got.Sub(t0).Seconds(), cores, said, mem/(1<<20))
	t.Logf("the primary Worker's phases (ms since the drop's open):\n%s", eval[string](t, ctx, `shark.call('phases', []).then(r => r.result)`))
	fmt.Fprintf(os.Stderr, "page-speed %d MiB: %.2f s\n", mibs, got.Sub(t0).Seconds())
	after := timeCLI(t, path)
	for i, b := range before {
		if b.err != "" || after[i].err != "" {
			t.Logf("CLI %s: %s%s", b.set, b.err, after[i].err)
			continue
		}
		mean := (b.wall + after[i].wall).Seconds() / 2
		t.Logf("CLI SHARK_KERNELS=%s (%s): %.2f s before the page, %.2f s after; the page %.1fx", b.set, b.kernels, b.wall.Seconds(), after[i].wall.Seconds(), got.Sub(t0).Seconds()/mean)
		fmt.Fprintf(os.Stderr, "page-speed %d MiB against the CLI's %s: %.2fx\n", mibs, b.set, got.Sub(t0).Seconds()/mean)
	}
}

// cliTime is a run of bin/shark quantize under a kernel set: its wall
// time and the kernels it says it used, or why it did not run.
type cliTime struct {
	set, kernels, err string
	wall              time.Duration
}

// timeCLI times bin/shark quantize of path at 30% under each kernel set
// (SHARK_KERNELS) once, and logs the load average before and after.
func timeCLI(t *testing.T, path string) []cliTime {
	t.Helper()
	bin, _ := filepath.Abs("../../bin/shark")
	loadavg := func() string { b, _ := os.ReadFile("/proc/loadavg"); return strings.TrimSpace(string(b)) }
	t.Logf("load average (/proc/loadavg) before the CLI's runs: %s", loadavg())
	var out []cliTime
	for _, set := range []string{"avx512", "avx2", "portable"} {
		c := cliTime{set: set}
		env := append(os.Environ(), "SHARK_KERNELS="+set)
		ver := exec.Command(bin, "version")
		ver.Env = env
		v, err := ver.CombinedOutput()
		if err != nil {
			c.err = fmt.Sprintf("no CLI to compare with (./build.sh builds bin/shark): %v ", err)
			out = append(out, c)
			continue
		}
		for _, l := range strings.Split(string(v), "\n") {
			if k, ok := strings.CutPrefix(l, "kernels: "); ok {
				c.kernels = k
			}
		}
		q := exec.Command(bin, "quantize", path, "--budget", "30%", "-o", filepath.Join(t.TempDir(), "cli.shark"))
		q.Env = env
		start := time.Now()
		if b, err := q.CombinedOutput(); err != nil {
			c.err = fmt.Sprintf("shark quantize: %v: %s ", err, b)
		}
		c.wall = time.Since(start)
		out = append(out, c)
	}
	t.Logf("load average after them: %s", loadavg())
	return out
}

// A table large enough to be shared (65,536 rows or more) is written on
// every Worker, each encoding a range of its rows, the primary joining
// them: the download is the CLI's file, byte for byte.
func TestBrowserWritesOnEveryWorker(t *testing.T) {
	ctx, downloads := page(t)
	cores := eval[int](t, ctx, `Math.min(8, navigator.hardwareConcurrency || 1)`)
	if cores < 2 {
		t.Skipf("the browser reports %d core: the page has no other Worker", cores)
	}
	data := tableNPZ(t, 70001, 24, "emb", "small")
	eval[bool](t, ctx, fmt.Sprintf(`(shark.created = %d, true)`, created))
	dropMeasured(t, ctx, "wide.npz", data)
	click(t, ctx, "#go")
	waitJS(t, ctx, `!document.getElementById('result').hidden`, 2*time.Minute)
	said := eval[string](t, ctx, `document.getElementById('result-text').textContent`)
	if want := fmt.Sprintf("written on %d Web Workers", cores); !strings.Contains(said, want) {
		t.Fatalf("the page says %q, not %q", said, want)
	}
	got := download(t, filepath.Join(downloads, "wide.shark"))
	if want := reference(t, "wide.npz", data, 0.3); !bytes.Equal(got, want) {
		t.Fatalf("the page wrote %d bytes that differ from the CLI's %d", len(got), len(want))
	}
}

// The page measures rows with its SIMD128 module (Chromium has SIMD128),
// and the module's errors are the portable kernel's, bit for bit, on rows
// of every width a multiple of 4 up to 128 and every kind of value
// (wasm/simd.go's checkKernels).
func TestBrowserSIMDKernels(t *testing.T) {
	ctx, _ := page(t)
	var res struct {
		Kernels    string
		Rows       int
		Mismatched int
		First      string
	}
	out := eval[string](t, ctx, `shark.call('checkKernels', [40000]).then(r => JSON.stringify(r.result), e => 'error: ' + e.message)`)
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("the page answered %q", out)
	}
	if res.Kernels != "simd128" || res.Rows != 40000 || res.Mismatched != 0 {
		t.Fatalf("kernels %q: %d of %d rows differ from the portable kernel's; the first: %s", res.Kernels, res.Mismatched, res.Rows, res.First)
	}
}

// The page encodes int8 and int4 rows with its SIMD128 module, and its
// bytes are the portable kernel's, on rows of every width a multiple of 4
// up to 128 and every kind of value, in batches of any length
// (wasm/simd.go's checkQuantize).
func TestBrowserSIMDQuantize(t *testing.T) {
	ctx, _ := page(t)
	var res struct {
		Kernels    string
		Rows       int
		Mismatched int
		First      string
	}
	out := eval[string](t, ctx, `shark.call('checkQuantize', [40000]).then(r => JSON.stringify(r.result), e => 'error: ' + e.message)`)
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("the page answered %q", out)
	}
	if res.Kernels != "simd128" || res.Rows != 40000 || res.Mismatched != 0 {
		t.Fatalf("kernels %q: %d of %d rows differ from the portable kernel's; the first: %s", res.Kernels, res.Mismatched, res.Rows, res.First)
	}
}

// A table is read in order in large slices: measuring and writing each ask
// the browser for the primary Worker's rows in a few reads of 8 MiB (a
// FileReaderSync call costs about a millisecond besides its bytes: 256 MiB
// took 1.2-1.9 s in 1 MiB slices, 0.9-1.2 s in 4 MiB, 0.8 s in 16 MiB),
// never reading much past the rows, and the download is still the CLI's.
func TestBrowserReadsInOrderLarge(t *testing.T) {
	ctx, downloads := page(t)
	const rows, dim = 196_608, 64 // 48 MiB
	path := filepath.Join(t.TempDir(), "inorder.npy")
	gaussianNPY(t, path, rows, dim)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	eval[bool](t, ctx, fmt.Sprintf(`(shark.created = %d, true)`, created))
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{path})); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.getElementById('file-title').textContent === 'inorder.npy' && document.getElementById('plan-rows').dataset.measured === '1' && !document.getElementById('go').disabled`, 2*time.Minute)
	click(t, ctx, "#go")
	if got := download(t, filepath.Join(downloads, "inorder.shark")); !bytes.Equal(got, reference(t, "inorder.npy", data, 0.3)) {
		t.Fatalf("the page wrote %d bytes that differ from the CLI's", len(got))
	}
	workers := eval[int](t, ctx, `Math.min(8, navigator.hardwareConcurrency || 1)`)
	own := int64(rows/workers) * dim * 4 // the primary's range of rows: the first
	phases := eval[string](t, ctx, `shark.call('phases', []).then(r => r.result)`)
	t.Logf("the primary Worker's phases:\n%s", phases)
	for _, phase := range []string{"measured", "written"} {
		var calls, read int64
		i := strings.Index(phases, phase+"; the file read ")
		if i < 0 {
			t.Fatalf("no %q in the phases:\n%s", phase, phases)
		}
		if _, err := fmt.Sscanf(phases[i+len(phase):], "; the file read %d times, %d bytes", &calls, &read); err != nil {
			t.Fatalf("%s: %v", phases[i:], err)
		}
		most := 2 + (own+8<<20-1)/(8<<20)
		if calls > most || read < own || read > own+17<<20 {
			t.Errorf("%s: the primary read the file %d times, %d bytes, for its %d bytes of rows (at most %d reads, at most 17 MiB more)\n%s",
				phase, calls, read, own, most, phases)
		}
	}
}

// When the page measures a file on drop, it asks for the norm histograms
// and then the plan: the histograms are made on a helper Worker after its
// share of the measuring (while the primary assigns tiers alone), so the
// primary's measuring starts at once; every chart still comes, with the
// histogram compress.Norms makes of the file.
func TestBrowserNormsOnAHelper(t *testing.T) {
	ctx, _ := page(t)
	if eval[int](t, ctx, `Math.min(8, navigator.hardwareConcurrency || 1)`) < 2 {
		t.Skip("the browser reports 1 core: the page has no other Worker")
	}
	data := tableNPZ(t, 70001, 24, "emb", "small")
	dropMeasured(t, ctx, "norms.npz", data)
	waitJS(t, ctx, `document.querySelectorAll('#table-cards svg').length === 2`, time.Minute)
	phases := eval[string](t, ctx, `shark.call('phases', []).then(r => r.result)`)
	if strings.Contains(phases, "norms of") || !strings.Contains(phases, "worker 2 asked to measure") {
		t.Fatalf("the primary Worker made a histogram, or asked no helper to measure:\n%s", phases)
	}
	in, err := compress.OpenReaderAt(bytes.NewReader(data), int64(len(data)), "norms.npz")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	for _, name := range []string{"emb", "small"} {
		want, err := compress.Norms(in.File, name, 40)
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := json.Marshal(want)
		got := eval[string](t, ctx, fmt.Sprintf(`JSON.stringify(document.querySelector('#table-cards .card[data-name=%q]').histogram)`, name))
		if got != string(wantJSON) {
			t.Errorf("%s: the page's histogram %s, compress.Norms %s", name, got, wantJSON)
		}
	}
}
