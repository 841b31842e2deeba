package controlplane

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// nackWindow is how long the NACK test counts responses; unpatched go-control-plane sends
// thousands in this time.
const nackWindow = 2 * time.Second

// TestSotWNACKIsNotRepeated connects a raw state-of-the-world client that rejects every response.
// Over a window, the server sends only a handful of responses (not a loop); new content is still
// delivered to it; and the NACK counter counts the rejections.
func TestSotWNACKIsNotRepeated(t *testing.T) {
	srv := startServer(t)
	g := ir.Gateway{Clusters: []ir.Cluster{httpCluster("http:a", 2, 8080)}}
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	// The client NACKs every response as soon as it has read it.
	c := srv.openSotW(t, &discoveryv3.DiscoveryRequest{Node: testNode("nacker"), TypeUrl: resource.ClusterType})
	first := c.next()
	c.nack(first)
	if first.GetVersionInfo() != srv.Versions()[resource.ClusterType] {
		t.Fatalf("first response version %q, want %q", first.GetVersionInfo(), srv.Versions()[resource.ClusterType])
	}

	window := time.After(nackWindow)
	repeats := 0
	for {
		resp, ok := c.nextBefore(window)
		if !ok {
			break
		}
		c.nack(resp)
		repeats++
	}
	if repeats > 2 {
		t.Fatalf("the server re-sent rejected config %d times in %s", repeats, nackWindow)
	}

	g.Clusters = append(g.Clusters, httpCluster("http:b", 1, 8080))
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	want := srv.Versions()[resource.ClusterType]
	for {
		resp := c.next()
		c.nack(resp)
		if resp.GetVersionInfo() != want {
			continue
		}
		if n := len(resp.GetResources()); n != 2 {
			t.Fatalf("new content has %d clusters, want 2", n)
		}
		c := &clusterv3.Cluster{}
		if err := resp.GetResources()[1].UnmarshalTo(c); err != nil {
			t.Fatal(err)
		}
		break
	}
	if n := srv.counter(t, "rpcbridge_xds_nacks_total", map[string]string{"type_url": resource.ClusterType}); n < 1 {
		t.Errorf("rpcbridge_xds_nacks_total = %v, want at least 1", n)
	}
}

// TestUpdateErrorKeepsLastGoodConfig updates with a valid gateway, then with one whose route
// names a missing cluster: Update fails, the error is counted, and a client that connects
// afterwards still gets the good config.
func TestUpdateErrorKeepsLastGoodConfig(t *testing.T) {
	srv := startServer(t)
	good := ir.Gateway{Clusters: []ir.Cluster{httpCluster("http:good", 1, 8080)}}
	if err := srv.Update(good); err != nil {
		t.Fatal(err)
	}
	goodVersions := srv.Versions()
	bad := ir.Gateway{
		Clusters: []ir.Cluster{httpCluster("http:other", 1, 8080)},
		Routes: []ir.Route{{
			Name: "broken", Match: ir.Match{PathPrefix: "/"}, Cluster: "http:missing",
		}},
	}
	if err := srv.Update(bad); err == nil {
		t.Fatal("Update accepted a route to a missing cluster")
	}
	if n := srv.counter(t, "rpcbridge_xds_translate_errors_total", nil); n != 1 {
		t.Errorf("rpcbridge_xds_translate_errors_total = %v, want 1", n)
	}
	if got := srv.Versions(); got[resource.ClusterType] != goodVersions[resource.ClusterType] {
		t.Errorf("versions changed after a failed update: %v, want %v", got, goodVersions)
	}

	resp := srv.openSotW(t, &discoveryv3.DiscoveryRequest{Node: testNode("late"), TypeUrl: resource.ClusterType}).next()
	if resp.GetVersionInfo() != goodVersions[resource.ClusterType] || len(resp.GetResources()) != 1 {
		t.Fatalf("client got version %q with %d clusters, want the good version %q with 1",
			resp.GetVersionInfo(), len(resp.GetResources()), goodVersions[resource.ClusterType])
	}
	c := &clusterv3.Cluster{}
	if err := resp.GetResources()[0].UnmarshalTo(c); err != nil {
		t.Fatal(err)
	}
	if c.GetName() != "http:good" {
		t.Fatalf("client got cluster %q, want http:good", c.GetName())
	}
}

// TestDeltaNACKIsCountedAndNotResent NACKs a delta response: the NACK is counted, and the next
// response the client gets is the new content (only the added cluster), not the rejected one.
func TestDeltaNACKIsCountedAndNotResent(t *testing.T) {
	srv := startServer(t)
	g := ir.Gateway{Clusters: []ir.Cluster{httpCluster("http:a", 1, 8080)}}
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	c := srv.openDelta(t, &discoveryv3.DeltaDiscoveryRequest{Node: testNode("delta-nacker"), TypeUrl: resource.ClusterType})
	c.nack(c.next())
	g.Clusters = append(g.Clusters, httpCluster("http:b", 1, 8080))
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	resp := c.next()
	if names := deltaNames(resp); len(names) != 1 || names[0] != "http:b" {
		t.Fatalf("after a NACK and new content the client got %v, want only [http:b]", names)
	}
	if n := srv.counter(t, "rpcbridge_xds_nacks_total", map[string]string{"type_url": resource.ClusterType}); n != 1 {
		t.Errorf("rpcbridge_xds_nacks_total = %v, want 1", n)
	}
}

// TestBackoffAfter checks the push spacing for a client that keeps NACKing.
func TestBackoffAfter(t *testing.T) {
	const initial, maxBackoff = 100 * time.Millisecond, 30 * time.Second
	for nacks, want := range map[int]time.Duration{
		0: 0, 1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond,
		9: 25600 * time.Millisecond, 10: maxBackoff, 1000: maxBackoff,
	} {
		if got := backoffAfter(nacks, initial, maxBackoff); got != want {
			t.Errorf("backoffAfter(%d) = %s, want %s", nacks, got, want)
		}
	}
}
