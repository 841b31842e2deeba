package routetable_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// hv is one request_headers_to_add entry.
func hv(key, value string, action corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: key, Value: value}, AppendAction: action}
}

// headerTable builds a table of one route configuration rc and returns the route that a request
// to path matches.
func headerTable(t *testing.T, rc *routev3.RouteConfiguration) *routetable.Table {
	t.Helper()
	table, err := routetable.Build(resources([]*listenerv3.Listener{xdsfixture.Listener(listenerName, rc.GetName())},
		[]*routev3.RouteConfiguration{rc}, nil, nil), listenerName)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

const (
	appendOrAdd     = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
	addIfAbsent     = corev3.HeaderValueOption_ADD_IF_ABSENT
	overwriteOrAdd  = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
	overwriteExists = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS
)

// TestRouteRequestHeaders: the router's request_headers_to_add and request_headers_to_remove of
// a route, its virtual host and its route configuration, evaluated as Envoy's HeaderParser does:
// each level removes first, decides its additions against the headers before it adds anything,
// overwrites, then appends; levels run route, virtual host, route configuration (so the least
// specific wins an overwrite), and the other way round with most_specific_header_mutations_wins.
// The request the mutations are applied to is left unchanged.
func TestRouteRequestHeaders(t *testing.T) {
	build := func(mostSpecificWins bool) *routetable.Route {
		route := xdsfixture.PrefixRoute("/", "c")
		route.RequestHeadersToRemove = []string{"tri-service-version", "x-drop"}
		route.RequestHeadersToAdd = []*corev3.HeaderValueOption{
			hv("tri-service-version", "2.0.0", overwriteOrAdd),
			hv("x-level", "route", overwriteOrAdd),
			hv("x-list", "a", appendOrAdd),
			// ADD_IF_ABSENT and OVERWRITE_IF_EXISTS look at the headers as they were before this
			// level added anything: x-new was absent, so it is not overwritten but added again.
			hv("x-new", "n", appendOrAdd),
			hv("x-new", "overwritten", overwriteExists),
			hv("x-new", "again", addIfAbsent),
			hv("x-only-if", "never", overwriteExists),
			hv("x-present", "no", addIfAbsent),
			hv("x-client", "replaced", overwriteExists),
			hv("x-pct", "100%% sure", appendOrAdd),
			hv("x-empty", "", appendOrAdd),
			{Header: &corev3.HeaderValue{Key: "x-kept-empty"}, KeepEmptyValue: true},
			{Header: &corev3.HeaderValue{Key: "x-legacy", Value: "legacy"}, Append: wrapperspb.Bool(false)},
		}
		vh := xdsfixture.VirtualHost("vh", []string{"*"}, route)
		vh.RequestHeadersToAdd = []*corev3.HeaderValueOption{hv("x-level", "vhost", overwriteOrAdd), hv("x-list", "b", appendOrAdd)}
		rc := xdsfixture.RouteConfig("rc", vh)
		rc.RequestHeadersToAdd = []*corev3.HeaderValueOption{hv("x-level", "global", overwriteOrAdd)}
		rc.MostSpecificHeaderMutationsWins = mostSpecificWins
		r := headerTable(t, rc).Match(httptest.NewRequest(http.MethodGet, "/x", nil))
		if r == nil || r.Withheld != "" || r.RequestHeaders == nil {
			t.Fatalf("route %+v, want one with request headers", r)
		}
		return r
	}
	in := httptest.NewRequest(http.MethodGet, "/x", nil)
	in.Header.Set("Tri-Service-Version", "9.9.9")
	in.Header.Set("X-Drop", "gone")
	in.Header.Set("X-Present", "client")
	in.Header.Set("X-Client", "client")
	in.Header.Set("X-Legacy", "old")
	want := map[string][]string{
		"Tri-Service-Version": {"2.0.0"}, "X-Level": {"global"}, "X-List": {"a", "b"}, "X-New": {"n", "again"},
		"X-Present": {"client"}, "X-Client": {"replaced"}, "X-Pct": {"100% sure"},
		"X-Kept-Empty": {""}, "X-Legacy": {"legacy"},
	}
	out := build(false).RequestHeaders.Apply(in)
	for k, v := range want {
		if got := out.Header.Values(k); !slices.Equal(got, v) {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"X-Drop", "X-Only-If", "X-Empty"} {
		if _, ok := out.Header[k]; ok {
			t.Errorf("%s = %q, want no such header", k, out.Header.Values(k))
		}
	}
	if in.Header.Get("Tri-Service-Version") != "9.9.9" || in.Header.Get("X-Drop") != "gone" || in.Header.Get("X-Level") != "" {
		t.Errorf("the request given was changed: %v", in.Header)
	}
	if got := build(true).RequestHeaders.Apply(in).Header.Values("X-Level"); !slices.Equal(got, []string{"route"}) {
		t.Errorf("with most_specific_header_mutations_wins X-Level = %q, want the route's", got)
	}
}

// TestRouteRequestHeadersNone: a route without request header mutations at any level has none.
func TestRouteRequestHeadersNone(t *testing.T) {
	r := headerTable(t, xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"}, xdsfixture.PrefixRoute("/", "c")))).
		Match(httptest.NewRequest(http.MethodGet, "/x", nil))
	if r == nil || r.RequestHeaders != nil {
		t.Fatalf("route %+v, want one without request headers", r)
	}
}

// TestRouteRequestHeadersFailClosed: a mutation the gateway cannot execute (a formatter operator
// other than the downstream addresses, raw_value, a pseudo-header, host, both append and
// append_action) withholds the routes it applies to — the route's own, every route of a virtual
// host, every route of a route configuration — rather than sending requests without it.
func TestRouteRequestHeadersFailClosed(t *testing.T) {
	bad := map[string]func(*routev3.RouteConfiguration){
		"operator": func(rc *routev3.RouteConfiguration) {
			rc.VirtualHosts[0].Routes[0].RequestHeadersToAdd = []*corev3.HeaderValueOption{hv("x-a", "%REQ(x-b)%", appendOrAdd)}
		},
		"raw value": func(rc *routev3.RouteConfiguration) {
			rc.VirtualHosts[0].Routes[0].RequestHeadersToAdd = []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-a", RawValue: []byte("v")}}}
		},
		"pseudo-header": func(rc *routev3.RouteConfiguration) {
			rc.VirtualHosts[0].Routes[0].RequestHeadersToAdd = []*corev3.HeaderValueOption{hv(":path", "/other", overwriteOrAdd)}
		},
		"host removed": func(rc *routev3.RouteConfiguration) {
			rc.VirtualHosts[0].Routes[0].RequestHeadersToRemove = []string{"Host"}
		},
		"append and append_action": func(rc *routev3.RouteConfiguration) {
			rc.VirtualHosts[0].Routes[0].RequestHeadersToAdd = []*corev3.HeaderValueOption{
				{Header: &corev3.HeaderValue{Key: "x-a", Value: "v"}, Append: wrapperspb.Bool(true), AppendAction: addIfAbsent}}
		},
		"virtual host": func(rc *routev3.RouteConfiguration) {
			rc.VirtualHosts[0].RequestHeadersToAdd = []*corev3.HeaderValueOption{hv("x-a", "%START_TIME%", appendOrAdd)}
		},
		"route configuration": func(rc *routev3.RouteConfiguration) {
			rc.RequestHeadersToAdd = []*corev3.HeaderValueOption{hv("x-a", "%UPSTREAM_HOST%", appendOrAdd)}
		},
	}
	for name, mutate := range bad {
		t.Run(name, func(t *testing.T) {
			rc := xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"},
				xdsfixture.PathRoute("/a", "c"), xdsfixture.PathRoute("/b", "c")))
			mutate(rc)
			table := headerTable(t, rc)
			a := table.Match(httptest.NewRequest(http.MethodGet, "/a", nil))
			b := table.Match(httptest.NewRequest(http.MethodGet, "/b", nil))
			if a == nil || !strings.Contains(a.Withheld, "request headers") {
				t.Fatalf("route /a %+v, want it withheld for its request headers", a)
			}
			wantB := name == "virtual host" || name == "route configuration"
			if b == nil || (b.Withheld != "") != wantB {
				t.Fatalf("route /b withheld %q, want withheld: %v", b.Withheld, wantB)
			}
		})
	}
}
