// Package browser runs a real headless browser for tests: Debian's chromium (installed by
// scripts/test-deps.sh), driven over the DevTools protocol by github.com/chromedp/chromedp. It
// starts chromium with the flags this closed network needs (no background networking, component
// updates, sync or QUIC: without them chromium keeps opening connections that are refused) and
// records every request the pages make, so that a test can check that a page reached nothing
// but the servers it was given.
package browser

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Browser is one chromium process with one tab.
type Browser struct {
	// Ctx is the tab's context: pass it to chromedp.Do and chromedp.Run. It ends with the test.
	Ctx context.Context

	mu       sync.Mutex
	urls     []string
	problems []string
}

// Binary returns chromium's path: $RPCBRIDGE_CHROMIUM, or chromium (or chromium-browser) on PATH.
func Binary() (string, error) {
	if bin := os.Getenv("RPCBRIDGE_CHROMIUM"); bin != "" {
		return bin, nil
	}
	bin, err := exec.LookPath("chromium")
	if err != nil {
		return exec.LookPath("chromium-browser")
	}
	return bin, nil
}

// Start runs chromium headless until the test ends. It skips the test when chromium is not
// installed, unless RPCBRIDGE_REQUIRE_PEERS=1, which makes that a failure.
func Start(t testing.TB) *Browser {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("RPCBRIDGE_REQUIRE_PEERS") == "1" {
			t.Fatalf("chromium unavailable (scripts/test-deps.sh installs it): %v", err)
		}
		t.Skipf("chromium unavailable (scripts/test-deps.sh installs it; set RPCBRIDGE_REQUIRE_PEERS=1 to fail instead): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("no-sandbox", os.Geteuid() == 0), // chromium refuses to run as root with its sandbox
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(1440, 1000),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	b := &Browser{Ctx: ctx}
	// The first action starts chromium and binds it to its context, so it must run on ctx itself,
	// not on a derived context with a deadline (whose end would close the tab).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium (%s): %v", bin, err)
	}
	if err := chromedp.Listen(ctx, b.record); err != nil {
		t.Fatalf("listen to chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// Failed requests are the browser's network log; tests check the answers themselves.
			if (m.Type == chromedp.ConsoleError || m.IsException()) && m.Source != "network" {
				b.mu.Lock()
				b.problems = append(b.problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// record keeps the URL of every request a page makes.
func (b *Browser) record(ev any) {
	var u string
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		u = ev.Request.URL
	case network.EventRequestWillBeSent:
		u = ev.Request.URL
	default:
		return
	}
	b.mu.Lock()
	b.urls = append(b.urls, u)
	b.mu.Unlock()
}

// Problems lists the errors the pages wrote to the console and the exceptions they did not
// catch, a Content-Security-Policy violation among them (not failed requests).
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.problems)
}

// Offsite lists the URLs the pages requested whose host is not one of hosts ("127.0.0.1:8080");
// data: and blob: URLs are in the page itself.
func (b *Browser) Offsite(hosts ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, raw := range b.urls {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "data" || u.Scheme == "blob" || slices.Contains(hosts, u.Host) {
			continue
		}
		out = append(out, raw)
	}
	return out
}

// Screenshot saves a PNG of the whole page as name in the test's artifact directory
// (go test -artifacts keeps it) and returns its path.
func (b *Browser) Screenshot(t testing.TB, name string) string {
	t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
