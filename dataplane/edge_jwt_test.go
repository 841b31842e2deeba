package dataplane_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/internal/jwttest"
)

// jwtPolicy is a policy verifying tokens of issuer jwtIssuer with keys, copying sub and the
// tenant claim into identity headers.
func jwtPolicy(keys string) *ir.EdgePolicy {
	return &ir.EdgePolicy{Name: "partners", IdentityHeaders: []string{"x-tenant", "x-user-sub"}, JWT: &ir.JWT{
		Providers: []ir.JWTProvider{{Name: "corp", Issuer: jwtIssuer, Audiences: []string{"orders"}, JWKS: keys,
			ClaimHeaders: []ir.JWTClaimHeader{{Claim: "org.tenant", Header: "x-tenant"}, {Claim: "sub", Header: "x-user-sub"}}}},
	}}
}

const jwtIssuer = "https://id.example.com"

// applyJWT serves the stack's routes with policy, the Dubbo route's attachments including the
// identity headers (what transcoding's forwardIdentity gives a Dubbo route of a policy).
func applyJWT(t *testing.T, s *forwardingStack, policy *ir.EdgePolicy) {
	t.Helper()
	g := s.base
	g.Routes = nil
	for _, r := range s.base.Routes {
		r.Policy = policy
		if r.Dubbo != nil && !slices.Contains(r.Dubbo.Attachments, "*") {
			d := *r.Dubbo
			d.Attachments = append(slices.Clone(d.Attachments), policy.IdentityHeaders...)
			r.Dubbo = &d
		}
		g.Routes = append(g.Routes, r)
	}
	if err := s.xds.Update(g); err != nil {
		t.Fatal(err)
	}
}

// TestJWTThroughTheGateway: through rpcbridge's xDS server and the real gateway, a JWT policy
// refuses a request without a token (401, Envoy's body and WWW-Authenticate) or with a token of
// the wrong audience (403), and passes a valid token's claims, never the token, to every kind of
// upstream: HTTP headers at the echo server, gRPC metadata at the grpc-go bookstore, Dubbo
// attachments at the dubbo-go provider; a client's own x-user-sub is dropped. Rotating the key
// set (a new push) makes the new key's tokens pass and the old key's fail.
func TestJWTThroughTheGateway(t *testing.T) {
	s := startForwardingStack(t)
	k1, k2 := jwttest.NewEC(t, "k1"), jwttest.NewRSA(t, "k2")
	applyJWT(t, s, jwtPolicy(jwttest.JWKS(t, k1)))
	claims := map[string]any{"iss": jwtIssuer, "aud": "orders", "sub": "alice", "org": map[string]any{"tenant": "t1"},
		"exp": time.Now().Add(time.Hour).Unix()}
	tok1 := jwttest.Sign(t, k1, claims)

	eventually(t, "401 without a token", func() error {
		resp, body := s.get(t, httpPath, nil)
		want := fmt.Sprintf(`Bearer realm="http://%s%s"`, s.gw.Addr(), httpPath)
		if resp.StatusCode != http.StatusUnauthorized || body != "Jwt is missing" || resp.Header.Get("WWW-Authenticate") != want {
			return fmt.Errorf("%d %q WWW-Authenticate %q, want 401 \"Jwt is missing\" %q", resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"), want)
		}
		return nil
	})
	wrongAud := jwttest.Sign(t, k1, map[string]any{"iss": jwtIssuer, "aud": "billing", "sub": "alice"})
	if resp, body := s.get(t, httpPath, http.Header{"Authorization": {"Bearer " + wrongAud}}); resp.StatusCode != http.StatusForbidden ||
		body != "Audiences in Jwt are not allowed" || !strings.HasSuffix(resp.Header.Get("WWW-Authenticate"), `, error="invalid_token"`) {
		t.Errorf("wrong audience: %d %q %q, want 403", resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
	}
	for _, path := range []string{httpPath, grpcPath, dubboIDPath} {
		got, _ := s.seen(t, path, http.Header{"Authorization": {"Bearer " + tok1}, "X-User-Sub": {"forged"}})
		if got.Get("X-User-Sub") != "alice" || len(got.Values("X-User-Sub")) != 1 || got.Get("X-Tenant") != "t1" || got.Get("Authorization") != "" {
			t.Errorf("%s: upstream saw x-user-sub=%q x-tenant=%q authorization=%q; want alice, t1 and no token",
				path, got.Values("X-User-Sub"), got.Get("X-Tenant"), got.Get("Authorization"))
		}
	}

	applyJWT(t, s, jwtPolicy(jwttest.JWKS(t, k2)))
	tok2 := jwttest.Sign(t, k2, claims)
	eventually(t, "the rotated key set", func() error {
		if resp, body := s.get(t, httpPath, http.Header{"Authorization": {"Bearer " + tok1}}); resp.StatusCode != http.StatusUnauthorized ||
			body != "Jwks doesn't have key to match kid or alg from Jwt" {
			return fmt.Errorf("old key's token: %d %q", resp.StatusCode, body)
		}
		return nil
	})
	if got, _ := s.seen(t, dubboIDPath, http.Header{"Authorization": {"Bearer " + tok2}}); got.Get("X-User-Sub") != "alice" {
		t.Errorf("new key's token: the provider saw x-user-sub=%q, want alice", got.Get("X-User-Sub"))
	}
}
