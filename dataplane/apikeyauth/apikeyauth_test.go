package apikeyauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
)

const (
	acmeKey   = "acme-key-0123456789"
	globexKey = "globex-key-0123456789"
)

// routeConfig is the per-route config the control plane emits for a policy: everything set.
func routeConfig(allowed ...string) *apikeyv3.ApiKeyAuthPerRoute {
	return &apikeyv3.ApiKeyAuthPerRoute{
		Credentials:    []*apikeyv3.Credential{{Key: acmeKey, Client: "acme"}, {Key: globexKey, Client: "globex"}},
		KeySources:     []*apikeyv3.KeySource{{Header: "x-api-key"}, {Query: "api_key"}, {Cookie: "api_key"}},
		Forwarding:     &apikeyv3.Forwarding{Header: "x-client-id"},
		AllowedClients: allowed,
	}
}

func step(t *testing.T, base *apikeyv3.ApiKeyAuth, per *apikeyv3.ApiKeyAuthPerRoute) *Step {
	t.Helper()
	f, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.Step(per)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serve runs the step on a request and returns the answer (nil when the request went on) and
// the request that went on.
func serve(s *Step, r *http.Request) (*httptest.ResponseRecorder, *http.Request) {
	w := httptest.NewRecorder()
	next, ok := s.Serve(w, r)
	if ok {
		return nil, next
	}
	return w, nil
}

// TestAnswers: Envoy's answers for every outcome — 401 "Client authentication failed." for a
// missing or unknown key (an empty header value counts as missing and the next source is
// tried), 403 "Client is forbidden." for a client the route does not allow, text/plain bodies,
// no WWW-Authenticate; an allowed request goes on with the client header set.
func TestAnswers(t *testing.T) {
	cases := []struct {
		name       string
		per        *apikeyv3.ApiKeyAuthPerRoute
		target     string
		header     http.Header
		wantStatus int // 0: goes on
		wantClient string
	}{
		{"no key", routeConfig(), "/a", nil, 401, ""},
		{"wrong key", routeConfig(), "/a", http.Header{"X-Api-Key": {"not-a-key-0123456789"}}, 401, ""},
		{"right key in header", routeConfig(), "/a", http.Header{"X-Api-Key": {acmeKey}}, 0, "acme"},
		{"bearer prefix stripped", routeConfig(), "/a", http.Header{"X-Api-Key": {"Bearer " + acmeKey}}, 0, "acme"},
		{"lower-case bearer is part of the key", routeConfig(), "/a", http.Header{"X-Api-Key": {"bearer " + acmeKey}}, 401, ""},
		{"first header value", routeConfig(), "/a", http.Header{"X-Api-Key": {globexKey, acmeKey}}, 0, "globex"},
		{"query", routeConfig(), "/a?x=1&api_key=" + globexKey, nil, 0, "globex"},
		{"cookie", routeConfig(), "/a", http.Header{"Cookie": {`a=b; api_key="` + acmeKey + `"`}}, 0, "acme"},
		{"header wins over query", routeConfig(), "/a?api_key=" + globexKey, http.Header{"X-Api-Key": {acmeKey}}, 0, "acme"},
		{"wrong header key is not retried in the query", routeConfig(), "/a?api_key=" + globexKey, http.Header{"X-Api-Key": {"nope-nope-nope-nope"}}, 401, ""},
		{"empty header falls through to query", routeConfig(), "/a?api_key=" + globexKey, http.Header{"X-Api-Key": {""}}, 0, "globex"},
		{"allowed client", routeConfig("acme"), "/a", http.Header{"X-Api-Key": {acmeKey}}, 0, "acme"},
		{"client not allowed", routeConfig("acme"), "/a", http.Header{"X-Api-Key": {globexKey}}, 403, ""},
		{"unknown key before allowed clients", routeConfig("acme"), "/a", http.Header{"X-Api-Key": {"nope-nope-nope-nope"}}, 401, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", c.target, nil)
			for k, vs := range c.header {
				r.Header[k] = vs
			}
			w, next := serve(step(t, nil, c.per), r)
			if c.wantStatus == 0 {
				if w != nil {
					t.Fatalf("answered %d %q, want the request to go on", w.Code, w.Body)
				}
				if got := next.Header.Get("X-Client-Id"); got != c.wantClient {
					t.Errorf("x-client-id = %q, want %q", got, c.wantClient)
				}
				return
			}
			if w == nil {
				t.Fatalf("the request went on (x-client-id %q), want %d", next.Header.Get("X-Client-Id"), c.wantStatus)
			}
			body := UnauthorizedBody
			if c.wantStatus == 403 {
				body = ForbiddenBody
			}
			if w.Code != c.wantStatus || w.Body.String() != body || w.Header().Get("Content-Type") != "text/plain" {
				t.Errorf("answer %d %q (%s), want %d %q (text/plain)", w.Code, w.Body, w.Header().Get("Content-Type"), c.wantStatus, body)
			}
			if w.Header().Get("WWW-Authenticate") != "" {
				t.Errorf("WWW-Authenticate = %q; Envoy's api_key_auth sets none", w.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

// TestClientHeaderOverwrites: a client-sent copy of the forwarding header is replaced (Envoy's
// setCopy), never kept next to the real one.
func TestClientHeaderOverwrites(t *testing.T) {
	r := httptest.NewRequest("GET", "/a", nil)
	r.Header["X-Api-Key"] = []string{acmeKey}
	r.Header["X-Client-Id"] = []string{"root", "admin"}
	_, next := serve(step(t, nil, routeConfig()), r)
	if next == nil || strings.Join(next.Header.Values("X-Client-Id"), ",") != "acme" {
		t.Fatalf("x-client-id = %v, want [acme]", next.Header.Values("X-Client-Id"))
	}
}

// TestHideCredentials: with hide_credentials the key is removed from every source (header,
// query parameter, cookie) and the rest of the request is kept; without it the key goes on.
func TestHideCredentials(t *testing.T) {
	per := routeConfig()
	r := httptest.NewRequest("GET", "/a?x=1&api_key="+acmeKey+"&y=%2F", nil)
	r.Header["X-Api-Key"] = []string{acmeKey}
	r.Header["Cookie"] = []string{"a=b; api_key=" + acmeKey, "api_key=" + acmeKey}
	_, kept := serve(step(t, nil, per), r)
	if kept == nil || kept.Header.Get("X-Api-Key") != acmeKey || !strings.Contains(kept.URL.RawQuery, "api_key") {
		t.Fatalf("without hide_credentials the key must go on: %v %q", kept.Header, kept.URL.RawQuery)
	}
	per.Forwarding.HideCredentials = true
	_, next := serve(step(t, nil, per), r)
	if next == nil {
		t.Fatal("refused")
	}
	if next.Header.Get("X-Api-Key") != "" || next.URL.RawQuery != "x=1&y=%2F" || next.RequestURI != "/a?x=1&y=%2F" {
		t.Errorf("key left: header %q query %q uri %q", next.Header.Get("X-Api-Key"), next.URL.RawQuery, next.RequestURI)
	}
	if got := next.Header.Values("Cookie"); strings.Join(got, "|") != "a=b" {
		t.Errorf("cookies = %q, want [a=b]", got)
	}
	if next.Header.Get("X-Client-Id") != "acme" {
		t.Errorf("x-client-id = %q", next.Header.Get("X-Client-Id"))
	}
	if r.Header.Get("X-Api-Key") != acmeKey {
		t.Error("the original request was changed")
	}
}

// TestOverrides: per-route fields replace the filter-level ones one by one; a route without a
// per-route config runs the filter-level one and checks no allowed clients; missing key
// sources or credentials are 401s.
func TestOverrides(t *testing.T) {
	base := &apikeyv3.ApiKeyAuth{
		Credentials: []*apikeyv3.Credential{{Key: acmeKey, Client: "acme"}},
		KeySources:  []*apikeyv3.KeySource{{Header: "authorization"}},
		Forwarding:  &apikeyv3.Forwarding{Header: "x-base-client"},
	}
	req := func(h, v string) *http.Request {
		r := httptest.NewRequest("GET", "/a", nil)
		r.Header.Set(h, v)
		return r
	}
	if _, next := serve(step(t, base, nil), req("Authorization", "Bearer "+acmeKey)); next == nil || next.Header.Get("X-Base-Client") != "acme" {
		t.Error("filter-level config alone: want acme in x-base-client")
	}
	onlySources := &apikeyv3.ApiKeyAuthPerRoute{KeySources: []*apikeyv3.KeySource{{Header: "x-key"}}, AllowedClients: []string{"acme"}}
	if _, next := serve(step(t, base, onlySources), req("X-Key", acmeKey)); next == nil || next.Header.Get("X-Base-Client") != "acme" {
		t.Error("per-route key sources with the filter-level credentials and forwarding: want acme")
	}
	if w, _ := serve(step(t, base, onlySources), req("Authorization", acmeKey)); w == nil || w.Code != 401 {
		t.Error("the per-route key sources replace the filter-level ones: want 401")
	}
	if w, _ := serve(step(t, nil, &apikeyv3.ApiKeyAuthPerRoute{AllowedClients: []string{"acme"}}), req("X-Api-Key", acmeKey)); w == nil || w.Code != 401 {
		t.Error("no key sources and no credentials anywhere: want 401")
	}
	if w, _ := serve(step(t, &apikeyv3.ApiKeyAuth{KeySources: base.KeySources}, nil), req("Authorization", acmeKey)); w == nil || w.Code != 401 {
		t.Error("no credentials: want 401")
	}
}

// TestDecodeErrors: configurations Envoy refuses are refused (the route is then withheld).
func TestDecodeErrors(t *testing.T) {
	for name, cfg := range map[string]*apikeyv3.ApiKeyAuth{
		"empty key source": {KeySources: []*apikeyv3.KeySource{{}}},
		"empty key":        {Credentials: []*apikeyv3.Credential{{Client: "a"}}},
		"duplicate key":    {Credentials: []*apikeyv3.Credential{{Key: acmeKey, Client: "a"}, {Key: acmeKey, Client: "b"}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), acmeKey) {
			t.Errorf("%s: the error shows the key: %v", name, err)
		}
	}
}
