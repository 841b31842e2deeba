package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeAPIKeyHashed: `rpcbridge serve` with a key file mixing a hashed key ("sha256:" and the
// key's SHA-256) and a plaintext one. The embedded gateway and a standalone `rpcbridge gateway`
// (node cluster rpcbridge-embedded) verify the hashed key: its key is 200 with its client, the
// digest itself sent as a key 401, a wrong key 401, the plaintext key 200. A standalone gateway
// in another node cluster gets what an Envoy gets: the route withheld (503), never open and
// never accepting the digest. Neither key nor digest is in the logs or the admin API.
func TestServeAPIKeyHashed(t *testing.T) {
	srv := httptestEcho(t)
	const hashedKey, plainKey = "initech-key-0123456789", "acme-key-0123456789"
	sum := sha256.Sum256([]byte(hashedKey))
	digest := hex.EncodeToString(sum[:])
	keys := filepath.Join(t.TempDir(), "api-keys")
	if err := os.WriteFile(keys, []byte("initech: sha256:"+digest+"\nacme: "+plainKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
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
	other := startStandalone(t, "--xds", r.xds, "--node-cluster", "edge")
	call := func(gateway, key string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+gateway+"/hello/x", nil)
		req.Header.Set("X-Api-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, gateway := range []string{r.gateway, gw.listen} {
		waitFor(t, gateway+": the hashed key accepted", func() error {
			if code, body := call(gateway, hashedKey); code != 200 || body != "client=initech key=" {
				return fmt.Errorf("with the hashed key: %d %q, want 200 \"client=initech key=\"", code, body)
			}
			return nil
		})
		if code, body := call(gateway, plainKey); code != 200 || body != "client=acme key=" {
			t.Errorf("%s with the plaintext key: %d %q", gateway, code, body)
		}
		for name, key := range map[string]string{"the digest": digest, "a wrong key": "wrong-key-0123456789"} {
			if code, body := call(gateway, key); code != 401 || body != "Client authentication failed." {
				t.Errorf("%s with %s: %d %q, want 401", gateway, name, code, body)
			}
		}
	}
	waitFor(t, "the other node cluster's gateway withholds the route", func() error {
		if code, body := call(other.listen, hashedKey); code != 503 || !strings.Contains(body, "hashed keys") {
			return fmt.Errorf("with the hashed key: %d %q, want 503 withheld", code, body)
		}
		return nil
	})
	for _, key := range []string{digest, plainKey} {
		if code, _ := call(other.listen, key); code != 503 {
			t.Errorf("other node cluster: %d, want 503", code)
		}
	}

	secrets := []string{hashedKey, plainKey, digest}
	for _, path := range []string{"/api/v1/routes", "/api/v1/diagnostics"} {
		_, body, err := get("http://" + r.admin + path)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("%s shows a key or digest", path)
			}
		}
	}
	for name, l := range map[string]string{"serve": logs.String(), "gateway": gw.stderr.String(), "other gateway": other.stderr.String()} {
		for _, s := range secrets {
			if strings.Contains(l, s) {
				t.Errorf("%s's log shows a key or digest", name)
			}
		}
	}
}
