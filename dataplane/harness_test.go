package dataplane_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
)

const (
	nodeID   = "gateway-test"
	giveUp   = 15 * time.Second
	httpName = gatewayv1.HTTPListener
)

// localAddress is the gateway's local address in tests: what it appends to X-Forwarded-For
// for the loopback clients of the tests, as Envoy appends its own address.
var localAddress = netip.MustParseAddr("192.0.2.10")

// controlPlane is go-control-plane's real xDS server on a loopback gRPC listener.
type controlPlane struct {
	t       *testing.T
	cache   cache.SnapshotCache
	addr    string
	grpc    *grpc.Server
	version int
	mu      sync.Mutex
	nacks   []*discoverygrpc.DeltaDiscoveryRequest
	// features are the client_features of the first request that named a node.
	features []string
}

// startControlPlane starts an xDS server on a free loopback port.
func startControlPlane(t *testing.T) *controlPlane {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for xDS: %v", err)
	}
	return serveControlPlane(t, ln)
}

// serveControlPlane serves go-control-plane's xDS server (with an empty snapshot cache) on ln.
func serveControlPlane(t *testing.T, ln net.Listener) *controlPlane {
	t.Helper()
	cp := &controlPlane{t: t, cache: cache.NewSnapshotCache(false, cache.IDHash{}, nil)}
	ctx, cancel := context.WithCancel(context.Background())
	srv := server.NewServer(ctx, cp.cache, server.CallbackFuncs{
		StreamDeltaRequestFunc: func(_ int64, req *discoverygrpc.DeltaDiscoveryRequest) error {
			cp.mu.Lock()
			defer cp.mu.Unlock()
			if req.GetErrorDetail() != nil {
				cp.nacks = append(cp.nacks, req)
			}
			if req.GetNode() != nil && cp.features == nil {
				cp.features = append([]string{}, req.GetNode().GetClientFeatures()...)
			}
			return nil
		},
	})
	cp.addr = ln.Addr().String()
	cp.grpc = grpc.NewServer()
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(cp.grpc, srv)
	go func() { _ = cp.grpc.Serve(ln) }()
	t.Cleanup(func() { cp.grpc.Stop(); cancel() })
	return cp
}

// push sets a new snapshot for the test node.
func (cp *controlPlane) push(ls []*listenerv3.Listener, rcs []*routev3.RouteConfiguration, cs []*clusterv3.Cluster, clas []*endpointv3.ClusterLoadAssignment) {
	cp.t.Helper()
	cp.version++
	setSnapshot(cp.t, cp.cache, cp.version, ls, rcs, cs, clas)
}

// setSnapshot sets the test node's snapshot in c to the given resources, as version.
func setSnapshot(tb testing.TB, c cache.SnapshotCache, version int, ls []*listenerv3.Listener, rcs []*routev3.RouteConfiguration,
	cs []*clusterv3.Cluster, clas []*endpointv3.ClusterLoadAssignment) {
	tb.Helper()
	res := map[resource.Type][]types.Resource{}
	for _, l := range ls {
		res[resource.ListenerType] = append(res[resource.ListenerType], l)
	}
	for _, rc := range rcs {
		res[resource.RouteType] = append(res[resource.RouteType], rc)
	}
	for _, c := range cs {
		res[resource.ClusterType] = append(res[resource.ClusterType], c)
	}
	for _, cla := range clas {
		res[resource.EndpointType] = append(res[resource.EndpointType], cla)
	}
	snap, err := cache.NewSnapshot(strconv.Itoa(version), res)
	if err != nil {
		tb.Fatalf("snapshot: %v", err)
	}
	if err := c.SetSnapshot(context.Background(), nodeID, snap); err != nil {
		tb.Fatalf("set snapshot: %v", err)
	}
}

// nacked returns the NACKs received so far.
func (cp *controlPlane) nacked() []*discoverygrpc.DeltaDiscoveryRequest {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append([]*discoverygrpc.DeltaDiscoveryRequest(nil), cp.nacks...)
}

// startGateway runs a gateway against cp until the test ends and waits until it listens.
func startGateway(t *testing.T, xdsAddr string, reg prometheus.Registerer) *dataplane.Gateway {
	t.Helper()
	return runGateway(t, dataplane.Options{
		XDSAddress: xdsAddr, NodeID: nodeID, NodeCluster: "test", ListenAddress: "127.0.0.1:0", Registerer: reg,
		LocalAddress: localAddress,
	})
}

// runGateway runs a gateway with opts until the test ends and waits until it listens.
func runGateway(t *testing.T, opts dataplane.Options) *dataplane.Gateway {
	t.Helper()
	gw := dataplane.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gw.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
	})
	eventually(t, "gateway listening", func() error {
		if gw.Addr() == nil {
			return fmt.Errorf("no address yet")
		}
		return nil
	})
	return gw
}

// eventually polls check until it succeeds, failing the test after the give-up bound.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(giveUp)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// echo is what the test upstreams answer: who they are and what they received.
type echo struct {
	Server  string      `json:"server"`
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Query   string      `json:"query"`
	Proto   int         `json:"proto"`
	Headers http.Header `json:"headers"`
}

// echoHandler answers every request with an echo body naming the server.
func echoHandler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echo{Server: name, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Proto: r.ProtoMajor, Headers: r.Header})
	})
}

// startUpstream starts an HTTP/1.1 echo server and returns it with its endpoint.
func startUpstream(t *testing.T, name string) xdsfixture.Endpoint {
	t.Helper()
	srv := httptest.NewServer(echoHandler(name))
	t.Cleanup(srv.Close)
	return endpointOf(t, srv.Listener.Addr())
}

// endpointOf converts a listener address to a fixture endpoint.
func endpointOf(t *testing.T, addr net.Addr) xdsfixture.Endpoint {
	t.Helper()
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		t.Fatalf("address %v is not TCP", addr)
	}
	return xdsfixture.Endpoint{Host: tcp.IP.String(), Port: uint32(tcp.Port)}
}

// deadEndpoint returns an endpoint on a port that was just closed.
func deadEndpoint(t *testing.T) xdsfixture.Endpoint {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ep := endpointOf(t, ln.Addr())
	_ = ln.Close()
	return ep
}

// result is a decoded gateway response.
type result struct {
	code  int
	echo  echo
	error dataplane.ErrorBody
	raw   string
}

// do sends a request through the gateway and decodes the answer.
func do(t *testing.T, gw *dataplane.Gateway, method, target string, header http.Header) (result, error) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+gw.Addr().String()+target, nil)
	if err != nil {
		return result{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{Timeout: giveUp}
	resp, err := client.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, err
	}
	out := result{code: resp.StatusCode, raw: string(body)}
	if resp.StatusCode == http.StatusOK {
		err = json.Unmarshal(body, &out.echo)
	} else if resp.Header.Get("Content-Type") == "application/json" {
		err = json.Unmarshal(body, &out.error)
	}
	return out, err
}

// basicConfig is one listener + one route config routing everything under / to cluster c.
func basicConfig(routes ...*routev3.Route) ([]*listenerv3.Listener, []*routev3.RouteConfiguration) {
	return []*listenerv3.Listener{xdsfixture.Listener(httpName, httpName)},
		[]*routev3.RouteConfiguration{xdsfixture.RouteConfig(httpName, xdsfixture.VirtualHost("rpcbridge", []string{"*"}, routes...))}
}

// waitFor polls a request until its answer satisfies accept.
func waitFor(t *testing.T, gw *dataplane.Gateway, what, method, target string, accept func(result) error) result {
	t.Helper()
	var last result
	eventually(t, what, func() error {
		r, err := do(t, gw, method, target, nil)
		if err != nil {
			return err
		}
		last = r
		return accept(r)
	})
	return last
}

// fromServer accepts a 200 answer from the named upstream.
func fromServer(name string) func(result) error {
	return func(r result) error {
		if r.code != http.StatusOK || r.echo.Server != name {
			return fmt.Errorf("got %d from %q (%s), want 200 from %q", r.code, r.echo.Server, r.raw, name)
		}
		return nil
	}
}

// syncBuffer is a log sink that the gateway's goroutines and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
