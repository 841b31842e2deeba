package dataplane_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	grpcjsonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/bookstore"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
)

const transcoderFilter = "envoy.filters.http.grpc_json_transcoder"

// grpcStack is a bookstore gRPC server behind a gateway fed by go-control-plane's xDS server.
type grpcStack struct {
	tb      testing.TB
	gw      *dataplane.Gateway
	cache   cache.SnapshotCache
	version int
	grpc    string // the bookstore's address
	mu      sync.Mutex
	nacks   int
}

// startGRPCStack starts the bookstore, an xDS server and a gateway, for tests and benchmarks.
func startGRPCStack(tb testing.TB) *grpcStack {
	tb.Helper()
	s := &grpcStack{tb: tb, cache: cache.NewSnapshotCache(false, cache.IDHash{}, nil)}
	s.grpc = bookstore.Start(tb, bookstore.MustDescriptors(tb))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	xds := server.NewServer(ctx, s.cache, server.CallbackFuncs{
		StreamDeltaRequestFunc: func(_ int64, req *discoverygrpc.DeltaDiscoveryRequest) error {
			if req.GetErrorDetail() != nil {
				s.mu.Lock()
				s.nacks++
				s.mu.Unlock()
			}
			return nil
		},
	})
	srv := grpc.NewServer()
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(srv, xds)
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { srv.Stop(); cancel() })

	s.gw = dataplane.New(dataplane.Options{XDSAddress: ln.Addr().String(), NodeID: nodeID, ListenAddress: "127.0.0.1:0"})
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.gw.Run(runCtx) }()
	tb.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			tb.Errorf("gateway Run: %v", err)
		}
	})
	return s
}

// push serves the transcoding configuration with the given descriptor set and endpoints.
func (s *grpcStack) push(descriptorBin []byte, endpoints ...xdsfixture.Endpoint) {
	s.tb.Helper()
	s.version++
	ls, rcs, cs, clas := transcodingResources(s.tb, descriptorBin, endpoints)
	setSnapshot(s.tb, s.cache, s.version, ls, rcs, cs, clas)
}

// transcodingResources are the resources in the shape the control plane emits for gRPC REST
// routes: an HCM with the transcoder filter disabled, one safe_regex route per binding
// (with the :method) carrying the transcoder as typed_per_filter_config, and an HTTP/2 EDS
// cluster. One more route turns match_incoming_request_route off, so the call is routed
// again as gRPC to the cluster "elsewhere", which has no endpoint.
func transcodingResources(tb testing.TB, descriptorBin []byte, endpoints []xdsfixture.Endpoint) (
	[]*listenerv3.Listener, []*routev3.RouteConfiguration, []*clusterv3.Cluster, []*endpointv3.ClusterLoadAssignment) {
	cfg := &grpcjsonv3.GrpcJsonTranscoder{
		DescriptorSet:             &grpcjsonv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: descriptorBin},
		Services:                  []string{bookstore.Service},
		PrintOptions:              &grpcjsonv3.GrpcJsonTranscoder_PrintOptions{},
		MatchIncomingRequestRoute: true,
		ConvertGrpcStatus:         true,
	}
	perRoute := mustAny(tb, cfg)
	rerouted := proto.Clone(cfg).(*grpcjsonv3.GrpcJsonTranscoder)
	rerouted.MatchIncomingRequestRoute = false
	route := func(regex, method, cluster string, typed *anypb.Any) *routev3.Route {
		r := xdsfixture.PrefixRoute("/", cluster, xdsfixture.Method(method))
		r.Match.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: regex}}
		r.TypedPerFilterConfig = map[string]*anypb.Any{transcoderFilter: typed}
		return r
	}
	grpcRoute := xdsfixture.PrefixRoute("/bookstore.v1.Bookstore/", "elsewhere")
	grpcRoute.Match.Grpc = &routev3.RouteMatch_GrpcRouteMatchOptions{}
	routes := []*routev3.Route{
		route(`/v1/shelves/[^/:]+`, "GET", "bookstore", perRoute),
		route(`/v1/shelves/[^/:]+/books`, "POST", "bookstore", perRoute),
		route(`/v1/shelves/[^/:]+/books:stream`, "GET", "bookstore", perRoute),
		route(`/v1/fail/[^/:]+`, "GET", "bookstore", perRoute),
		route(`/v1/shelves/[^/:]+/titles`, "GET", "bookstore", mustAny(tb, rerouted)),
		grpcRoute,
	}
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: httpName,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource: &corev3.ConfigSource{
				ResourceApiVersion:    corev3.ApiVersion_V3,
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			},
			RouteConfigName: httpName,
		}},
		HttpFilters: []*hcmv3.HttpFilter{
			{Name: transcoderFilter, Disabled: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(tb, &grpcjsonv3.GrpcJsonTranscoder{
				DescriptorSet: &grpcjsonv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: descriptorBin}})}},
			{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(tb, &routerv3.Router{})}},
		},
	}
	vh := xdsfixture.VirtualHost("rpcbridge", []string{"*"}, routes...)
	vh.RetryPolicy = xdsfixture.NeverSentRetry() // a dead endpoint sits beside the live one
	return []*listenerv3.Listener{xdsfixture.ListenerWithHCM(httpName, hcm)},
		[]*routev3.RouteConfiguration{xdsfixture.RouteConfig(httpName, vh)},
		[]*clusterv3.Cluster{xdsfixture.Cluster("bookstore", "bookstore", true), xdsfixture.Cluster("elsewhere", "elsewhere", true)},
		[]*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("bookstore", endpoints...), xdsfixture.Assignment("elsewhere")}
}

func mustAny(tb testing.TB, m proto.Message) *anypb.Any {
	tb.Helper()
	a, err := anypb.New(m)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// call sends one request through the gateway.
func (s *grpcStack) call(method, target, body string) (int, http.Header, string, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	addr := s.gw.Addr()
	if addr == nil {
		// Run binds the listener in its own goroutine; under load the first call can come first.
		return 0, nil, "", errors.New("the gateway is not listening yet")
	}
	req, err := http.NewRequest(method, "http://"+addr.String()+target, r)
	if err != nil {
		return 0, nil, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: giveUp}).Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(out), err
}

// sameJSON reports whether two JSON documents are equal.
func sameJSON(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}

// bookstoreEndpoint is the fixture endpoint of the stack's gRPC server.
func (s *grpcStack) endpoint() xdsfixture.Endpoint {
	host, port, _ := net.SplitHostPort(s.grpc)
	p, _ := strconv.Atoi(port)
	return xdsfixture.Endpoint{Host: host, Port: uint32(p)}
}

// descriptorBin is the serialized bookstore descriptor set.
func descriptorBin(tb testing.TB) []byte {
	tb.Helper()
	bin, err := proto.Marshal(bookstore.MustDescriptors(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// waitServing waits until the gateway transcodes GetShelf, giving up after the usual bound.
func (s *grpcStack) waitServing() {
	s.tb.Helper()
	deadline := time.Now().Add(giveUp)
	for {
		code, _, body, err := s.call("GET", "/v1/shelves/1", "")
		if err == nil && code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("gave up waiting for the gateway to transcode: %d %s %v", code, body, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
