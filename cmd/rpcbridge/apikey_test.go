package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeAPIKeyRotation: `rpcbridge serve` with an API key policy: a request without a key is
// 401, with the key 200 and the client's name reaches the backend; rewriting the key file
// rotates the keys in the running embedded gateway (the old key 401, the new one 200) without a
// restart; no key appears in serve's log, the admin API's routes or its diagnostics.
func TestServeAPIKeyRotation(t *testing.T) {
	srv := httptestEcho(t)
	keys := filepath.Join(t.TempDir(), "api-keys")
	writeKeys := func(text string) {
		tmp := keys + ".tmp"
		if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, keys); err != nil {
			t.Fatal(err)
		}
	}
	const oldKey, newKey = "acme-old-key-0123456789", "acme-new-key-0123456789"
	writeKeys("acme: " + oldKey + "\n")
	logs := newSyncBuffer()
	r := startServeLogging(t, httpServiceConfig(srv, fmt.Sprintf(`policies:
  - name: partners
    services: [hello]
    apiKey:
      keys: {file: %q}
      from: [{header: x-api-key}]
      clientHeader: x-client-id
      hideCredentials: true
`, keys)), logs)
	call := func(key string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+r.gateway+"/hello/x", nil)
		if key != "" {
			req.Header.Set("X-Api-Key", key)
		}
		req.Header.Set("X-Client-Id", "forged")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor(t, "the key accepted", func() error {
		if code, body := call(oldKey); code != 200 || body != "client=acme key=" {
			return fmt.Errorf("with the key: %d %q, want 200 \"client=acme key=\"", code, body)
		}
		return nil
	})
	if code, body := call(""); code != 401 || body != "Client authentication failed." {
		t.Errorf("without a key: %d %q, want 401", code, body)
	}

	writeKeys("# rotated\nacme: " + newKey + "\n")
	waitFor(t, "the rotated key to reach the gateway", func() error {
		if code, body := call(newKey); code != 200 {
			return fmt.Errorf("new key: %d %q", code, body)
		}
		return nil
	})
	if code, _ := call(oldKey); code != 401 {
		t.Errorf("old key after rotation: %d, want 401", code)
	}

	for _, path := range []string{"/api/v1/routes", "/api/v1/diagnostics"} {
		_, body, err := get("http://" + r.admin + path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(body, oldKey) || strings.Contains(body, newKey) {
			t.Errorf("%s shows a key", path)
		}
		if path == "/api/v1/routes" && !strings.Contains(body, "[redacted]") {
			t.Errorf("%s: no redacted credential in %s", path, body)
		}
	}
	if l := logs.String(); strings.Contains(l, oldKey) || strings.Contains(l, newKey) {
		t.Error("serve's log shows a key")
	}
}

// httptestEcho is an HTTP backend that answers with the client header and API key it received;
// it returns its port.
func httptestEcho(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "client=%s key=%s", strings.Join(r.Header.Values("X-Client-Id"), ","), r.Header.Get("X-Api-Key"))
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return port
}
