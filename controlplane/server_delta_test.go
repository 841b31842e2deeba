package controlplane

import (
	"slices"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// TestDeltaSendsOnlyWhatChanged subscribes a raw delta ADS client to clusters and endpoints, then
// changes one endpoint among several clusters: the next response carries only that cluster's
// load assignment. A removed cluster then arrives in removed_resources.
func TestDeltaSendsOnlyWhatChanged(t *testing.T) {
	srv := startServer(t)
	g := ir.Gateway{Clusters: []ir.Cluster{
		httpCluster("http:a", 3, 8080),
		httpCluster("http:b", 3, 8080),
		httpCluster("http:c", 3, 8080),
	}}
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	c := srv.openDelta(t, &discoveryv3.DeltaDiscoveryRequest{Node: testNode("delta"), TypeUrl: resource.ClusterType})
	cds := c.next()
	if got := deltaNames(cds); cds.GetTypeUrl() != resource.ClusterType || !slices.Equal(got, []string{"http:a", "http:b", "http:c"}) {
		t.Fatalf("first CDS response: type %s, resources %v", cds.GetTypeUrl(), got)
	}
	c.ack(cds)
	c.send(&discoveryv3.DeltaDiscoveryRequest{
		TypeUrl:                resource.EndpointType,
		ResourceNamesSubscribe: []string{"http:a", "http:b", "http:c"},
	})
	eds := c.next()
	if got := deltaNames(eds); eds.GetTypeUrl() != resource.EndpointType || len(got) != 3 {
		t.Fatalf("first EDS response: type %s, resources %v", eds.GetTypeUrl(), got)
	}
	c.ack(eds)

	// The same content again must push nothing; the next response is the real change below.
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	g.Clusters[1].Endpoints[2].Port = 9090
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	eds = c.next()
	if got := deltaNames(eds); eds.GetTypeUrl() != resource.EndpointType || !slices.Equal(got, []string{"http:b"}) || len(eds.GetRemovedResources()) != 0 {
		t.Fatalf("after changing one endpoint of http:b: type %s, resources %v, removed %v",
			eds.GetTypeUrl(), got, eds.GetRemovedResources())
	}
	cla := &endpointv3.ClusterLoadAssignment{}
	if err := eds.GetResources()[0].GetResource().UnmarshalTo(cla); err != nil {
		t.Fatal(err)
	}
	if port := cla.GetEndpoints()[0].GetLbEndpoints()[2].GetEndpoint().GetAddress().GetSocketAddress().GetPortValue(); port != 9090 {
		t.Fatalf("http:b's changed endpoint has port %d, want 9090", port)
	}
	c.ack(eds)

	g.Clusters = g.Clusters[:2]
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	removed := map[string][]string{}
	for len(removed) < 2 {
		resp := c.next()
		if len(resp.GetResources()) != 0 {
			t.Fatalf("removing http:c sent %s resources %v", resp.GetTypeUrl(), deltaNames(resp))
		}
		removed[resp.GetTypeUrl()] = resp.GetRemovedResources()
		c.ack(resp)
	}
	for _, typeURL := range []string{resource.ClusterType, resource.EndpointType} {
		if !slices.Equal(removed[typeURL], []string{"http:c"}) {
			t.Errorf("%s removed_resources = %v, want [http:c]", typeURL, removed[typeURL])
		}
	}
}
