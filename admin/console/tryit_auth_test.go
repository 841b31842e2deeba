package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/admin/auth"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/browser"
)

// TestTryItOutWithAuth: with the admin API behind admin/auth, Swagger UI's "try it out" sends
// the tab's admin token to the forward (which needs read), and the forward removes it before
// the request reaches the gateway.
func TestTryItOutWithAuth(t *testing.T) {
	const token = "tryit-token-0123456789abcdef"
	file := filepath.Join(t.TempDir(), "t")
	if err := os.WriteFile(file, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeyring([]auth.Token{{Credential: auth.Credential{Name: "console", File: file},
		Scopes: []auth.Scope{auth.ScopeRead}}}, auth.KeyringOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan http.Header, 8)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hello" {
			seen <- r.Header.Clone()
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"greeting":"hi"}`)
	}))
	defer gw.Close()
	const doc = `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/hello":{"get":{"operationId":"hello","responses":{"200":{"description":"ok"}}}}}}`
	srv := httptest.NewServer(auth.Middleware(admin.Handler(admin.Options{
		State:   func() admin.State { return admin.State{} },
		Ready:   func() (bool, string) { return true, "ready" },
		OpenAPI: func(ir.Gateway, string) ([]byte, error) { return []byte(doc), nil },
		Gateway: func() string { return strings.TrimPrefix(gw.URL, "http://") },
	}), auth.MiddlewareOptions{Keyring: keys}))
	defer srv.Close()

	b := browser.Start(t)
	ctx := b.Ctx
	wait := chromedp.WithPollingTimeout(20 * time.Second)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/#api"),
		chromedp.Poll[chromedp.Void](`document.getElementById("token-dialog").open`, wait),
		chromedp.SendKeys(chromedp.CSS("#token-input"), token),
		chromedp.Click(chromedp.CSS("#token-ok")),
		chromedp.Poll[chromedp.Void](`!!document.querySelector(".opblock .opblock-summary-control")`, wait),
		chromedp.Click(chromedp.CSS(".opblock .opblock-summary-control")),
		chromedp.Poll[chromedp.Void](`!!document.querySelector(".opblock .try-out__btn")`, wait),
		chromedp.Click(chromedp.CSS(".opblock .try-out__btn")),
		chromedp.Click(chromedp.CSS(".opblock .execute")),
	); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("api")?.innerText ?? document.body.innerText`))
		t.Fatalf("try it out: %v; the page shows:\n%.2000s\nproblems: %v", err, html, b.Problems())
	}
	status, err := chromedp.Run(ctx, chromedp.Poll[string](
		`document.querySelector(".live-responses-table tr.response .response-col_status")?.textContent.trim()`, wait))
	if err != nil || status != "200" {
		t.Fatalf("Swagger UI shows status %q (%v), want 200 through the forward", status, err)
	}
	select {
	case h := <-seen:
		if h.Get("Authorization") != "" {
			t.Errorf("the gateway received Authorization %q: the admin token must not leave the admin address", h.Get("Authorization"))
		}
	default:
		t.Fatal("the gateway never received the try-it request")
	}
}
