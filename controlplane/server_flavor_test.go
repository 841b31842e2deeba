package controlplane

import (
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	dubbov3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/dubbo_proxy/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// dubboGateway has one HTTP-to-Dubbo route and Dubbo clusters of the given versions.
func dubboGateway(versions ...string) ir.Gateway {
	g := ir.Gateway{}
	for _, v := range versions {
		name := "dubbo:com.example.Users:" + v + ":"
		g.Clusters = append(g.Clusters, ir.Cluster{Name: name, Protocol: ir.UpstreamDubbo, Endpoints: []ir.Endpoint{
			{Address: "10.0.0.1", Port: 20880, Weight: 100, Healthy: true},
		}})
	}
	g.Routes = []ir.Route{{
		Name: "users-get", Cluster: g.Clusters[0].Name,
		Match: ir.Match{PathTemplate: "/users/{id}", Methods: []string{"GET"}},
		Dubbo: &ir.DubboRoute{Interface: "com.example.Users", Version: versions[0], Method: "get",
			Params: []ir.DubboParam{{Name: "id", Type: "long", From: ir.FromPath, Key: "id"}}, Returns: "java.lang.String"},
	}}
	return g
}

// sotwFetch opens a state-of-the-world stream as node cluster nodeCluster, asks for one type and
// returns the first response.
func sotwFetch(t *testing.T, srv *testServer, nodeCluster, typeURL string, names ...string) *discoveryv3.DiscoveryResponse {
	t.Helper()
	return srv.openSotW(t, &discoveryv3.DiscoveryRequest{
		Node: &corev3.Node{Id: "n-" + nodeCluster, Cluster: nodeCluster}, TypeUrl: typeURL, ResourceNames: names,
	}).next()
}

// TestFlavorPerNodeCluster: from one Update, the embedded node cluster gets the Higress flavor
// (the Dubbo route is there, with its transcoder config and metadata) and another node cluster
// the Envoy flavor (the Dubbo route is left out).
func TestFlavorPerNodeCluster(t *testing.T) {
	srv := startServer(t)
	if err := srv.Update(dubboGateway("1.0.0")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		nodeCluster string
		wantDubbo   bool
	}{{gatewayv1.EmbeddedNodeCluster, true}, {"edge-envoys", false}} {
		resp := sotwFetch(t, srv, tc.nodeCluster, resource.RouteType, gatewayv1.HTTPListener)
		if len(resp.GetResources()) != 1 {
			t.Fatalf("%s: got %d route configurations", tc.nodeCluster, len(resp.GetResources()))
		}
		rc := &routev3.RouteConfiguration{}
		if err := resp.GetResources()[0].UnmarshalTo(rc); err != nil {
			t.Fatal(err)
		}
		var found *routev3.Route
		for _, r := range rc.GetVirtualHosts()[0].GetRoutes() {
			if r.GetName() == "users-get" {
				found = r
			}
		}
		if got := found != nil; got != tc.wantDubbo {
			t.Fatalf("%s: Dubbo route present = %v, want %v", tc.nodeCluster, got, tc.wantDubbo)
		}
		if found != nil {
			if found.GetTypedPerFilterConfig()[dubboTranscoderFilterName] == nil {
				t.Errorf("%s: Dubbo route without transcoder config", tc.nodeCluster)
			}
			if r, err := gatewayv1.UnmarshalDubboRoute(found.GetMetadata().GetTypedFilterMetadata()[gatewayv1.DubboRouteKey]); err != nil || r.GetMethod() != "get" {
				t.Errorf("%s: Dubbo route's %s metadata: %v, %v", tc.nodeCluster, gatewayv1.DubboRouteKey, r, err)
			}
		}
	}
}

// TestDRDSOverSotW: a raw client subscribed to the Dubbo routes receives one configuration per
// service plus the version fallback, each pointing at an existing Dubbo cluster.
func TestDRDSOverSotW(t *testing.T) {
	srv := startServer(t)
	if err := srv.Update(dubboGateway("1.0.0", "2.0.0")); err != nil {
		t.Fatal(err)
	}
	resp := sotwFetch(t, srv, "edge-envoys", DubboRouteType, gatewayv1.DubboListener)
	if resp.GetTypeUrl() != DubboRouteType || len(resp.GetResources()) != 1 {
		t.Fatalf("DRDS response: type %s, %d resources", resp.GetTypeUrl(), len(resp.GetResources()))
	}
	mrc := &dubbov3.MultipleRouteConfiguration{}
	if err := resp.GetResources()[0].UnmarshalTo(mrc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rc := range mrc.GetRouteConfig() {
		target := rc.GetRoutes()[0].GetRoute().GetCluster()
		for _, w := range rc.GetRoutes()[0].GetRoute().GetWeightedClusters().GetClusters() {
			target += "+" + w.GetName()
		}
		got = append(got, rc.GetInterface()+"|"+rc.GetVersion()+"|"+target)
	}
	want := []string{
		"com.example.Users|1.0.0|dubbo:com.example.Users:1.0.0:",
		"com.example.Users|2.0.0|dubbo:com.example.Users:2.0.0:",
		"com.example.Users||+dubbo:com.example.Users:1.0.0:+dubbo:com.example.Users:2.0.0:",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Dubbo route configurations:\n got %q\nwant %q", got, want)
	}
}

// TestDeltaDRDS: over delta, a change of the Dubbo services sends the new DRDS resource, and
// removing every Dubbo service reports it in removed_resources.
func TestDeltaDRDS(t *testing.T) {
	srv := startServer(t)
	if err := srv.Update(dubboGateway("1.0.0")); err != nil {
		t.Fatal(err)
	}
	c := srv.openDelta(t, &discoveryv3.DeltaDiscoveryRequest{Node: testNode("delta-drds"), TypeUrl: DubboRouteType,
		ResourceNamesSubscribe: []string{gatewayv1.DubboListener}})
	first := c.next()
	if got := deltaNames(first); !slices.Equal(got, []string{gatewayv1.DubboListener}) {
		t.Fatalf("first DRDS response: %v", got)
	}
	c.ack(first)

	if err := srv.Update(dubboGateway("1.0.0", "2.0.0")); err != nil {
		t.Fatal(err)
	}
	changed := c.next()
	mrc := &dubbov3.MultipleRouteConfiguration{}
	if len(changed.GetResources()) != 1 || changed.GetResources()[0].GetResource().UnmarshalTo(mrc) != nil || len(mrc.GetRouteConfig()) != 3 {
		t.Fatalf("after adding a version: %v with %d route configurations", deltaNames(changed), len(mrc.GetRouteConfig()))
	}
	c.ack(changed)

	g := dubboGateway("1.0.0")
	g.Clusters[0].Protocol = ir.UpstreamHTTP1
	g.Routes = nil
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	removed := c.next()
	if len(removed.GetResources()) != 0 || !slices.Equal(removed.GetRemovedResources(), []string{gatewayv1.DubboListener}) {
		t.Fatalf("after removing Dubbo: resources %v, removed %v", deltaNames(removed), removed.GetRemovedResources())
	}
}
