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
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/jwttest"
)

// identityBackend answers with the x-user-sub header it received and whether a token came along.
func identityBackend(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "sub=%s auth=%q", r.Header.Get("X-User-Sub"), r.Header.Get("Authorization"))
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return port
}

// getWithToken sends GET url with a bearer token (none when empty).
func getWithToken(url, token string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func jwtPolicyConfig(jwks string) string {
	return fmt.Sprintf(`policies:
  - name: web
    services: [hello]
    jwt:
      providers:
        - name: corp
          issuer: https://id.example.com
          jwks: %s
          claimHeaders: {sub: x-user-sub}
`, jwks)
}

// TestServeJWTKeyRotationInFile: a running serve verifies tokens with the keys of its JWKS file
// and follows the file: after the issuer rotates its key in the file, the embedded gateway
// accepts tokens of the new key and refuses those of the removed one, without a restart.
func TestServeJWTKeyRotationInFile(t *testing.T) {
	port := identityBackend(t)
	k1, k2 := jwttest.NewEC(t, "k1"), jwttest.NewEC(t, "k2")
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, []byte(jwttest.JWKS(t, k1)), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, httpServiceConfig(port, jwtPolicyConfig(fmt.Sprintf("{file: %q, refresh: 100ms}", file))))
	url := "http://" + srv.gateway + "/hello/x"
	claims := map[string]any{"iss": "https://id.example.com", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}
	old, next := jwttest.Sign(t, k1, claims), jwttest.Sign(t, k2, claims)

	waitFor(t, "the policy on the route", func() error {
		if code, body, err := getWithToken(url, ""); err != nil || code != http.StatusUnauthorized || body != "Jwt is missing" {
			return fmt.Errorf("no token: %d %q %v", code, body, err)
		}
		return nil
	})
	if code, body, err := getWithToken(url, old); err != nil || code != http.StatusOK || body != `sub=alice auth=""` {
		t.Fatalf("k1 token: %d %q %v, want 200 with the claim and without the token", code, body, err)
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(jwttest.JWKS(t, k2)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rotated key", func() error {
		if code, body, err := getWithToken(url, next); err != nil || code != http.StatusOK {
			return fmt.Errorf("k2 token: %d %q %v", code, body, err)
		}
		return nil
	})
	if code, body, _ := getWithToken(url, old); code != http.StatusUnauthorized || body != "Jwks doesn't have key to match kid or alg from Jwt" {
		t.Errorf("k1 token after rotation: %d %q, want 401", code, body)
	}
}

// TestServeJWKSURLOutageKeepsKeys: keys fetched from a JWKS URL keep verifying tokens after the
// URL goes down, with a policy.keys-stale diagnostic; a policy whose URL never answered has its
// routes withheld (503, policy.keys-unavailable), never served unchecked.
func TestServeJWKSURLOutageKeepsKeys(t *testing.T) {
	port := identityBackend(t)
	k1 := jwttest.NewEC(t, "k1")
	set := jwttest.JWKS(t, k1)
	var down atomic.Bool
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, set)
	}))
	t.Cleanup(keys.Close)
	dead := "http://" + freeAddr(t) + "/jwks"
	cfg := httpServiceConfig(port, jwtPolicyConfig(fmt.Sprintf("{url: %q, refresh: 100ms, timeout: 1s}", keys.URL))+
		fmt.Sprintf(`  - name: never
    jwt:
      providers:
        - {name: corp, jwks: {url: %q, refresh: 100ms, timeout: 1s}}
routes:
  - {service: hello, pathPrefix: /hello/}
  - {service: hello, pathPrefix: /never/, policy: never}
`, dead))
	srv := startServe(t, cfg)
	tok := jwttest.Sign(t, k1, map[string]any{"iss": "https://id.example.com", "sub": "alice"})
	waitFor(t, "the fetched keys", func() error {
		if code, body, err := getWithToken("http://"+srv.gateway+"/hello/x", tok); err != nil || code != http.StatusOK || !strings.HasPrefix(body, "sub=alice") {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})
	if code, body, _ := getWithToken("http://"+srv.gateway+"/never/x", tok); code != http.StatusServiceUnavailable {
		t.Errorf("route of a policy without keys: %d %q, want 503", code, body)
	}
	down.Store(true)
	waitFor(t, "the stale-keys diagnostic", func() error {
		_, body, err := get("http://" + srv.admin + "/api/v1/diagnostics")
		if err != nil || !strings.Contains(body, "policy.keys-stale") || !strings.Contains(body, "policy.keys-unavailable") {
			return fmt.Errorf("diagnostics %s %v", body, err)
		}
		return nil
	})
	if code, body, err := getWithToken("http://"+srv.gateway+"/hello/x", tok); err != nil || code != http.StatusOK {
		t.Errorf("during the JWKS outage: %d %q %v, want the last keys to keep verifying", code, body, err)
	}
}

// TestServeJWTPolicyFromTheStore: a JWT policy pushed with the store's rules (store.rules) gets
// its key set read like a policy of the file: its route verifies tokens instead of being withheld.
func TestServeJWTPolicyFromTheStore(t *testing.T) {
	port := identityBackend(t)
	k1 := jwttest.NewEC(t, "k1")
	file := writeFile(t, t.TempDir(), "jwks.json", jwttest.JWKS(t, k1))
	srv := startServe(t, "store:\n  type: local\n  rules: true\n"+httpServiceConfig(port, ""))
	rules := writeFile(t, t.TempDir(), "rules.yaml", fmt.Sprintf(`policies:
  - name: pushed
    jwt:
      providers:
        - {name: corp, jwks: {file: %q, refresh: 100ms}, claimHeaders: {sub: x-user-sub}}
routes:
  - {service: hello, pathPrefix: /pushed/, policy: pushed}
`, file))
	if code, out, stderr := runCLI(t, t.Context(), "rules", "push", rules, "--create", "--admin", "http://"+srv.admin); code != exitOK {
		t.Fatalf("rules push: exit %d %s %s", code, out, stderr)
	}
	tok := jwttest.Sign(t, k1, map[string]any{"sub": "bob"})
	waitFor(t, "the pushed policy verifying tokens", func() error {
		if code, body, err := getWithToken("http://"+srv.gateway+"/pushed/x", tok); err != nil || code != http.StatusOK || !strings.HasPrefix(body, "sub=bob") {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})
	if code, body, _ := getWithToken("http://"+srv.gateway+"/pushed/x", ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d %q, want 401", code, body)
	}
}
