package routetable_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// TestDisabledAPIKeyFilter: the connection manager's api_key_auth filter is disabled, so it runs
// only on the routes whose typed_per_filter_config enables it (as Envoy enables a disabled
// filter for such a route); a per-route config that does not decode withholds its route; an
// unknown disabled filter withholds only the routes that enable it.
func TestDisabledAPIKeyFilter(t *testing.T) {
	l := xdsfixture.Listener(listenerName, "rc")
	hcm := &hcmv3.HttpConnectionManager{}
	if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(hcm); err != nil {
		t.Fatal(err)
	}
	base, _ := anypb.New(&apikeyv3.ApiKeyAuth{})
	empty, _ := anypb.New(&emptypb.Empty{})
	hcm.HttpFilters = append([]*hcmv3.HttpFilter{
		{Name: "envoy.filters.http.api_key_auth", Disabled: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: base}},
		{Name: "example.filters.http.unknown", Disabled: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: empty}},
	}, hcm.HttpFilters...)
	l = xdsfixture.ListenerWithHCM(listenerName, proto.Clone(hcm).(*hcmv3.HttpConnectionManager))

	per, _ := anypb.New(&apikeyv3.ApiKeyAuthPerRoute{
		Credentials: []*apikeyv3.Credential{{Key: "acme-key-0123456789", Client: "acme"}},
		KeySources:  []*apikeyv3.KeySource{{Header: "x-api-key"}},
	})
	keyed := xdsfixture.PrefixRoute("/keyed/", "c")
	keyed.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.api_key_auth": per}
	bad := xdsfixture.PrefixRoute("/bad/", "c")
	bad.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.api_key_auth": empty}
	unknown := xdsfixture.PrefixRoute("/unknown/", "c")
	unknown.TypedPerFilterConfig = map[string]*anypb.Any{"example.filters.http.unknown": empty}
	table, err := routetable.Build(resources([]*listenerv3.Listener{l},
		[]*routev3.RouteConfiguration{xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"},
			keyed, bad, unknown, xdsfixture.PrefixRoute("/", "c")))}, nil, nil), listenerName)
	if err != nil {
		t.Fatal(err)
	}
	match := func(path string) *routetable.Route {
		r := table.Match(httptest.NewRequest("GET", path, nil))
		if r == nil {
			t.Fatalf("%s: no route", path)
		}
		return r
	}
	if r := match("/keyed/x"); r.Withheld != "" || len(r.Edge) != 1 {
		t.Errorf("/keyed/: withheld %q, %d steps; want the api_key_auth step", r.Withheld, len(r.Edge))
	} else if w := httptest.NewRecorder(); func() bool { _, ok := r.Edge[0].Serve(w, httptest.NewRequest("GET", "/keyed/x", nil)); return ok }() || w.Code != 401 {
		t.Errorf("/keyed/ without a key: answered %d, want 401", w.Code)
	}
	if r := match("/bad/x"); !strings.Contains(r.Withheld, "ApiKeyAuthPerRoute") {
		t.Errorf("/bad/: withheld = %q, want withheld (per-route config does not decode)", r.Withheld)
	}
	if r := match("/unknown/x"); !strings.Contains(r.Withheld, "example.filters.http.unknown") {
		t.Errorf("/unknown/: withheld = %q, want withheld (enables a filter the gateway does not execute)", r.Withheld)
	}
	if r := match("/open"); r.Withheld != "" || len(r.Edge) != 0 {
		t.Errorf("/open: withheld %q, %d steps; want neither (the filters are disabled)", r.Withheld, len(r.Edge))
	}
}

// TestAPIKeyDigestFilter: the contract's digest filter (gatewayv1.APIKeyDigestAuthFilter) runs
// on the routes that enable it, comparing the presented key's SHA-256 with the credentials (the
// digest itself is refused); a filter config of an algorithm this gateway does not read withholds
// those routes, and a route without the filter's config is not touched.
func TestAPIKeyDigestFilter(t *testing.T) {
	const key = "initech-key-0123456789"
	sum := sha256.Sum256([]byte(key))
	digest := hex.EncodeToString(sum[:])
	per, _ := anypb.New(&apikeyv3.ApiKeyAuthPerRoute{
		Credentials: []*apikeyv3.Credential{{Key: digest, Client: "initech"}},
		KeySources:  []*apikeyv3.KeySource{{Header: "x-api-key"}},
	})
	build := func(t *testing.T, algorithm gatewayv1.DigestAlgorithm) *routetable.Table {
		t.Helper()
		l := xdsfixture.Listener(listenerName, "rc")
		hcm := &hcmv3.HttpConnectionManager{}
		if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(hcm); err != nil {
			t.Fatal(err)
		}
		cfg, err := anypb.New(&gatewayv1.APIKeyDigestAuth{Algorithm: algorithm})
		if err != nil {
			t.Fatal(err)
		}
		hcm.HttpFilters = append([]*hcmv3.HttpFilter{
			{Name: gatewayv1.APIKeyDigestAuthFilter, Disabled: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}},
		}, hcm.HttpFilters...)
		l = xdsfixture.ListenerWithHCM(listenerName, hcm)
		hashed := xdsfixture.PrefixRoute("/hashed/", "c")
		hashed.TypedPerFilterConfig = map[string]*anypb.Any{gatewayv1.APIKeyDigestAuthFilter: per}
		table, err := routetable.Build(resources([]*listenerv3.Listener{l},
			[]*routev3.RouteConfiguration{xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"},
				hashed, xdsfixture.PrefixRoute("/", "c")))}, nil, nil), listenerName)
		if err != nil {
			t.Fatal(err)
		}
		return table
	}
	status := func(r *routetable.Route, presented string) int {
		req := httptest.NewRequest("GET", "/hashed/x", nil)
		req.Header.Set("X-Api-Key", presented)
		w := httptest.NewRecorder()
		for _, s := range r.Edge {
			if _, ok := s.Serve(w, req); !ok {
				return w.Code
			}
		}
		return 200
	}

	table := build(t, gatewayv1.DigestAlgorithm_DIGEST_ALGORITHM_SHA256)
	r := table.Match(httptest.NewRequest("GET", "/hashed/x", nil))
	if r == nil || r.Withheld != "" || len(r.Edge) != 1 {
		t.Fatalf("/hashed/: %+v, want one step", r)
	}
	for presented, want := range map[string]int{key: 200, digest: 401, "wrong-key-0123456789": 401} {
		if got := status(r, presented); got != want {
			t.Errorf("key %.12s…: %d, want %d", presented, got, want)
		}
	}
	if open := table.Match(httptest.NewRequest("GET", "/open", nil)); open.Withheld != "" || len(open.Edge) != 0 {
		t.Errorf("/open: withheld %q, %d steps; want neither", open.Withheld, len(open.Edge))
	}

	table = build(t, gatewayv1.DigestAlgorithm(7))
	if r := table.Match(httptest.NewRequest("GET", "/hashed/x", nil)); !strings.Contains(r.Withheld, "digest algorithm") {
		t.Errorf("unknown algorithm: withheld = %q, want withheld", r.Withheld)
	}
	if open := table.Match(httptest.NewRequest("GET", "/open", nil)); open.Withheld != "" {
		t.Errorf("unknown algorithm: /open withheld %q", open.Withheld)
	}
}
