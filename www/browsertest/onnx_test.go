package browsertest

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shark/compress"
	"shark/formats/sharkfile"
	"shark/www"
)

// The page's Export .onnx downloads the model compress.Export writes for
// the dropped .shark file (the CLI's lookups-only export, byte for byte).
func TestBrowserONNX(t *testing.T) {
	exe := chromium(t)
	buildWasm(t)
	srv := httptest.NewServer(www.Handler(os.DirFS("../static")))
	defer srv.Close()
	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("no-first-run", true))
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	downloads := downloadsTo(t, ctx)

	data, err := os.ReadFile(ncf)
	if err != nil {
		t.Fatal(err)
	}
	sharkBytes := reference(t, "ncf.npz", data, 0.3)
	rd, err := sharkfile.NewReader(bytes.NewReader(sharkBytes), int64(len(sharkBytes)))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := compress.Export(rd, "onnx", compress.Dequantized, &want); err != nil {
		t.Fatal(err)
	}
	drop(t, ctx, "ncf.shark", sharkBytes)
	waitJS(t, ctx, `document.getElementById('file-title').textContent === 'ncf.shark' && !document.getElementById('export').hidden`, time.Minute)
	click(t, ctx, `.export[data-to="onnx"]`)
	waitJS(t, ctx, `!document.getElementById('export-link').hidden && document.getElementById('export-link').download.endsWith('.onnx')`, time.Minute)
	name := eval[string](t, ctx, `document.getElementById('export-link').download`)
	click(t, ctx, "#export-link")
	if got := download(t, filepath.Join(downloads, name)); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("the page's %s: %d bytes that differ from compress.Export's %d", name, len(got), want.Len())
	}
}
