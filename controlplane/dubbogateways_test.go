package controlplane

import (
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
)

// TestDubboGatewaysNoLoop: with dubboGateways, one Update gives the Envoy node cluster the Dubbo
// route to the gateways' cluster, and the embedded node cluster (rpcbridge's gateways) the Dubbo
// route itself, with its transcoder and DubboRoute metadata and no gateways' cluster: a gateway
// never sends a Dubbo route back to the gateways.
func TestDubboGatewaysNoLoop(t *testing.T) {
	srv := startServerWith(t, ServerOptions{Translate: Options{
		DubboGateways: &DubboGateways{Addresses: []string{"127.0.0.1:8080"}},
	}})
	if err := srv.Update(dubboGateway("1.0.0")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		nodeCluster  string
		wantCluster  string
		wantGateways bool
	}{
		{"edge-envoys", DubboGatewaysCluster, true},
		{gatewayv1.EmbeddedNodeCluster, "dubbo:com.example.Users:1.0.0:", false},
	} {
		resp := sotwFetch(t, srv, tc.nodeCluster, resource.RouteType, gatewayv1.HTTPListener)
		rc := &routev3.RouteConfiguration{}
		if len(resp.GetResources()) != 1 || resp.GetResources()[0].UnmarshalTo(rc) != nil {
			t.Fatalf("%s: route configurations %v", tc.nodeCluster, resp.GetResources())
		}
		var found *routev3.Route
		for _, r := range rc.GetVirtualHosts()[0].GetRoutes() {
			if r.GetName() == "users-get" {
				found = r
			}
		}
		if found == nil || found.GetRoute().GetCluster() != tc.wantCluster {
			t.Fatalf("%s: Dubbo route %v, want one to cluster %q", tc.nodeCluster, found, tc.wantCluster)
		}
		_, transcodes := found.GetTypedPerFilterConfig()[dubboTranscoderFilterName]
		_, metadata := found.GetMetadata().GetTypedFilterMetadata()[gatewayv1.DubboRouteKey]
		if transcodes == tc.wantGateways || metadata == tc.wantGateways {
			t.Errorf("%s: transcoder config %v, DubboRoute metadata %v; want both %v", tc.nodeCluster, transcodes, metadata, !tc.wantGateways)
		}
		clusters := sotwFetch(t, srv, tc.nodeCluster, resource.ClusterType)
		var names []string
		for _, a := range clusters.GetResources() {
			c := &clusterv3.Cluster{}
			if err := a.UnmarshalTo(c); err != nil {
				t.Fatal(err)
			}
			names = append(names, c.GetName())
		}
		if got := slices.Contains(names, DubboGatewaysCluster); got != tc.wantGateways {
			t.Errorf("%s: clusters %v; gateways' cluster present = %v, want %v", tc.nodeCluster, names, got, tc.wantGateways)
		}
	}
}

// TestDubboGatewaysOnlyWhenUsed: without an HTTP-to-Dubbo route the gateways' cluster is not
// emitted, and the Higress flavor, which serves Dubbo itself, ignores dubboGateways.
func TestDubboGatewaysOnlyWhenUsed(t *testing.T) {
	gws := &DubboGateways{Addresses: []string{"127.0.0.1:8080"}}
	for _, tc := range []struct {
		name   string
		flavor Flavor
		routes bool
	}{{"envoy without Dubbo routes", FlavorEnvoy, false}, {"higress", FlavorHigress, true}} {
		g := dubboGateway("1.0.0")
		if !tc.routes {
			g.Routes = nil
		}
		res, err := Translate(g, Options{Flavor: tc.flavor, DubboGateways: gws})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, c := range res.Clusters {
			if c.GetName() == DubboGatewaysCluster {
				t.Errorf("%s: the gateways' cluster is emitted", tc.name)
			}
		}
	}
}

// TestDubboGatewaysValidate: every problem of the block is reported.
func TestDubboGatewaysValidate(t *testing.T) {
	good := DubboGateways{Addresses: []string{"10.0.0.1:8080", "gw.example:8443"}, Protocol: GatewayHTTP2,
		TLS: UpstreamTLS{CAFile: "ca.pem"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid block: %v", err)
	}
	bad := DubboGateways{Addresses: []string{"10.0.0.1", "10.0.0.1:0", "a:1", "a:1"}, Protocol: "http3",
		TLS: UpstreamTLS{CAFile: "ca.pem", CertFile: "c.pem"}}
	err := bad.Validate()
	if err == nil {
		t.Fatal("invalid block accepted")
	}
	for _, want := range []string{"addresses[0]", "addresses[1]", "addresses[3]", "protocol", "tls"} {
		if !strings.Contains(err.Error(), want+":") {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
