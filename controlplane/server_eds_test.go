package controlplane

import (
	"context"
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// sotwEDS is a raw state-of-the-world ADS client subscribed to load assignments only.
type sotwEDS struct {
	t         *testing.T
	stream    discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	responses <-chan *discoveryv3.DiscoveryResponse
	last      *discoveryv3.DiscoveryResponse
}

func openSotWEDS(t *testing.T, srv *testServer, id string, names ...string) *sotwEDS {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := srv.dial(t).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := &sotwEDS{t: t, stream: stream, responses: receive(stream.Recv)}
	if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: testNode(id), TypeUrl: resource.EndpointType, ResourceNames: names}); err != nil {
		t.Fatal(err)
	}
	return c
}

// next waits for the next response, ACKs it with names and returns its resources by name.
func (c *sotwEDS) next(names ...string) map[string]uint32 {
	c.t.Helper()
	c.last = next(c.t, c.responses)
	c.request(names...)
	return claPorts(c.t, c.last.GetResources())
}

// request sends a request for names that ACKs the last response.
func (c *sotwEDS) request(names ...string) {
	c.t.Helper()
	err := c.stream.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNames: names,
		VersionInfo: c.last.GetVersionInfo(), ResponseNonce: c.last.GetNonce()})
	if err != nil {
		c.t.Fatal(err)
	}
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
	open := func(id string, names ...string) (discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient, <-chan *discoveryv3.DeltaDiscoveryResponse) {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		stream, err := srv.dial(t).DeltaAggregatedResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{Node: testNode(id), TypeUrl: resource.EndpointType, ResourceNamesSubscribe: names}); err != nil {
			t.Fatal(err)
		}
		return stream, receive(stream.Recv)
	}
	ports := func(resp *discoveryv3.DeltaDiscoveryResponse) map[string]uint32 {
		var anys []*anypb.Any
		for _, r := range resp.GetResources() {
			anys = append(anys, r.GetResource())
		}
		return claPorts(t, anys)
	}
	stream, responses := open("delta", "http:a", "http:b")
	resp := next(t, responses)
	if got := ports(resp); len(got) != 2 {
		t.Fatalf("first delta response holds %v, want http:a and http:b", got)
	}
	if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResponseNonce: resp.GetNonce(),
		ResourceNamesUnsubscribe: []string{"http:b"}}); err != nil {
		t.Fatal(err)
	}
	g.Clusters[1].Endpoints[0].Port = 9002
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	g.Clusters[0].Endpoints[0].Port = 9001
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	resp = next(t, responses)
	if got := ports(resp); len(got) != 1 || got["http:a"] != 9001 || len(resp.GetRemovedResources()) != 0 {
		t.Fatalf("after unsubscribing http:b and changing b then a: resources %v, removed %v; want only http:a on 9001",
			got, resp.GetRemovedResources())
	}

	_, lateResponses := open("late", "http:b")
	if got := ports(next(t, lateResponses)); len(got) != 1 || got["http:b"] != 9002 {
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := srv.dial(t).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	responses := receive(stream.Recv)
	send := func(req *discoveryv3.DiscoveryRequest) {
		t.Helper()
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	var lastEDS *discoveryv3.DiscoveryResponse
	send(&discoveryv3.DiscoveryRequest{Node: testNode("cds"), TypeUrl: resource.ClusterType})
	for i, step := range []struct {
		clusters []string
		eds      []string
	}{
		{[]string{"http:a", "http:b"}, []string{"http:a"}},
		{[]string{"http:a", "http:b", "http:c"}, []string{"http:a", "http:c"}},
		{[]string{"http:a", "http:c"}, nil},
	} {
		resp := next(t, responses)
		if got := clusterNamesOf(t, resp); resp.GetTypeUrl() != resource.ClusterType || !slices.Equal(got, step.clusters) {
			t.Fatalf("response %d: %s with clusters %v, want clusters %v", i, resp.GetTypeUrl(), got, step.clusters)
		}
		send(&discoveryv3.DiscoveryRequest{TypeUrl: resource.ClusterType, VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce()})
		if step.eds == nil {
			break
		}
		send(&discoveryv3.DiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNames: step.eds,
			VersionInfo: lastEDS.GetVersionInfo(), ResponseNonce: lastEDS.GetNonce()})
		lastEDS = next(t, responses)
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := srv.dial(t).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	responses := receive(stream.Recv)
	send := func(req *discoveryv3.DeltaDiscoveryRequest) {
		t.Helper()
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	// A request without names is a (legacy) wildcard subscription.
	send(&discoveryv3.DeltaDiscoveryRequest{Node: testNode("wildcard"), TypeUrl: resource.EndpointType})
	resp := next(t, responses)
	if got := deltaNames(resp); !slices.Equal(got, []string{"http:a", "http:b"}) {
		t.Fatalf("wildcard response holds %v, want http:a and http:b", got)
	}
	send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResponseNonce: resp.GetNonce(),
		ResourceNamesSubscribe: []string{"http:a"}})
	resp = next(t, responses)
	if got := deltaNames(resp); !slices.Equal(got, []string{"http:a"}) {
		t.Fatalf("subscribing to http:a explicitly brought %v, want [http:a]", got)
	}
	send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResponseNonce: resp.GetNonce(),
		ResourceNamesUnsubscribe: []string{"http:a"}})
	resp = next(t, responses)
	if got := deltaNames(resp); !slices.Equal(got, []string{"http:a"}) || len(resp.GetRemovedResources()) != 0 {
		t.Fatalf("unsubscribing http:a while wildcard brought %v (removed %v), want http:a again",
			got, resp.GetRemovedResources())
	}
}
