package controlplane

import (
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// sotwEDS is a state-of-the-world client subscribed to load assignments only, remembering the
// last response to ACK it.
type sotwEDS struct {
	c    *sotwClient
	last *discoveryv3.DiscoveryResponse
}

// openSotWEDS connects a sotwEDS as node id, subscribed to names.
func openSotWEDS(t *testing.T, srv *testServer, id string, names ...string) *sotwEDS {
	t.Helper()
	return &sotwEDS{c: srv.openSotW(t, &discoveryv3.DiscoveryRequest{Node: testNode(id), TypeUrl: resource.EndpointType, ResourceNames: names})}
}

// next waits for the next response, ACKs it with names and returns its resources by name.
func (e *sotwEDS) next(names ...string) map[string]uint32 {
	e.c.t.Helper()
	e.last = e.c.next()
	e.request(names...)
	return claPorts(e.c.t, e.last.GetResources())
}

// request sends a request for names that ACKs the last response.
func (e *sotwEDS) request(names ...string) {
	e.c.t.Helper()
	e.c.request(resource.EndpointType, e.last, names...)
}

// claPorts maps each load assignment's name to the port of its first endpoint.
func claPorts(t *testing.T, resources []*anypb.Any) map[string]uint32 {
	t.Helper()
	out := map[string]uint32{}
	for _, a := range resources {
		cla := &endpointv3.ClusterLoadAssignment{}
		if err := a.UnmarshalTo(cla); err != nil {
			t.Fatal(err)
		}
		out[cla.GetClusterName()] = cla.GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetPortValue()
	}
	return out
}

// TestSotWEndpointsUnsubscribeAndLateJoin follows one SotW client through a change (only the changed
// load assignment is sent), an unsubscription (changes to the dropped name are not sent), a
// resubscription (the current state comes at once), and a client that subscribes later (it
// gets the current state).
func TestSotWEndpointsUnsubscribeAndLateJoin(t *testing.T) {
	srv := startServer(t)
	g := ir.Gateway{Clusters: []ir.Cluster{
		httpCluster("http:a", 1, 8080), httpCluster("http:b", 1, 8080), httpCluster("http:c", 1, 8080),
	}}
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	all := []string{"http:a", "http:b", "http:c"}
	first := openSotWEDS(t, srv, "first", all...)
	if got := first.next(all...); !slices.Equal(sortedKeys(got), all) {
		t.Fatalf("first response holds %v, want %v", sortedKeys(got), all)
	}

	g.Clusters[1].Endpoints[0].Port = 9001
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	// The ACK drops http:b (no watch is open in between); then b and c change: only c comes.
	if got := first.next("http:a", "http:c"); len(got) != 1 || got["http:b"] != 9001 {
		t.Fatalf("after changing http:b the response holds %v, want only http:b on 9001", got)
	}
	g.Clusters[1].Endpoints[0].Port = 9002
	g.Clusters[2].Endpoints[0].Port = 9003
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	if got := first.next("http:a", "http:c"); len(got) != 1 || got["http:c"] != 9003 {
		t.Fatalf("after unsubscribing http:b and changing b and c the response holds %v, want only http:c on 9003", got)
	}
	// Subscribing to http:b again brings its current state.
	first.request(all...)
	if got := first.next(all...); len(got) != 1 || got["http:b"] != 9002 {
		t.Fatalf("resubscribing to http:b brought %v, want http:b on 9002", got)
	}

	later := openSotWEDS(t, srv, "later", "http:b", "http:c")
	if got := later.next("http:b", "http:c"); len(got) != 2 || got["http:b"] != 9002 || got["http:c"] != 9003 {
		t.Fatalf("a client subscribing later got %v, want http:b on 9002 and http:c on 9003", got)
	}
}

// TestDeltaEndpointsUnsubscribeAndLateJoin checks over delta that an unsubscribed load
// assignment is no longer sent, and that a client subscribing later gets the current state.
func TestDeltaEndpointsUnsubscribeAndLateJoin(t *testing.T) {
	srv := startServer(t)
	g := ir.Gateway{Clusters: []ir.Cluster{httpCluster("http:a", 1, 8080), httpCluster("http:b", 1, 8080)}}
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	open := func(id string, names ...string) *deltaClient {
		return srv.openDelta(t, &discoveryv3.DeltaDiscoveryRequest{Node: testNode(id), TypeUrl: resource.EndpointType, ResourceNamesSubscribe: names})
	}
	ports := func(resp *discoveryv3.DeltaDiscoveryResponse) map[string]uint32 {
		return claPorts(t, deltaResources(resp))
	}
	c := open("delta", "http:a", "http:b")
	resp := c.next()
	if got := ports(resp); len(got) != 2 {
		t.Fatalf("first delta response holds %v, want http:a and http:b", got)
	}
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResponseNonce: resp.GetNonce(),
		ResourceNamesUnsubscribe: []string{"http:b"}})
	g.Clusters[1].Endpoints[0].Port = 9002
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	g.Clusters[0].Endpoints[0].Port = 9001
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	resp = c.next()
	if got := ports(resp); len(got) != 1 || got["http:a"] != 9001 || len(resp.GetRemovedResources()) != 0 {
		t.Fatalf("after unsubscribing http:b and changing b then a: resources %v, removed %v; want only http:a on 9001",
			got, resp.GetRemovedResources())
	}

	if got := ports(open("late", "http:b").next()); len(got) != 1 || got["http:b"] != 9002 {
		t.Fatalf("a client subscribing later got %v, want http:b on 9002", got)
	}
}

// TestSotWWildcardClustersAreCompleteAndNotRepeated subscribes a raw SotW client to all
// clusters: each response holds every cluster, and an ACK is not answered again. After each
// ACK the client subscribes to a new load assignment on the same stream; the server handles a
// stream's requests in order, so the next response must be that load assignment, not clusters.
func TestSotWWildcardClustersAreCompleteAndNotRepeated(t *testing.T) {
	srv := startServer(t)
	g := ir.Gateway{Clusters: []ir.Cluster{httpCluster("http:a", 1, 8080), httpCluster("http:b", 1, 8080)}}
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	var lastEDS *discoveryv3.DiscoveryResponse
	c := srv.openSotW(t, &discoveryv3.DiscoveryRequest{Node: testNode("cds"), TypeUrl: resource.ClusterType})
	for i, step := range []struct {
		clusters []string
		eds      []string
	}{
		{[]string{"http:a", "http:b"}, []string{"http:a"}},
		{[]string{"http:a", "http:b", "http:c"}, []string{"http:a", "http:c"}},
		{[]string{"http:a", "http:c"}, nil},
	} {
		resp := c.next()
		if got := clusterNamesOf(t, resp); resp.GetTypeUrl() != resource.ClusterType || !slices.Equal(got, step.clusters) {
			t.Fatalf("response %d: %s with clusters %v, want clusters %v", i, resp.GetTypeUrl(), got, step.clusters)
		}
		c.request(resource.ClusterType, resp)
		if step.eds == nil {
			break
		}
		c.request(resource.EndpointType, lastEDS, step.eds...)
		lastEDS = c.next()
		if lastEDS.GetTypeUrl() != resource.EndpointType {
			t.Fatalf("after the ACK of clusters version %s the server answered with %s %v",
				resp.GetVersionInfo(), lastEDS.GetTypeUrl(), clusterNamesOf(t, lastEDS))
		}
		switch i {
		case 0:
			g.Clusters = append(g.Clusters, httpCluster("http:c", 1, 8080))
		case 1:
			g.Clusters = slices.Delete(g.Clusters, 1, 2)
		}
		if err := srv.Update(g); err != nil {
			t.Fatal(err)
		}
	}
}

// clusterNamesOf lists the names of the clusters of a SotW response, sorted.
func clusterNamesOf(t *testing.T, resp *discoveryv3.DiscoveryResponse) []string {
	t.Helper()
	var names []string
	for _, a := range resp.GetResources() {
		c := &clusterv3.Cluster{}
		if err := a.UnmarshalTo(c); err != nil {
			t.Fatal(err)
		}
		names = append(names, c.GetName())
	}
	slices.Sort(names)
	return names
}

// TestDeltaWildcardUnsubscribeResends follows the xDS rule for a wildcard delta subscription that
// unsubscribes a name it also subscribed explicitly: the resource stays wanted through the
// wildcard, so the server sends it again.
func TestDeltaWildcardUnsubscribeResends(t *testing.T) {
	srv := startServer(t)
	if err := srv.Update(ir.Gateway{Clusters: []ir.Cluster{httpCluster("http:a", 1, 8080), httpCluster("http:b", 1, 8080)}}); err != nil {
		t.Fatal(err)
	}
	// A request without names is a (legacy) wildcard subscription.
	c := srv.openDelta(t, &discoveryv3.DeltaDiscoveryRequest{Node: testNode("wildcard"), TypeUrl: resource.EndpointType})
	resp := c.next()
	if got := deltaNames(resp); !slices.Equal(got, []string{"http:a", "http:b"}) {
		t.Fatalf("wildcard response holds %v, want http:a and http:b", got)
	}
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResponseNonce: resp.GetNonce(),
		ResourceNamesSubscribe: []string{"http:a"}})
	resp = c.next()
	if got := deltaNames(resp); !slices.Equal(got, []string{"http:a"}) {
		t.Fatalf("subscribing to http:a explicitly brought %v, want [http:a]", got)
	}
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResponseNonce: resp.GetNonce(),
		ResourceNamesUnsubscribe: []string{"http:a"}})
	resp = c.next()
	if got := deltaNames(resp); !slices.Equal(got, []string{"http:a"}) || len(resp.GetRemovedResources()) != 0 {
		t.Fatalf("unsubscribing http:a while wildcard brought %v (removed %v), want http:a again",
			got, resp.GetRemovedResources())
	}
}
