package admin_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/kvstore/local"
)

// rulesRequest sends one request to /api/v1/rules with the given headers.
func rulesRequest(t *testing.T, srv *httptest.Server, method, body string, headers ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/api/v1/rules", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestRulesCompareAndSet(t *testing.T) {
	kv, err := local.Open(local.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kv.Close() })
	srv := httptest.NewServer(admin.Handler(admin.Options{Ready: func() (bool, string) { return true, "" },
		Rules: &admin.RulesOptions{Store: kv, Key: "rules/current", Validate: func(data []byte) error {
			if strings.Contains(string(data), "bogus") {
				return errors.New("rules:2: unknown key \"bogus\"")
			}
			return nil
		}}}))
	t.Cleanup(srv.Close)

	if code, _, body := rulesRequest(t, srv, http.MethodGet, ""); code != http.StatusNotFound || !strings.Contains(body, "not_found") {
		t.Errorf("GET with no rules: %d %s", code, body)
	}
	if code, _, body := rulesRequest(t, srv, http.MethodPut, "routes:\n  - bogus: 1\n"); code != http.StatusUnprocessableEntity || !strings.Contains(body, "rules:2") {
		t.Errorf("invalid PUT: %d %s", code, body)
	}
	code, h, body := rulesRequest(t, srv, http.MethodPut, "routes: []\n", "If-None-Match", "*")
	if code != http.StatusOK || h.Get("ETag") == "" {
		t.Fatalf("create: %d %s", code, body)
	}
	first := h.Get("ETag")
	if code, _, body := rulesRequest(t, srv, http.MethodPut, "routes: []\n", "If-None-Match", "*"); code != http.StatusPreconditionFailed {
		t.Errorf("second create: %d %s", code, body)
	}
	code, h, _ = rulesRequest(t, srv, http.MethodPut, "rpcRoutes: []\n", "If-Match", first)
	if code != http.StatusOK || h.Get("ETag") == first {
		t.Fatalf("update over the ETag: %d", code)
	}
	second := h.Get("ETag")
	if code, _, _ := rulesRequest(t, srv, http.MethodPut, "routes: []\n", "If-Match", first); code != http.StatusPreconditionFailed {
		t.Errorf("update over a stale ETag: %d, want 412", code)
	}
	if code, h, body := rulesRequest(t, srv, http.MethodGet, ""); code != http.StatusOK || h.Get("ETag") != second || body != "rpcRoutes: []\n" {
		t.Errorf("GET: %d %s %q", code, h.Get("ETag"), body)
	}
	if code, _, _ := rulesRequest(t, srv, http.MethodDelete, "", "If-Match", first); code != http.StatusPreconditionFailed {
		t.Errorf("DELETE over a stale ETag: %d", code)
	}
	if code, _, _ := rulesRequest(t, srv, http.MethodDelete, ""); code != http.StatusNoContent {
		t.Errorf("DELETE: %d", code)
	}
	if code, _, _ := rulesRequest(t, srv, http.MethodDelete, ""); code != http.StatusNotFound {
		t.Errorf("DELETE of nothing: %d", code)
	}
	if code, _, _ := rulesRequest(t, srv, http.MethodPut, "routes: []\n", "If-Match", "nonsense"); code != http.StatusBadRequest {
		t.Errorf("a bad If-Match: %d", code)
	}
	_ = kv.Close()
	if code, _, body := rulesRequest(t, srv, http.MethodPut, "routes: []\n"); code == http.StatusOK {
		t.Errorf("PUT on a closed store: %d %s", code, body)
	}
}
