package routetable_test

import (
	"net/http/httptest"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	grpcwebv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_web/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// TestStreamingConfig: envoy.filters.http.grpc_web marks the routes it runs on (every route
// with a cluster, as in Envoy, where it acts on gRPC-Web requests only), and each route's
// upgrade_configs decide its upgrades over the connection manager's.
func TestStreamingConfig(t *testing.T) {
	for _, withFilter := range []bool{false, true} {
		l := xdsfixture.Listener(listenerName, "rc")
		hcm := &hcmv3.HttpConnectionManager{}
		if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(hcm); err != nil {
			t.Fatal(err)
		}
		hcm.UpgradeConfigs = []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: "websocket"}}
		if withFilter {
			cfg, _ := anypb.New(&grpcwebv3.GrpcWeb{})
			hcm.HttpFilters = append([]*hcmv3.HttpFilter{{Name: "envoy.filters.http.grpc_web",
				ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}}}, hcm.HttpFilters...)
		}
		off := xdsfixture.PrefixRoute("/off", "c")
		off.GetRoute().UpgradeConfigs = []*routev3.RouteAction_UpgradeConfig{{UpgradeType: "WebSocket", Enabled: wrapperspb.Bool(false)}}
		table, err := routetable.Build(resources([]*listenerv3.Listener{xdsfixture.ListenerWithHCM(listenerName, hcm)},
			[]*routev3.RouteConfiguration{xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"},
				off, xdsfixture.PrefixRoute("/", "c")))}, nil, nil), listenerName)
		if err != nil {
			t.Fatal(err)
		}
		on := table.Match(httptest.NewRequest("GET", "/x", nil))
		disabled := table.Match(httptest.NewRequest("GET", "/off", nil))
		if on.GRPCWeb != withFilter || disabled.GRPCWeb != withFilter {
			t.Errorf("filter=%v: GRPCWeb %v/%v", withFilter, on.GRPCWeb, disabled.GRPCWeb)
		}
		policy := table.HeaderPolicy()
		if !on.AllowsUpgrade(policy, "websocket") || disabled.AllowsUpgrade(policy, "websocket") || on.AllowsUpgrade(policy, "connect-udp") {
			t.Errorf("upgrades: HCM's websocket allowed %v, route's enabled:false %v, unknown %v",
				on.AllowsUpgrade(policy, "websocket"), disabled.AllowsUpgrade(policy, "websocket"), on.AllowsUpgrade(policy, "connect-udp"))
		}
	}
}
