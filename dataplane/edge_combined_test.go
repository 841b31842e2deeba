package dataplane_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/internal/jwttest"
)

// TestAllEdgeFiltersTogether: one policy with CORS, JWT, an API key and a per-subject rate limit
// on the HTTP, gRPC and Dubbo routes, through rpcbridge's xDS server and the real gateway: the
// filters run in Envoy's order — a preflight is answered although it carries neither token nor
// key, a request without a token is refused by jwt_authn (401) before api_key_auth sees it, one
// with a token but no key by api_key_auth (401), one with both reaches each upstream with the
// JWT subject and the key's client as identity headers (and not the client's forged copies), and
// the rate limit counts per JWT subject, so it runs after jwt_authn set the subject.
func TestAllEdgeFiltersTogether(t *testing.T) {
	s := startForwardingStack(t)
	key := jwttest.NewEC(t, "k1")
	policy := jwtPolicy(jwttest.JWKS(t, key))
	policy.IdentityHeaders = append(policy.IdentityHeaders, "x-client-id")
	policy.CORS = &ir.CORS{AllowOrigins: []ir.StringMatch{{Exact: "https://app.example.com"}}, AllowMethods: []string{"GET"}}
	policy.APIKey = &ir.APIKeyAuth{Sources: []ir.APIKeySource{{Header: "x-api-key"}},
		Credentials: []ir.APIKeyCredential{{Client: "acme", Key: "acme-key-0123456789"}}, ClientHeader: "x-client-id", HideCredentials: true}
	const perSubject = 4
	policy.RateLimit = &ir.RateLimit{Bucket: ir.TokenBucket{MaxTokens: 1000, TokensPerFill: 1000, FillInterval: time.Hour},
		PerClient: []ir.ClientRateLimit{{Key: ir.ClientHeader, Header: "x-user-sub",
			Bucket: ir.TokenBucket{MaxTokens: perSubject, TokensPerFill: 1, FillInterval: time.Hour}}}, MaxClients: 100}
	applyJWT(t, s, policy)

	token := func(sub string) string {
		return jwttest.Sign(t, key, map[string]any{"iss": jwtIssuer, "aud": "orders", "sub": sub,
			"org": map[string]any{"tenant": "t1"}, "exp": time.Now().Add(time.Hour).Unix()})
	}
	eventually(t, "the policy is served", func() error {
		if resp, _ := s.get(t, httpPath, nil); resp.StatusCode != http.StatusUnauthorized {
			return fmt.Errorf("no token: %d, want 401", resp.StatusCode)
		}
		return nil
	})
	preflight, err := http.NewRequest(http.MethodOptions, "http://"+s.gw.Addr().String()+httpPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	preflight.Header.Set("Origin", "https://app.example.com")
	preflight.Header.Set("Access-Control-Request-Method", "GET")
	resp, err := http.DefaultClient.Do(preflight)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("preflight: %d, allow-origin %q; want 200 answered by CORS before authentication", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if resp, body := s.get(t, httpPath, http.Header{"Authorization": {"Bearer " + token("alice")}}); resp.StatusCode != http.StatusUnauthorized ||
		body != "Client authentication failed." {
		t.Errorf("token without key: %d %q, want api_key_auth's 401", resp.StatusCode, body)
	}
	for _, path := range []string{httpPath, grpcPath, dubboAllPath} {
		got, resp := s.seen(t, path, http.Header{"Authorization": {"Bearer " + token("bob-"+path)}, "X-Api-Key": {"acme-key-0123456789"},
			"Origin": {"https://app.example.com"}, "X-Client-Id": {"forged"}, "X-User-Sub": {"forged"}})
		if got.Get("X-User-Sub") != "bob-"+path || got.Get("X-Client-Id") != "acme" || got.Get("X-Api-Key") != "" {
			t.Errorf("%s: upstream saw x-user-sub=%q x-client-id=%q x-api-key=%q; want the subject, acme, no key", path,
				got.Get("X-User-Sub"), got.Get("X-Client-Id"), got.Get("X-Api-Key"))
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Errorf("%s: allow-origin %q on the actual response", path, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	both := http.Header{"Authorization": {"Bearer " + token("carol")}, "X-Api-Key": {"acme-key-0123456789"}}
	limited := 0
	for range perSubject + 3 {
		if resp, _ := s.get(t, httpPath, both); resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 3 {
		t.Errorf("carol got %d × 429 of %d requests, want 3 (a bucket of %d per JWT subject)", limited, perSubject+3, perSubject)
	}
	if resp, _ := s.get(t, httpPath, http.Header{"Authorization": {"Bearer " + token("dave")}, "X-Api-Key": {"acme-key-0123456789"}}); resp.StatusCode != http.StatusOK {
		t.Errorf("another subject: %d, want 200 (its own bucket)", resp.StatusCode)
	}
}
