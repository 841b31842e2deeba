package routetable_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	mutationv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"

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
