package browsertest

import (
	"context"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shark/www"
)

// The page works offline once loaded: its service worker (static/sw.js)
// stores the page's files, and with the server gone the page opens again
// at its address and inspects a dropped file in its wasm core.
func TestOffline(t *testing.T) {
	exe := chromium(t)
	buildWasm(t)
	srv := httptest.NewServer(www.Handler(os.DirFS("../static")))
	url := srv.URL
	closed := false
	defer func() {
		if !closed {
			srv.Close()
		}
	}()
	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("no-first-run", true))
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	// The worker controls the page once it has stored every file.
	waitJS(t, ctx, `navigator.serviceWorker.controller !== null`, time.Minute)
	stored := eval[[]string](t, ctx, `caches.open('shark-page').then(c => c.keys()).then(ks => ks.map(r => new URL(r.url).pathname).sort())`)
	t.Logf("stored: %v", stored)
	if len(stored) < 6 {
		t.Fatalf("the service worker stored %v, not the page's 6 files", stored)
	}

	srv.CloseClientConnections()
	srv.Close()
	closed = true
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening the page with its server gone: %v", err)
	}
	drop(t, ctx, "tables.npz", tableNPZ(t, 200, 8, "user_emb", "item_emb"))
	waitJS(t, ctx, `document.querySelectorAll('#tensor-rows tr').length === 2`, time.Minute)
	if v := eval[[]string](t, ctx, `window.violations`); len(v) > 0 {
		t.Fatalf("content security policy violations: %v", v)
	}
}
