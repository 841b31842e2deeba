package routetable_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	mutationv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/dataplane/hcm"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// TestHeaderMutationRemovesIdentityHeaders: a route's HeaderMutationPerRoute naming headers in
// lower case, as rpcbridge emits a policy's identity headers, removes them from the request (whose
// header keys net/http canonicalizes), keeps the other headers, and leaves the request it was
// given unchanged.
func TestHeaderMutationRemovesIdentityHeaders(t *testing.T) {
	l := xdsfixture.Listener(listenerName, "rc")
	m := &hcmv3.HttpConnectionManager{}
	if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(m); err != nil {
		t.Fatal(err)
	}
	filterCfg, _ := anypb.New(&headermutationv3.HeaderMutation{})
	m.HttpFilters = append([]*hcmv3.HttpFilter{{Name: "envoy.filters.http.header_mutation",
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: filterCfg}}}, m.HttpFilters...)
	remove := func(name string) *mutationv3.HeaderMutation {
		return &mutationv3.HeaderMutation{Action: &mutationv3.HeaderMutation_Remove{Remove: name}}
	}
	per, _ := anypb.New(&headermutationv3.HeaderMutationPerRoute{Mutations: &headermutationv3.Mutations{
		RequestMutations: []*mutationv3.HeaderMutation{remove("x-tenant"), remove("x-user-sub")}}})
	route := xdsfixture.PrefixRoute("/", "c")
	route.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.header_mutation": per}
	table, err := routetable.Build(resources([]*listenerv3.Listener{xdsfixture.ListenerWithHCM(listenerName, m)},
		[]*routev3.RouteConfiguration{xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"}, route))}, nil, nil), listenerName)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	r.Header.Set("X-User-Sub", "forged")
	r.Header.Set("X-Tenant", "t-forged")
	r.Header.Set("X-Other", "kept")
	matched := table.Match(r)
	if matched == nil || len(matched.Edge) != 1 {
		t.Fatalf("route %+v, want one edge step", matched)
	}
	out, next := matched.Edge[0].Serve(httptest.NewRecorder(), r)
	if !next {
		t.Fatal("the header mutation answered the request")
	}
	for _, h := range []string{"X-User-Sub", "X-Tenant"} {
		if got := out.Header.Get(h); got != "" {
			t.Errorf("%s = %q after the step, want removed", h, got)
		}
	}
	if got := out.Header.Get("X-Other"); got != "kept" {
		t.Errorf("X-Other = %q after the step, want kept", got)
	}
	if r.Header.Get("X-User-Sub") != "forged" {
		t.Errorf("the step changed the request it was given")
	}
}

// TestHeaderMutationAppendsTheClientAddress: an append of %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%
// after the removal, as rpcbridge emits a policy's client-address header, sets the trusted address
// the connection manager found (not the direct peer, not the client's copy); the direct-address
// operator gives the peer; a literal APPEND_IF_EXISTS_OR_ADD keeps the values already there. An
// operator the gateway does not execute withholds the route instead of sending the raw text.
func TestHeaderMutationAppendsTheClientAddress(t *testing.T) {
	set := func(name, value string, action corev3.HeaderValueOption_HeaderAppendAction) *mutationv3.HeaderMutation {
		return &mutationv3.HeaderMutation{Action: &mutationv3.HeaderMutation_Append{Append: &corev3.HeaderValueOption{
			Header: &corev3.HeaderValue{Key: name, Value: value}, AppendAction: action}}}
	}
	build := func(ms ...*mutationv3.HeaderMutation) (*routetable.Table, error) {
		l := xdsfixture.Listener(listenerName, "rc")
		m := &hcmv3.HttpConnectionManager{}
		if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(m); err != nil {
			t.Fatal(err)
		}
		filterCfg, _ := anypb.New(&headermutationv3.HeaderMutation{})
		m.HttpFilters = append([]*hcmv3.HttpFilter{{Name: "envoy.filters.http.header_mutation",
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: filterCfg}}}, m.HttpFilters...)
		per, _ := anypb.New(&headermutationv3.HeaderMutationPerRoute{Mutations: &headermutationv3.Mutations{RequestMutations: ms}})
		route := xdsfixture.PrefixRoute("/", "c")
		route.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.header_mutation": per}
		return routetable.Build(resources([]*listenerv3.Listener{xdsfixture.ListenerWithHCM(listenerName, m)},
			[]*routev3.RouteConfiguration{xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"}, route))}, nil, nil), listenerName)
	}
	table, err := build(
		&mutationv3.HeaderMutation{Action: &mutationv3.HeaderMutation_Remove{Remove: "x-client-ip"}},
		set("x-client-ip", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
		set("x-peer", "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
		set("x-via", "edge", corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	r.Header.Set("X-Client-Ip", "203.0.113.9")
	r.Header.Set("X-Via", "client")
	r = r.WithContext(hcm.NewContext(r.Context(), hcm.Downstream{
		RemoteAddress: netip.MustParseAddr("198.51.100.7"), DirectRemoteAddress: netip.MustParseAddr("::ffff:10.0.0.1")}))
	matched := table.Match(r)
	if matched == nil || matched.Withheld != "" || len(matched.Edge) != 1 {
		t.Fatalf("route %+v, want one edge step", matched)
	}
	out, next := matched.Edge[0].Serve(httptest.NewRecorder(), r)
	if !next {
		t.Fatal("the header mutation answered the request")
	}
	for h, want := range map[string]string{"X-Client-Ip": "198.51.100.7", "X-Peer": "10.0.0.1", "X-Via": "client,edge"} {
		if got := strings.Join(out.Header.Values(h), ","); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if r.Header.Get("X-Client-Ip") != "203.0.113.9" {
		t.Errorf("the step changed the request it was given")
	}

	table, err = build(set("x-client-ip", "%REQ(x-forwarded-for)%", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD))
	if err != nil {
		t.Fatal(err)
	}
	if m := table.Match(httptest.NewRequest(http.MethodGet, "/x", nil)); m == nil || m.Withheld == "" {
		t.Fatalf("route %+v, want it withheld (an operator the gateway does not execute)", m)
	}
}
