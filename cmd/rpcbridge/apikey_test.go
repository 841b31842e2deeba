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

// TestServeAPIKeyRotation: `rpcbridge serve` with an API key policy, and a standalone
// `rpcbridge gateway` following it: on both, a request without a key is 401, with the key 200
// and the client's name (not the forged one, not the key) reaches the backend; rewriting the
// key file rotates the keys in both running gateways (the old key 401, the new one 200) without
// a restart; no key appears in serve's or the gateway's log, the admin API's routes or its
// diagnostics.
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
	gw := startStandalone(t, "--xds", r.xds)
	gateways := []string{r.gateway, gw.listen}
	call := func(gateway, key string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+gateway+"/hello/x", nil)
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
	for _, gateway := range gateways {
		waitFor(t, gateway+": the key accepted", func() error {
			if code, body := call(gateway, oldKey); code != 200 || body != "client=acme key=" {
				return fmt.Errorf("with the key: %d %q, want 200 \"client=acme key=\"", code, body)
			}
			return nil
		})
		if code, body := call(gateway, ""); code != 401 || body != "Client authentication failed." {
			t.Errorf("%s without a key: %d %q, want 401", gateway, code, body)
		}
	}

	writeKeys("# rotated\nacme: " + newKey + "\n")
	for _, gateway := range gateways {
		waitFor(t, gateway+": the rotated key", func() error {
			if code, body := call(gateway, newKey); code != 200 {
				return fmt.Errorf("new key: %d %q", code, body)
			}
			return nil
		})
		if code, _ := call(gateway, oldKey); code != 401 {
			t.Errorf("%s: old key after rotation: %d, want 401", gateway, code)
		}
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
	for name, l := range map[string]string{"serve": logs.String(), "gateway": gw.stderr.String()} {
		if strings.Contains(l, oldKey) || strings.Contains(l, newKey) {
			t.Errorf("%s's log shows a key", name)
		}
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
