package browsertest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"shark/compress"
	"shark/facetest"
	"shark/formats"
	_ "shark/formats/all"
	"shark/formats/formatstest"
	"shark/formats/npy"
	"shark/www"
)

// realNCF is the shared data's model; without it (a clone alone) the tests
// drop a stand-in of its structure (internal/standin), so they still run.
const realNCF = "../../../shared/data/ncf-ml1m-mlp.npz"

// ncf is the model the tests drop: realNCF or its stand-in.
var ncf string

func TestMain(m *testing.M) { os.Exit(formatstest.RunWithNCF(m, realNCF, &ncf)) }

// buildWasm compiles the core for the browser into static/, as build.sh does.
func buildWasm(t *testing.T) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", "../static/shark.wasm", "../../wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm core: %v\n%s", err, out)
	}
	root, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	src := filepath.Join(strings.TrimSpace(string(root)), "lib", "wasm", "wasm_exec.js")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("../static/wasm_exec.js", b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func chromium(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (./build.sh test installs it)")
	}
	t.Skip("chromium is not installed")
	return ""
}

// requestLog records every path the test server is asked for.
type requestLog struct {
	mu    sync.Mutex
	paths map[string]int
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.paths[r.URL.Path]++
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func artifacts(t *testing.T) string {
	dir := os.Getenv("SHARK_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts", "browser")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(artifacts(t), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// drop dispatches a real drop event carrying a File with data on the drop zone.
func drop(t *testing.T, ctx context.Context, name string, data []byte) {
	t.Helper()
	js := fmt.Sprintf(`(() => {
		const bin = atob(%q);
		const u8 = new Uint8Array(bin.length);
		for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
		const dt = new DataTransfer();
		dt.items.add(new File([u8], %q));
		document.getElementById('drop').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
		return true;
	})()`, base64.StdEncoding.EncodeToString(data), name)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil {
		t.Fatal(err)
	}
}

// waitJS polls a JavaScript condition.
func waitJS(t *testing.T, ctx context.Context, cond string, d time.Duration) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if _, err := chromedp.Run(c, chromedp.Poll[bool](cond)); err != nil {
		msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#error, #budget-note, .busy-row span')].map(e => e.textContent).join(' | ')`))
		t.Fatalf("waiting for %s: %v (page says: %s)", cond, err, msg)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, func(p *cdpruntime.EvaluateParams) { p.AwaitPromise = new(true) }))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func TestBrowser(t *testing.T) {
	exe := chromium(t)
	buildWasm(t)
	log := &requestLog{paths: map[string]int{}}
	srv := httptest.NewServer(log.wrap(www.Handler(os.DirFS("../static"))))
	defer srv.Close()

	downloads := t.TempDir()
	userData := t.TempDir()
	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(userData), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true))
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}

	t.Run("loads", func(t *testing.T) {
		title, err := chromedp.Run(ctx, chromedp.Title())
		if err != nil || !strings.Contains(title, "shark") {
			t.Fatalf("title %q, %v", title, err)
		}
		shot(t, ctx, "1-start")
	})

	npz, _ := os.ReadFile(ncf)
	t.Run("drop lists tensors", func(t *testing.T) {
		drop(t, ctx, "ncf-ml1m-mlp.npz", npz)
		waitJS(t, ctx, `document.querySelectorAll('#tensor-rows tr').length === 10`, time.Minute)
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#tensor-rows tr')].map(r => r.cells[0].querySelector('code').textContent + ' ' + r.cells[1].textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{"user_embedding_W 6,040 × 32": true, "item_embedding_W 3,706 × 32": true, "layer1_W 64 × 32": true, "prediction_b 1": true}
		found := 0
		for _, r := range rows {
			if want[r] {
				found++
			}
		}
		if found != len(want) {
			t.Fatalf("tensor rows %q", rows)
		}
		waitJS(t, ctx, `document.querySelectorAll('#plan-rows tr').length === 3 && document.querySelectorAll('#table-cards svg').length === 2`, time.Minute)
		shot(t, ctx, "2-inspect")
	})

	// Every input, compressed in the page at its default 30% with a set
	// creation time, downloads the bytes the CLI and the desktop write.
	const created = 1700000000
	inputs := facetest.Inputs(t, t.TempDir(), ncf)
	for _, path := range inputs {
		name := filepath.Base(path)
		t.Run("page writes the CLI's bytes for "+name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			eval[bool](t, ctx, fmt.Sprintf(`(shark.created = %d, true)`, created))
			drop(t, ctx, name, data)
			waitJS(t, ctx, fmt.Sprintf(`document.getElementById('file-title').textContent === %q && document.getElementById('plan-rows').dataset.measured === '1' && !document.getElementById('go').disabled`, name), 2*time.Minute)
			checkSummary(t, ctx, path)
			if name == "large.npz" { // its table of 100,000 rows is measured on every core's Worker
				cores := eval[int](t, ctx, `Math.min(8, navigator.hardwareConcurrency || 1)`)
				if w := eval[string](t, ctx, `document.getElementById('plan-rows').dataset.workers`); w != fmt.Sprint(cores) {
					t.Fatalf("measured on %s Web Workers, the browser has %d cores", w, cores)
				}
			}
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("go"))); err != nil {
				t.Fatal(err)
			}
			waitJS(t, ctx, `!document.getElementById('result').hidden`, 2*time.Minute)
			got := download(t, filepath.Join(downloads, strings.TrimSuffix(name, filepath.Ext(name))+".shark"))
			if want := facetest.Reference(t, path, created); !bytes.Equal(got, want) {
				t.Fatalf("the page wrote %d bytes that differ from the CLI's %d", len(got), len(want))
			}
		})
	}

	t.Run("the result inspects and exports", func(t *testing.T) {
		drop(t, ctx, "ncf-ml1m-mlp.npz", npz)
		waitJS(t, ctx, `document.getElementById('file-title').textContent === 'ncf-ml1m-mlp.npz' && document.getElementById('plan-rows').dataset.measured === '1' && !document.getElementById('go').disabled`, 2*time.Minute)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("go"))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `!document.getElementById('result').hidden`, 2*time.Minute)
		shot(t, ctx, "3-compressed")
		// And the result can be inspected in the page.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("open-result"))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `document.querySelectorAll('#tensor-rows .tierbar').length === 2 && !document.getElementById('export').hidden`, time.Minute)
		shot(t, ctx, "4-result-inspected")
		// Export it to .npz in the page and download that too.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-to="npz"]`))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `!document.getElementById('export-link').hidden`, time.Minute)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("export-link"))); err != nil {
			t.Fatal(err)
		}
		exp := filepath.Join(downloads, "ncf-ml1m-mlp.dequantized.npz")
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
			if f, osf, err := formats.OpenFile(exp); err == nil {
				n := len(f.Tensors)
				osf.Close()
				if n == 10 {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("the exported .npz did not arrive")
			}
		}
		// And to a PyTorch checkpoint in the torch layout: per table, the
		// ids and rows of each tier, beside the 8 dense tensors.
		eval[bool](t, ctx, `(document.getElementById('layout').value = 'torch', true)`)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-to="pt"]`))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `!document.getElementById('export-link').hidden && document.getElementById('export-link').download.endsWith('.pt')`, time.Minute)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("export-link"))); err != nil {
			t.Fatal(err)
		}
		pt := filepath.Join(downloads, "ncf-ml1m-mlp.torch.pt")
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
			if f, osf, err := formats.OpenFile(pt); err == nil {
				n, format := len(f.Tensors), f.Format
				osf.Close()
				if n == 8+2*4*2 && format == "pytorch" {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("the exported .pt did not arrive")
			}
		}
	})

	t.Run("corrupt file shows an error", func(t *testing.T) {
		bad := append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0x5a}, 300)...)
		drop(t, ctx, "broken.npz", bad)
		waitJS(t, ctx, `!document.getElementById('error').hidden && document.getElementById('error').textContent.includes('broken.npz')`, time.Minute)
		msg := eval[string](t, ctx, `document.getElementById('error').textContent`)
		t.Logf("error shown: %s", msg)
		shot(t, ctx, "5-error")
		drop(t, ctx, "notes.txt", []byte("just some text"))
		waitJS(t, ctx, `document.getElementById('error').textContent.includes('not a format shark reads')`, time.Minute)
	})

	t.Run("a 1 GiB file is inspected with little memory", func(t *testing.T) {
		big := filepath.Join(t.TempDir(), "big.npy")
		const rows, dim = 1 << 22, 64 // 1 GiB of float32, sparse on disk
		hdr, _ := npy.HeaderBytes(formats.F32, []int64{rows, dim})
		f, err := os.Create(big)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(hdr)
		f.Truncate(int64(len(hdr)) + rows*dim*4)
		f.Close()
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{big})); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `document.getElementById('file-title').textContent === 'big.npy' && document.querySelectorAll('#tensor-rows tr').length === 1`, time.Minute)
		waitJS(t, ctx, `document.querySelectorAll('#table-cards svg').length === 1 && document.querySelector('#plan-rows button') !== null`, 2*time.Minute)
		wasmMem := eval[float64](t, ctx, `shark.workerMemory()`)
		heap := eval[float64](t, ctx, `performance.memory ? performance.memory.usedJSHeapSize : 0`)
		t.Logf("1 GiB file: worker wasm memory %.1f MiB, page JS heap %.1f MiB", wasmMem/(1<<20), heap/(1<<20))
		if wasmMem > 256<<20 || heap > 256<<20 {
			t.Fatalf("memory grew with the file: wasm %v, heap %v", wasmMem, heap)
		}
		shot(t, ctx, "6-big-file")
		// Start measuring its 4M rows, then cancel: the page comes back, the file still open.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#plan-rows button"))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `!document.getElementById('plan-busy').hidden`, time.Minute)
		time.Sleep(500 * time.Millisecond)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("plan-cancel"))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `document.getElementById('plan-busy').hidden && document.getElementById('budget-note').textContent.includes('cancelled')`, time.Minute)
		if n := eval[float64](t, ctx, `shark.inspect().then(s => s.tensors.length)`); n != 1 {
			t.Fatalf("after cancel the file has %v tensors", n)
		}
		shot(t, ctx, "7-cancelled")
	})

	// A benchmark rather than a check: the same compression in the tab
	// (portable wasm, one thread) and natively (this test's build).
	t.Run("throughput against native", func(t *testing.T) {
		dir := t.TempDir()
		model, _, err := compress.ExampleFiles(dir, 3)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(model)
		drop(t, ctx, "model.npz", data)
		waitJS(t, ctx, `document.getElementById('file-title').textContent === 'model.npz' && !document.getElementById('go').disabled`, 2*time.Minute)
		secs := eval[float64](t, ctx, `shark.compress({budget: 0.3}).then(r => r.result.seconds)`)
		in, err := compress.Open(model)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		t0 := time.Now()
		plan, err := compress.NewPlan(in, compress.DefaultSettings(), compress.Env{})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := plan.Write(&buf); err != nil {
			t.Fatal(err)
		}
		native := time.Since(t0).Seconds()
		mb := float64(len(data)) / (1 << 20)
		t.Logf("compressing %.1f MiB at 30%%: browser %.3f s (%.1f MiB/s), native %.3f s (%.1f MiB/s): native is %.1fx faster",
			mb, secs, mb/secs, native, mb/native, secs/native)
	})

	products(t, ctx)
	moments(t, ctx)

	t.Run("no request leaves the page's own assets", func(t *testing.T) {
		v := eval[[]string](t, ctx, `window.violations`)
		if len(v) > 0 {
			t.Fatalf("content security policy violations: %v", v)
		}
		log.mu.Lock()
		defer log.mu.Unlock()
		allowed := map[string]bool{"/": true, "/app.js": true, "/style.css": true, "/worker.js": true, "/wasm_exec.js": true, "/shark.wasm": true, "/sw.js": true}
		var paths []string
		for p := range log.paths {
			paths = append(paths, p)
			if !allowed[p] {
				t.Errorf("unexpected request for %s", p)
			}
		}
		sort.Strings(paths)
		t.Logf("requests: %v", paths)
	})
}

// download waits for a downloaded file to arrive whole and returns it.
func download(t *testing.T, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			ents, _ := os.ReadDir(filepath.Dir(path))
			t.Fatalf("no download at %s (have %v)", path, ents)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let the download finish writing
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkSummary compares the page's tensor list with compress.Summarize of
// the same file: the names, shapes, types, sizes and roles every face shows.
func checkSummary(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	in, err := compress.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	sum := compress.Summarize(in)
	var want []string
	for _, ts := range sum.Tensors {
		want = append(want, strings.Join([]string{ts.Name, ts.Why, ts.ShapeText, ts.DType, ts.Size, ts.Role}, "|"))
	}
	// The first cell is the name and why it is a table or not.
	got := eval[[]string](t, ctx, `[...document.querySelectorAll('#tensor-rows tr')].map(r => [...r.cells].map((c, i) => i === 0
		? c.querySelector('code').textContent + '|' + (c.querySelector('.tiercounts') ? c.querySelector('.tiercounts').textContent : '')
		: c.querySelector('.badge,.muted') ? c.querySelector('.badge,.muted').textContent : c.textContent).join('|'))`)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the page lists\n%s\nthe summary is\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if facts := eval[string](t, ctx, `document.getElementById('file-facts').textContent`); facts != sum.Facts {
		t.Fatalf("facts %q, summary %q", facts, sum.Facts)
	}
}
