package console_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/admin/auth"
	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/browser"
	"github.com/rpcbridge/rpcbridge/registries"
)

// seenTokens records the Authorization headers of the requests that pass it.
type seenTokens struct {
	next http.Handler

	mu   sync.Mutex
	seen []string
}

func (b *seenTokens) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.seen = append(b.seen, r.Header.Get("Authorization"))
	b.mu.Unlock()
	b.next.ServeHTTP(w, r)
}

func (b *seenTokens) sent(header string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.seen {
		if s == header {
			return true
		}
	}
	return false
}

// TestTokenPrompt: the admin API answers 401, the console asks for a token, a wrong one is
// refused and asked again, the right one loads the page and is kept in sessionStorage, so that
// a reload needs no prompt. The admin API is behind admin/auth's middleware with one read token.
func TestTokenPrompt(t *testing.T) {
	catalog := bridge.Catalog{Services: []bridge.Service{{ID: "http:hello", Name: "hello", Protocol: "http", Sources: []string{"local"},
		Endpoints: []bridge.Endpoint{{Endpoint: registries.Endpoint{Address: "127.0.0.1", Port: 9000, Weight: 100, Healthy: true}, Source: "local"}}}}}
	const token = "s3cret-0123456789abcdef"
	file := filepath.Join(t.TempDir(), "console")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeyring([]auth.Token{{Credential: auth.Credential{Name: "console", File: file},
		Scopes: []auth.Scope{auth.ScopeRead}}}, auth.KeyringOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := &seenTokens{next: auth.Middleware(admin.Handler(admin.Options{
		State: func() admin.State { return admin.State{Catalog: catalog} },
		Ready: func() (bool, string) { return true, "ready" },
	}), auth.MiddlewareOptions{Keyring: keys})}
	srv := httptest.NewServer(seen)
	defer srv.Close()
	b := browser.Start(t)
	ctx := b.Ctx
	dialogOpen := `document.getElementById("token-dialog").open`
	answer := func(token string) {
		t.Helper()
		if err := chromedp.Do(ctx,
			chromedp.Poll[chromedp.Void](dialogOpen, chromedp.WithPollingTimeout(20*time.Second)),
			chromedp.SendKeys(chromedp.CSS("#token-input"), token),
			chromedp.Click(chromedp.CSS("#token-ok")),
		); err != nil {
			t.Fatalf("answer the token prompt with %q: %v", token, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#catalog")); err != nil {
		t.Fatal(err)
	}
	answer("wrong")
	// The prompt closes on the answer and opens again once the retried request is refused.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.getElementById("token-dialog").open && document.querySelector(".token-reason").textContent.includes("refused the token")`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		reason, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".token-reason").textContent`))
		t.Fatalf("after a wrong token the prompt says %q (%v); want it to say the token was refused", reason, err)
	}
	answer(token)
	id, err := chromedp.Run(ctx, chromedp.Poll[string](`document.querySelector("#catalog-list .service")?.dataset.id`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil || id != "http:hello" {
		t.Fatalf("catalog after the token: %q %v", id, err)
	}
	kept, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("rpcbridge.adminToken")`))
	if err != nil || kept != token {
		t.Fatalf("sessionStorage holds %q (%v), want the token", kept, err)
	}
	if !seen.sent("Bearer wrong") || !seen.sent("Bearer "+token) {
		t.Errorf("the API did not see both tokens as Authorization: Bearer: %v", seen.seen)
	}

	// A reload reads the token from sessionStorage: no prompt, the page loads.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#catalog-list[data-loaded]") !== null`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatal(err)
	}
	if open, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](dialogOpen)); open {
		t.Error("the token prompt opened again after a reload")
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("console errors: %v", p)
	}
}
