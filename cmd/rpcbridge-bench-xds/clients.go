package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/anypb"
)

// proxy is one simulated Envoy: its own connection and ADS stream, subscribed to every cluster
// (CDS wildcard) and then to every cluster's load assignment by name, ACKing every response. To
// keep the measurement about the server, it is lighter than Envoy: it reads only the name of
// each load assignment it receives (decoding in full only the watched one) and forgets the names
// once it holds all of them; it reports when it first holds the watched endpoint port.
type proxy struct {
	conn  *grpc.ClientConn
	delta bool

	mu      sync.Mutex
	seen    map[string]struct{} // load assignments received, until all have arrived
	target  string
	want    uint32
	reached chan time.Time
	ready   chan struct{}
	readyN  int
}

// dialProxy connects one proxy to addr and starts its stream.
func dialProxy(ctx context.Context, addr string, id int, delta bool, services int) (*proxy, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", addr, err)
	}
	p := &proxy{conn: conn, delta: delta, seen: map[string]struct{}{}, ready: make(chan struct{}), readyN: services}
	client := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	node := &corev3.Node{Id: fmt.Sprintf("bench-%d", id), Cluster: "bench"}
	if delta {
		stream, err := client.DeltaAggregatedResources(ctx)
		if err != nil {
			return nil, err
		}
		go p.runDelta(stream, node)
	} else {
		stream, err := client.StreamAggregatedResources(ctx)
		if err != nil {
			return nil, err
		}
		go p.runSotW(stream, node)
	}
	return p, nil
}

// expect arms the proxy to report when the load assignment of cluster holds port.
func (p *proxy) expect(cluster string, port uint32) <-chan time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target, p.want = cluster, port
	p.reached = make(chan time.Time, 1)
	return p.reached
}

// hold records received load assignments.
func (p *proxy) hold(resources []*anypb.Any) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range resources {
		name := claName(a.GetValue())
		if p.seen != nil {
			p.seen[name] = struct{}{}
			if len(p.seen) == p.readyN {
				close(p.ready)
				p.seen = nil
			}
		}
		if name != p.target || p.reached == nil {
			continue
		}
		cla := &endpointv3.ClusterLoadAssignment{}
		if err := a.UnmarshalTo(cla); err != nil {
			continue
		}
		port := cla.GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetPortValue()
		if port == p.want {
			select {
			case p.reached <- now:
			default:
			}
		}
	}
}

// claName reads the cluster_name (field 1) of a wire-form ClusterLoadAssignment.
func claName(b []byte) string {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return ""
			}
			return string(v)
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return ""
		}
		b = b[m:]
	}
	return ""
}

// clusterNames decodes the names of the clusters of a CDS response.
func clusterNames(resources []*anypb.Any) []string {
	names := make([]string, 0, len(resources))
	for _, a := range resources {
		c := &clusterv3.Cluster{}
		if err := a.UnmarshalTo(c); err == nil {
			names = append(names, c.GetName())
		}
	}
	return names
}

func (p *proxy) runSotW(stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient, node *corev3.Node) {
	if stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resource.ClusterType}) != nil {
		return
	}
	var edsNames []string
	for {
		resp, err := stream.Recv()
		if err != nil {
			return
		}
		switch resp.GetTypeUrl() {
		case resource.ClusterType:
			first := edsNames == nil
			edsNames = clusterNames(resp.GetResources())
			_ = stream.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resource.ClusterType, VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce()})
			if first {
				_ = stream.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNames: edsNames})
			}
		case resource.EndpointType:
			p.hold(resp.GetResources())
			_ = stream.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNames: edsNames,
				VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce()})
		}
	}
}

func (p *proxy) runDelta(stream discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient, node *corev3.Node) {
	if stream.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: resource.ClusterType}) != nil {
		return
	}
	subscribed := false
	for {
		resp, err := stream.Recv()
		if err != nil {
			return
		}
		resources := make([]*anypb.Any, 0, len(resp.GetResources()))
		for _, r := range resp.GetResources() {
			resources = append(resources, r.GetResource())
		}
		switch resp.GetTypeUrl() {
		case resource.ClusterType:
			_ = stream.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ClusterType, ResponseNonce: resp.GetNonce()})
			if !subscribed {
				subscribed = true
				_ = stream.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: clusterNames(resources)})
			}
		case resource.EndpointType:
			p.hold(resources)
			_ = stream.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResponseNonce: resp.GetNonce()})
		}
	}
}
