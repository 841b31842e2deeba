package controlplane

import (
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// histogram returns the sample count and sum of a histogram's series for typeURL.
func (s *testServer) histogram(t *testing.T, name, typeURL string) (uint64, float64) {
	t.Helper()
	families, err := s.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "type_url" && l.GetValue() == typeURL {
					return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
				}
			}
		}
	}
	return 0, 0
}

// TestPushLatencyAndSize: every response is measured by type — its encoded size, and its
// latency from the change it carries (not from the stream's earlier request) or, for a first
// request, from that request.
func TestPushLatencyAndSize(t *testing.T) {
	srv := startServer(t)
	g := ir.Gateway{Clusters: []ir.Cluster{httpCluster("http:a", 2, 8080), httpCluster("http:b", 2, 8080)}}
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	c := srv.openDelta(t, &discoveryv3.DeltaDiscoveryRequest{Node: testNode("metrics"), TypeUrl: resource.ClusterType})
	cds := c.next()
	c.ack(cds)
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: []string{"http:a", "http:b"}})
	eds := c.next()
	c.ack(eds)

	if n, sum := srv.histogram(t, "rpcbridge_xds_push_size_bytes", resource.ClusterType); n != 1 || sum != float64(proto.Size(cds)) {
		t.Errorf("CDS push size: %d samples summing %v, want 1 of %d bytes", n, sum, proto.Size(cds))
	}
	if n, _ := srv.histogram(t, "rpcbridge_xds_push_latency_seconds", resource.ClusterType); n != 1 {
		t.Errorf("CDS push latency: %d samples, want 1", n)
	}

	_, firstEDS := srv.histogram(t, "rpcbridge_xds_push_latency_seconds", resource.EndpointType)
	// A gap between the stream's last request and the change: a latency measured from the
	// request would include it.
	time.Sleep(300 * time.Millisecond)
	before := time.Now()
	g.Clusters[1].Endpoints[0].Port = 9090
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	changed := c.next()
	took := time.Since(before)
	n, sum := srv.histogram(t, "rpcbridge_xds_push_latency_seconds", resource.EndpointType)
	if n != 2 {
		t.Fatalf("EDS push latency: %d samples, want 2", n)
	}
	if latency := sum - firstEDS; latency > took.Seconds() {
		t.Errorf("the changed EDS push took %vs by the histogram, more than the %v from Update to the client: measured from the request, not the change", latency, took)
	}
	if n, sum := srv.histogram(t, "rpcbridge_xds_push_size_bytes", resource.EndpointType); n != 2 || sum != float64(proto.Size(eds)+proto.Size(changed)) {
		t.Errorf("EDS push size: %d samples summing %v, want 2 summing %d", n, sum, proto.Size(eds)+proto.Size(changed))
	}
}
