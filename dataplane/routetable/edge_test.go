package routetable_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// TestUnknownFilterFailsClosed: an HTTP filter the gateway cannot execute withholds every route
// (the gateway must not serve them without it) unless it is is_optional, which Envoy and the
// gateway skip.
func TestUnknownFilterFailsClosed(t *testing.T) {
	for _, optional := range []bool{false, true} {
		l := xdsfixture.Listener(listenerName, "rc")
		hcm := &hcmv3.HttpConnectionManager{}
		if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(hcm); err != nil {
			t.Fatal(err)
		}
		empty, _ := anypb.New(&emptypb.Empty{})
		hcm.HttpFilters = append([]*hcmv3.HttpFilter{{Name: "example.filters.http.unknown", IsOptional: optional,
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: empty}}}, hcm.HttpFilters...)
		l = xdsfixture.ListenerWithHCM(listenerName, proto.Clone(hcm).(*hcmv3.HttpConnectionManager))
		table, err := routetable.Build(resources([]*listenerv3.Listener{l},
			[]*routev3.RouteConfiguration{xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"},
				xdsfixture.PrefixRoute("/", "c")))}, nil, nil), listenerName)
		if err != nil {
			t.Fatal(err)
		}
		route := table.Match(httptest.NewRequest("GET", "/x", nil))
		if route == nil {
			t.Fatalf("optional=%v: no route matched", optional)
		}
		withheld := strings.Contains(route.Withheld, "example.filters.http.unknown")
		if withheld == optional {
			t.Errorf("optional=%v: route withheld = %q, want withheld only when the filter is not optional", optional, route.Withheld)
		}
	}
}
