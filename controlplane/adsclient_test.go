package controlplane

import (
	"context"
	"slices"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/anypb"
)

// adsClient is the raw ADS client of the server tests: one state-of-the-world or delta stream
// to a testServer. It does nothing on its own (no automatic ACK, NACK or subscription): the test
// sends every request itself, so it controls and asserts the exact protocol exchange. Responses
// are read in the background and handed out one at a time, each wait bounded by giveUp. Use it
// through sotwClient (testServer.openSotW) or deltaClient (testServer.openDelta).
type adsClient[Req, Resp any] struct {
	t         *testing.T
	stream    grpc.BidiStreamingClient[Req, Resp]
	responses <-chan *Resp
}

// openADS opens a stream with open, starts reading it and sends first (which should carry the
// node). The stream ends with the test.
func openADS[Req, Resp any](t *testing.T, open func(context.Context, ...grpc.CallOption) (grpc.BidiStreamingClient[Req, Resp], error), first *Req) *adsClient[Req, Resp] {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	responses := make(chan *Resp, 64)
	go func() {
		defer close(responses)
		for {
			m, err := stream.Recv()
			if err != nil {
				return
			}
			responses <- m
		}
	}()
	c := &adsClient[Req, Resp]{t: t, stream: stream, responses: responses}
	c.send(first)
	return c
}

// send sends one request as it is.
func (c *adsClient[Req, Resp]) send(req *Req) {
	c.t.Helper()
	if err := c.stream.Send(req); err != nil {
		c.t.Fatal(err)
	}
}

// next waits for the next response, giving up after giveUp.
func (c *adsClient[Req, Resp]) next() *Resp {
	c.t.Helper()
	resp, ok := c.nextBefore(time.After(giveUp))
	if !ok {
		c.t.Fatal("gave up waiting for an xDS response")
	}
	return resp
}

// nextBefore returns the next response, or false once until fires first.
func (c *adsClient[Req, Resp]) nextBefore(until <-chan time.Time) (*Resp, bool) {
	c.t.Helper()
	select {
	case m, ok := <-c.responses:
		if !ok {
			c.t.Fatal("stream ended")
		}
		return m, true
	case <-until:
		return nil, false
	}
}

// sotwClient is an adsClient on a state-of-the-world stream.
type sotwClient struct {
	*adsClient[discoveryv3.DiscoveryRequest, discoveryv3.DiscoveryResponse]
}

// openSotW opens a state-of-the-world ADS stream and sends first.
func (s *testServer) openSotW(t *testing.T, first *discoveryv3.DiscoveryRequest) *sotwClient {
	t.Helper()
	return &sotwClient{openADS(t, s.dial(t).StreamAggregatedResources, first)}
}

// request asks for names of typeURL, ACKing acked (its version and nonce; nil ACKs nothing).
func (c *sotwClient) request(typeURL string, acked *discoveryv3.DiscoveryResponse, names ...string) {
	c.t.Helper()
	c.send(&discoveryv3.DiscoveryRequest{TypeUrl: typeURL, ResourceNames: names,
		VersionInfo: acked.GetVersionInfo(), ResponseNonce: acked.GetNonce()})
}

// nack rejects resp.
func (c *sotwClient) nack(resp *discoveryv3.DiscoveryResponse) {
	c.t.Helper()
	c.send(&discoveryv3.DiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce(), ErrorDetail: testRejection()})
}

// deltaClient is an adsClient on a delta stream.
type deltaClient struct {
	*adsClient[discoveryv3.DeltaDiscoveryRequest, discoveryv3.DeltaDiscoveryResponse]
}

// openDelta opens a delta ADS stream and sends first.
func (s *testServer) openDelta(t *testing.T, first *discoveryv3.DeltaDiscoveryRequest) *deltaClient {
	t.Helper()
	return &deltaClient{openADS(t, s.dial(t).DeltaAggregatedResources, first)}
}

// ack accepts resp without changing the subscription.
func (c *deltaClient) ack(resp *discoveryv3.DeltaDiscoveryResponse) {
	c.t.Helper()
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce()})
}

// nack rejects resp.
func (c *deltaClient) nack(resp *discoveryv3.DeltaDiscoveryResponse) {
	c.t.Helper()
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce(), ErrorDetail: testRejection()})
}

// dial opens a plain gRPC connection to the server.
func (s *testServer) dial(t *testing.T) discoveryv3.AggregatedDiscoveryServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
}

// testNode identifies the raw test clients.
func testNode(id string) *corev3.Node { return &corev3.Node{Id: id, Cluster: "test"} }

// testRejection is the error detail of the test clients' NACKs.
func testRejection() *status.Status {
	return &status.Status{Code: int32(codes.InvalidArgument), Message: "rejected by the test"}
}

// deltaNames lists the names of the resources in a delta response, sorted.
func deltaNames(resp *discoveryv3.DeltaDiscoveryResponse) []string {
	var names []string
	for _, r := range resp.GetResources() {
		names = append(names, r.GetName())
	}
	slices.Sort(names)
	return names
}

// deltaResources lists the resources of a delta response, in order.
func deltaResources(resp *discoveryv3.DeltaDiscoveryResponse) []*anypb.Any {
	var anys []*anypb.Any
	for _, r := range resp.GetResources() {
		anys = append(anys, r.GetResource())
	}
	return anys
}
