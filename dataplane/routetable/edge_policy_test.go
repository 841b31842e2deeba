package routetable_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// edgeListener is the fixture listener with the CORS and local rate limit filters before the
// router, as rpcbridge emits them.
func edgeListener(t *testing.T) *listenerv3.Listener {
	t.Helper()
	l := xdsfixture.Listener(listenerName, "rc")
	m := &hcmv3.HttpConnectionManager{}
	if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(m); err != nil {
		t.Fatal(err)
	}
	cors, _ := anypb.New(&corsv3.Cors{})
	limit, _ := anypb.New(&localratelimitv3.LocalRateLimit{StatPrefix: "http_local_rate_limiter"})
	m.HttpFilters = append([]*hcmv3.HttpFilter{
		{Name: "envoy.filters.http.cors", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cors}},
		{Name: "envoy.filters.http.local_ratelimit", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: limit}},
	}, m.HttpFilters...)
	return xdsfixture.ListenerWithHCM(listenerName, proto.Clone(m).(*hcmv3.HttpConnectionManager))
}

// limitedRoute is a route with a per-route local rate limit of max tokens (none refilled during
// a test).
func limitedRoute(t *testing.T, name, prefix string, maxTokens uint32) *routev3.Route {
	t.Helper()
	all := &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100}}
	cfg, err := anypb.New(&localratelimitv3.LocalRateLimit{StatPrefix: "http_local_rate_limiter",
		TokenBucket:   &typev3.TokenBucket{MaxTokens: maxTokens, TokensPerFill: wrapperspb.UInt32(1), FillInterval: durationpb.New(time.Hour)},
		FilterEnabled: all, FilterEnforced: all})
	if err != nil {
		t.Fatal(err)
	}
	r := xdsfixture.PrefixRoute(prefix, "c")
	r.Name = name
	r.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.local_ratelimit": cfg}
	return r
}

// passes counts how many of n requests to path the table's edge steps let through.
func passes(table *routetable.Table, path string, n int) int {
	passed := 0
	for range n {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		route := table.Match(r)
		ok := route != nil && route.Withheld == ""
		for _, s := range route.Edge {
			if _, ok = s.Serve(httptest.NewRecorder(), r); !ok {
				break
			}
		}
		if ok {
			passed++
		}
	}
	return passed
}

// TestRateLimitBucketsSurviveUpdates: a new routing table keeps the buckets of a route whose
// LocalRateLimit is unchanged (a push must not refill them), and starts a changed route's
// buckets full.
func TestRateLimitBucketsSurviveUpdates(t *testing.T) {
	build := func(previous *routetable.Table, bMax uint32, extra ...*routev3.Route) *routetable.Table {
		routes := append([]*routev3.Route{limitedRoute(t, "a", "/a/", 3), limitedRoute(t, "b", "/b/", bMax)}, extra...)
		table, err := routetable.BuildReusing(resources([]*listenerv3.Listener{edgeListener(t)},
			[]*routev3.RouteConfiguration{xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"}, routes...))},
			nil, nil), listenerName, previous)
		if err != nil {
			t.Fatal(err)
		}
		return table
	}
	first := build(nil, 3)
	if got := passes(first, "/a/x", 5); got != 3 {
		t.Fatalf("first table: %d of 5 passed /a/, want 3", got)
	}
	if got := passes(first, "/b/x", 5); got != 3 {
		t.Fatalf("first table: %d of 5 passed /b/, want 3", got)
	}
	second := build(first, 4, xdsfixture.PrefixRoute("/c/", "c"))
	if got := passes(second, "/a/x", 5); got != 0 {
		t.Errorf("after an update that left route a alone: %d of 5 passed, want 0 (its buckets kept)", got)
	}
	if got := passes(second, "/b/x", 5); got != 4 {
		t.Errorf("after an update that changed route b's limit: %d of 5 passed, want 4 (a new bucket)", got)
	}
}

// TestCORSPassesOverDirectResponses: as Envoy's filter (a direct response has no route entry),
// the CORS filter does nothing on a direct-response route even when its virtual host has a
// CorsPolicy, and answers preflights on routes with a cluster.
func TestCORSPassesOverDirectResponses(t *testing.T) {
	policy, _ := anypb.New(&corsv3.CorsPolicy{AllowOriginStringMatch: []*matcherv3.StringMatcher{{
		MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "https://app.example.com"}}}, ForwardNotMatchingPreflights: wrapperspb.Bool(false)})
	direct := &routev3.Route{Name: "direct", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/direct/"}},
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 204}}}
	vh := xdsfixture.VirtualHost("vh", []string{"*"}, direct, xdsfixture.PrefixRoute("/", "c"))
	vh.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.cors": policy}
	table, err := routetable.Build(resources([]*listenerv3.Listener{edgeListener(t)},
		[]*routev3.RouteConfiguration{xdsfixture.RouteConfig("rc", vh)}, nil, nil), listenerName)
	if err != nil {
		t.Fatal(err)
	}
	preflight := func(path string) *http.Request {
		r := httptest.NewRequest(http.MethodOptions, path, nil)
		r.Header.Set("Origin", "https://app.example.com")
		r.Header.Set("Access-Control-Request-Method", "GET")
		return r
	}
	if got := len(table.Match(preflight("/direct/x")).Edge); got != 0 {
		t.Errorf("direct-response route has %d edge steps, want none", got)
	}
	r := preflight("/x")
	steps := table.Match(r).Edge
	if len(steps) != 1 {
		t.Fatalf("cluster route has %d edge steps, want the CORS one", len(steps))
	}
	w := httptest.NewRecorder()
	if _, next := steps[0].Serve(w, r); next || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("preflight on a cluster route: continued=%v allow-origin=%q, want answered with the origin", next, w.Header().Get("Access-Control-Allow-Origin"))
	}
}

// TestPerRouteRateLimitNeedsBucket: a per-route LocalRateLimit without token_bucket (which
// Envoy refuses) withholds its route.
func TestPerRouteRateLimitNeedsBucket(t *testing.T) {
	r := limitedRoute(t, "a", "/", 1)
	cfg, _ := anypb.New(&localratelimitv3.LocalRateLimit{StatPrefix: "x"})
	r.TypedPerFilterConfig["envoy.filters.http.local_ratelimit"] = cfg
	table, err := routetable.Build(resources([]*listenerv3.Listener{edgeListener(t)},
		[]*routev3.RouteConfiguration{xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"}, r))}, nil, nil), listenerName)
	if err != nil {
		t.Fatal(err)
	}
	if got := table.Match(httptest.NewRequest(http.MethodGet, "/x", nil)).Withheld; got == "" {
		t.Errorf("route without a token bucket is served")
	}
}
