package dataplane_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

const (
	acmeKey    = "acme-key-0123456789"
	globexKey  = "globex-key-0123456789"
	rotatedKey = "acme-rotated-0123456789"
)

// apiKeyGateway is the stack's IR with every route behind an API key policy that forwards the
// client as x-client-id and hides the key; the HTTP route allows only acme. Each Dubbo route
// forwards x-client-id as an attachment, as transcoding adds a policy's identity headers.
func apiKeyGateway(s *forwardingStack, creds ...ir.APIKeyCredential) ir.Gateway {
	g := s.base
	g.Routes = nil
	for _, r := range s.base.Routes {
		a := &ir.APIKeyAuth{
			Sources:      []ir.APIKeySource{{Header: "x-api-key"}, {Query: "api_key"}},
			Credentials:  creds,
			ClientHeader: "x-client-id", HideCredentials: true,
		}
		if r.Name == "http" {
			a.AllowedClients = []string{"acme"}
		}
		r.Policy = &ir.EdgePolicy{Name: "partners", IdentityHeaders: []string{"x-client-id"}, APIKey: a}
		if r.Dubbo != nil && !slices.Contains(r.Dubbo.Attachments, "*") {
			d := *r.Dubbo
			d.Attachments = append(slices.Clone(d.Attachments), "x-client-id")
			r.Dubbo = &d
		}
		g.Routes = append(g.Routes, r)
	}
	return g
}

// TestAPIKeyAuth: through the real gateway, on every kind of upstream (the HTTP echo server,
// the grpc-go bookstore, the dubbo-go provider): no key and a wrong key are 401 "Client
// authentication failed.", a client the route does not allow 403 "Client is forbidden." (both
// text/plain, no WWW-Authenticate, as Envoy's api_key_auth answers); the right key reaches the
// provider with the client's name in x-client-id (gRPC metadata, Dubbo attachment) — a forged
// x-client-id is replaced — and without the key (hide_credentials). Rotating the keys reaches
// the running gateway; no key is ever logged, in the gateway's log or its access log (a key
// removed from the query is logged without it, as Envoy logs the path its filters left).
func TestAPIKeyAuth(t *testing.T) {
	access := &syncBuffer{}
	accessLog, err := telemetry.OpenAccessLog(telemetry.AccessLogConfig{Enabled: true}, access, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := startForwardingStack(t, func(o *dataplane.Options) { o.AccessLog = accessLog })
	if err = s.xds.Update(apiKeyGateway(s, ir.APIKeyCredential{Client: "acme", Key: acmeKey}, ir.APIKeyCredential{Client: "globex", Key: globexKey})); err != nil {
		t.Fatal(err)
	}
	refused := func(path string, h http.Header, status int, body string) error {
		resp, text := s.get(t, path, h)
		if resp.StatusCode != status || text != body || resp.Header.Get("Content-Type") != "text/plain" || resp.Header.Get("Www-Authenticate") != "" {
			return fmt.Errorf("%s: %d %q (content-type %q, www-authenticate %q), want %d %q", path, resp.StatusCode, text,
				resp.Header.Get("Content-Type"), resp.Header.Get("Www-Authenticate"), status, body)
		}
		return nil
	}
	for _, path := range []string{httpPath, grpcPath, dubboAllPath, dubboIDPath} {
		eventually(t, path+" asks for a key", func() error {
			return refused(path, http.Header{"X-Tenant": {"t1"}}, 401, "Client authentication failed.")
		})
		if err := refused(path, http.Header{"X-Api-Key": {"wrong-key-0123456789"}}, 401, "Client authentication failed."); err != nil {
			t.Error(err)
		}
		got, _ := s.seen(t, path, http.Header{"X-Api-Key": {acmeKey}, "X-Client-Id": {"root"}, "X-Tenant": {"t1"}})
		if got.Get("X-Client-Id") != "acme" {
			t.Errorf("%s: the provider saw x-client-id %q, want acme", path, got.Get("X-Client-Id"))
		}
		if got.Get("X-Api-Key") != "" {
			t.Errorf("%s: the provider saw the key (hide_credentials)", path)
		}
		if path == dubboAllPath && got.Get("X-Tenant") != "t1" {
			t.Errorf("%s: x-tenant = %q, want t1 (other headers go on)", path, got.Get("X-Tenant"))
		}
	}
	if err := refused(httpPath, http.Header{"X-Api-Key": {globexKey}}, 403, "Client is forbidden."); err != nil {
		t.Error(err)
	}
	if got, _ := s.seen(t, dubboAllPath+"?api_key="+globexKey, nil); got.Get("X-Client-Id") != "globex" || got.Get("X-Api-Key") != "" {
		t.Errorf("key in the query: x-client-id %q, want globex", got.Get("X-Client-Id"))
	}
	resp, text := s.get(t, httpPath+"?a=1&api_key="+acmeKey+"&b=2", nil)
	var e echo
	if err := json.Unmarshal([]byte(text), &e); resp.StatusCode != 200 || err != nil || e.Query != "a=1&b=2" || e.Headers.Get("X-Client-Id") != "acme" {
		t.Errorf("key in the query of an HTTP route: %d, upstream query %q x-client-id %q; want 200, a=1&b=2, acme", resp.StatusCode, e.Query, e.Headers.Get("X-Client-Id"))
	}

	// Rotation: acme's key is replaced; the old one is refused, the new one accepted.
	if err := s.xds.Update(apiKeyGateway(s, ir.APIKeyCredential{Client: "acme", Key: rotatedKey})); err != nil {
		t.Fatal(err)
	}
	eventually(t, "rotated key accepted", func() error {
		if resp, text := s.get(t, httpPath, http.Header{"X-Api-Key": {rotatedKey}}); resp.StatusCode != 200 {
			return fmt.Errorf("new key: %d %s", resp.StatusCode, text)
		}
		return nil
	})
	if err := refused(httpPath, http.Header{"X-Api-Key": {acmeKey}}, 401, "Client authentication failed."); err != nil {
		t.Errorf("old key after rotation: %v", err)
	}
	for _, k := range []string{acmeKey, globexKey, rotatedKey} {
		if strings.Contains(s.logs.String(), k) {
			t.Errorf("the gateway's log shows a key")
		}
		if strings.Contains(access.String(), k) {
			t.Errorf("the access log shows a key")
		}
	}
	if !strings.Contains(access.String(), `"path":"/http/anything?a=1\u0026b=2"`) && !strings.Contains(access.String(), `"path":"/http/anything?a=1&b=2"`) {
		t.Errorf("the access log does not show the path without the key: %s", access.String())
	}
}
