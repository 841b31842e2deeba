package admin_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/local"
)

// racingStore is a real store where another writer comes in once, between the API's read of
// a key and its write: it rewrites the key just before the API's Put.
type racingStore struct {
	kvstore.Store
	race atomic.Bool
}

func (s *racingStore) Put(ctx context.Context, key string, value []byte, rev int64) (int64, error) {
	if s.race.CompareAndSwap(true, false) {
		if _, err := s.Store.Put(ctx, key, []byte("other: sha256:"+strings.Repeat("0", 64)+"\n"), rev); err != nil {
			return 0, err
		}
	}
	return s.Store.Put(ctx, key, value, rev)
}

// apiKeysRequest sends one request to /api/v1/apikeys+path with the given headers.
func apiKeysRequest(t *testing.T, srv *httptest.Server, method, path, body string, headers ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/api/v1/apikeys"+path, strings.NewReader(body))
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

func digestOf(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// TestAPIKeySets: PUT hashes every plaintext key before it is written (the raw entry holds
// digests only), refuses an invalid key file with its line numbers and never echoes a key;
// GET shows clients and key counts, never a digest; writes are compare-and-set as for the
// rules (412 on a stale If-Match or a second If-None-Match: *, 409 when another writer came in
// between, 404 and 400 for what is not there or not a name).
func TestAPIKeySets(t *testing.T) {
	kv, err := local.Open(local.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kv.Close() })
	racing := &racingStore{Store: kv}
	srv := httptest.NewServer(admin.Handler(admin.Options{Ready: func() (bool, string) { return true, "" },
		APIKeys: &admin.APIKeysOptions{Store: racing, Prefix: "apikeys/"}}))
	t.Cleanup(srv.Close)

	const acme1, acme2, globex = "acme-key-one-0123456789", "acme-key-two-0123456789", "globex-key-0123456789"
	file := "# partners\nacme: " + acme1 + "\nacme: " + acme2 + "\nglobex: sha256:" + digestOf(globex) + "\n"

	if code, _, body := apiKeysRequest(t, srv, http.MethodGet, "/partners", ""); code != http.StatusNotFound || !strings.Contains(body, "not_found") {
		t.Errorf("GET of a missing set: %d %s", code, body)
	}
	bad := "acme: " + acme1 + "\nacme short-and-no-colon\nglobex: tiny\nacme: " + acme1 + "\n"
	code, _, body := apiKeysRequest(t, srv, http.MethodPut, "/partners", bad)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "invalid_apikeys") ||
		!strings.Contains(body, "line 2") || !strings.Contains(body, "line 3") || !strings.Contains(body, "line 4: the same key as line 1") {
		t.Errorf("invalid PUT: %d %s, want 422 naming lines 2, 3 and 4", code, body)
	}
	if strings.Contains(body, acme1) || strings.Contains(body, "tiny") {
		t.Errorf("the 422 echoes a key: %s", body)
	}
	if code, _, body := apiKeysRequest(t, srv, http.MethodPut, "/Not_A_Name", file); code != http.StatusBadRequest {
		t.Errorf("PUT of a bad name: %d %s", code, body)
	}
	if code, _, _ := apiKeysRequest(t, srv, http.MethodPut, "/partners", strings.Repeat("#", admin.MaxAPIKeysBytes+1)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize PUT: %d, want 413", code)
	}

	code, h, body := apiKeysRequest(t, srv, http.MethodPut, "/partners", file, "If-None-Match", "*")
	if code != http.StatusOK || h.Get("ETag") == "" {
		t.Fatalf("create: %d %s", code, body)
	}
	first := h.Get("ETag")
	raw, err := kv.Get(context.Background(), "apikeys/partners")
	if err != nil {
		t.Fatal(err)
	}
	want := "acme: sha256:" + digestOf(acme1) + "\nacme: sha256:" + digestOf(acme2) + "\nglobex: sha256:" + digestOf(globex) + "\n"
	if string(raw.Value) != want {
		t.Errorf("the store holds %q, want the digests only %q", raw.Value, want)
	}
	for _, k := range []string{acme1, acme2, globex} {
		if strings.Contains(string(raw.Value), k) {
			t.Errorf("the store holds a plaintext key")
		}
	}
	if code, _, _ := apiKeysRequest(t, srv, http.MethodPut, "/partners", file, "If-None-Match", "*"); code != http.StatusPreconditionFailed {
		t.Errorf("second create: %d, want 412", code)
	}

	code, h, body = apiKeysRequest(t, srv, http.MethodGet, "/partners", "")
	var got struct {
		Name     string `json:"name"`
		Revision int64  `json:"revision"`
		Clients  []struct {
			Client string `json:"client"`
			Keys   int    `json:"keys"`
		} `json:"clients"`
		Keys int `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &got); code != http.StatusOK || err != nil || h.Get("ETag") != first ||
		got.Keys != 3 || len(got.Clients) != 2 || got.Clients[0].Client != "acme" || got.Clients[0].Keys != 2 || got.Clients[1].Client != "globex" {
		t.Errorf("GET: %d %s %s (%v)", code, h.Get("ETag"), body, err)
	}
	for _, secret := range []string{acme1, digestOf(acme1), digestOf(globex), "sha256"} {
		if strings.Contains(body, secret) {
			t.Errorf("GET shows a key or a digest: %s", body)
		}
	}

	code, h, _ = apiKeysRequest(t, srv, http.MethodPut, "/partners", "acme: "+acme2+"\n", "If-Match", first)
	if code != http.StatusOK || h.Get("ETag") == first {
		t.Fatalf("rotate over the ETag: %d", code)
	}
	second := h.Get("ETag")
	if code, _, _ := apiKeysRequest(t, srv, http.MethodPut, "/partners", file, "If-Match", first); code != http.StatusPreconditionFailed {
		t.Errorf("PUT over a stale ETag: %d, want 412", code)
	}
	racing.race.Store(true)
	if code, _, body := apiKeysRequest(t, srv, http.MethodPut, "/partners", file); code != http.StatusConflict || !strings.Contains(body, "changed meanwhile") {
		t.Errorf("PUT with a writer in between: %d %s, want 409", code, body)
	}

	code, _, body = apiKeysRequest(t, srv, http.MethodGet, "", "")
	if code != http.StatusOK || !strings.Contains(body, `"name": "partners"`) || strings.Contains(body, "sha256") {
		t.Errorf("list: %d %s", code, body)
	}
	if code, _, _ := apiKeysRequest(t, srv, http.MethodDelete, "/partners", "", "If-Match", second); code != http.StatusPreconditionFailed {
		t.Errorf("DELETE over a stale ETag (the racing writer moved it): %d, want 412", code)
	}
	if code, _, _ := apiKeysRequest(t, srv, http.MethodDelete, "/partners", ""); code != http.StatusNoContent {
		t.Errorf("DELETE: %d", code)
	}
	if code, _, _ := apiKeysRequest(t, srv, http.MethodDelete, "/partners", ""); code != http.StatusNotFound {
		t.Errorf("DELETE of nothing: %d", code)
	}
	_ = kv.Close()
	if code, _, body := apiKeysRequest(t, srv, http.MethodPut, "/partners", file); code == http.StatusOK {
		t.Errorf("PUT on a closed store: %d %s", code, body)
	}
}
