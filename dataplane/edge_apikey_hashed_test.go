package dataplane_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// TestAPIKeyHashedAuth: a key set mixing a hashed key (a digest from a "sha256:" line) with a
// plaintext one, served by rpcbridge's real xDS server to the real embedded gateway (the
// rpcbridge-gateway snapshot, with the contract's digest filter), on every kind of upstream:
// the key of the digest passes and its client reaches the provider (x-client-id: header, gRPC
// metadata, Dubbo attachment) without the key; the plaintext key still passes; the digest
// itself sent as a key, and a wrong key, are 401. Neither key nor digest is logged.
func TestAPIKeyHashedAuth(t *testing.T) {
	const initechKey = "initech-key-0123456789"
	sum := sha256.Sum256([]byte(initechKey))
	digest := hex.EncodeToString(sum[:])
	s := startForwardingStack(t)
	g := apiKeyGateway(s, ir.APIKeyCredential{Client: "acme", Key: acmeKey}, ir.APIKeyCredential{Client: "initech", Digest: digest})
	for _, r := range g.Routes {
		r.Policy.APIKey.AllowedClients = nil
	}
	if err := s.xds.Update(g); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{httpPath, grpcPath, dubboAllPath, dubboIDPath} {
		eventually(t, path+" accepts the hashed key", func() error {
			// The route answered 200 before the update too: wait for the policy itself.
			if resp, _ := s.get(t, path, http.Header{"X-Tenant": {"t1"}}); resp.StatusCode != 401 {
				return fmt.Errorf("%s without a key: %d, want the policy's 401", path, resp.StatusCode)
			}
			if resp, text := s.get(t, path, http.Header{"X-Api-Key": {initechKey}, "X-Tenant": {"t1"}}); resp.StatusCode != 200 {
				return fmt.Errorf("%s: %d %s", path, resp.StatusCode, text)
			}
			return nil
		})
		got, _ := s.seen(t, path, http.Header{"X-Api-Key": {initechKey}, "X-Client-Id": {"root"}, "X-Tenant": {"t1"}})
		if got.Get("X-Client-Id") != "initech" || got.Get("X-Api-Key") != "" {
			t.Errorf("%s: the provider saw x-client-id %q and key %q, want initech and none", path, got.Get("X-Client-Id"), got.Get("X-Api-Key"))
		}
		if got, _ := s.seen(t, path, http.Header{"X-Api-Key": {acmeKey}, "X-Tenant": {"t1"}}); got.Get("X-Client-Id") != "acme" {
			t.Errorf("%s: plaintext key: x-client-id %q, want acme", path, got.Get("X-Client-Id"))
		}
		for name, key := range map[string]string{"the digest": digest, "a wrong key": "wrong-key-0123456789"} {
			resp, text := s.get(t, path, http.Header{"X-Api-Key": {key}, "X-Tenant": {"t1"}})
			if resp.StatusCode != 401 || text != "Client authentication failed." {
				t.Errorf("%s with %s: %d %q, want 401", path, name, resp.StatusCode, text)
			}
		}
	}
	for _, secret := range []string{initechKey, acmeKey, digest} {
		if strings.Contains(s.logs.String(), secret) {
			t.Errorf("the gateway's log shows a key or digest")
		}
	}
}
