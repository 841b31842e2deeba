package xdsclient_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/xdsclient"
)

const nodeID = "xdsclient-test"

// recorder is a Watcher that subscribes EDS by cluster name, rejects clusters named "bad",
// and keeps what it accepted.
type recorder struct {
	mu       sync.Mutex
	accepted xdsclient.State
	nacks    int
}

func (r *recorder) Accept(_ string, state xdsclient.State) (xdsclient.Interest, error) {
	clusters := xdsclient.Messages[*clusterv3.Cluster](state, resource.ClusterType)
	if _, bad := clusters["bad"]; bad {
		return nil, errors.New(`cluster "bad" is not acceptable`)
	}
	r.mu.Lock()
	r.accepted = state
	r.mu.Unlock()
	var names []string
	for name := range clusters {
		names = append(names, name)
	}
	return xdsclient.Interest{resource.EndpointType: names}, nil
}

// names returns the sorted names of one type in the last accepted state.
func (r *recorder) names(typeURL string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for name := range r.accepted[typeURL] {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// xdsServer is go-control-plane's xDS server recording the delta requests it receives. It can
// be stopped (as a crashed control plane: its connections drop) and served again on the same
// address with the same cache.
type xdsServer struct {
	t        *testing.T
	cache    cache.SnapshotCache
	addr     string
	version  int
	mu       sync.Mutex
	requests []*discoveryv3.DeltaDiscoveryRequest
	stop     func()
}

func startServer(t *testing.T) *xdsServer {
	t.Helper()
	s := &xdsServer{t: t, cache: cache.NewSnapshotCache(false, cache.IDHash{}, nil)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(func() { s.stop() })
	return s
}

// serve serves the cache on ln until stop.
func (s *xdsServer) serve(ln net.Listener) {
	ctx, cancel := context.WithCancel(context.Background())
	xds := server.NewServer(ctx, s.cache, server.CallbackFuncs{
		StreamDeltaRequestFunc: func(_ int64, req *discoveryv3.DeltaDiscoveryRequest) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.requests = append(s.requests, req)
			return nil
		},
	})
	g := grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, xds)
	go func() { _ = g.Serve(ln) }()
	s.stop = func() { g.Stop(); cancel() }
}

// restart serves again on the same address after stop.
func (s *xdsServer) restart() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("listen again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

func (s *xdsServer) push(t *testing.T, clusters []string, assignments []string) {
	t.Helper()
	s.pushFor(t, nodeID, clusters, assignments)
}

// pushFor sets the snapshot of one node id.
func (s *xdsServer) pushFor(t *testing.T, node string, clusters []string, assignments []string) {
	t.Helper()
	s.version++
	res := map[resource.Type][]types.Resource{}
	for _, name := range clusters {
		res[resource.ClusterType] = append(res[resource.ClusterType], xdsfixture.Cluster(name, name, false))
	}
	for _, name := range assignments {
		res[resource.EndpointType] = append(res[resource.EndpointType],
			xdsfixture.Assignment(name, xdsfixture.Endpoint{Host: "10.0.0.1", Port: 80}))
	}
	snap, err := cache.NewSnapshot(strconv.Itoa(s.version), res)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cache.SetSnapshot(context.Background(), node, snap); err != nil {
		t.Fatal(err)
	}
}

// seen reports whether the server received a request satisfying match.
func (s *xdsServer) seen(match func(*discoveryv3.DeltaDiscoveryRequest) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.requests, match)
}

func startClient(t *testing.T, addr string, w xdsclient.Watcher, onResponse func(xdsclient.Response)) {
	t.Helper()
	startClientWith(t, xdsclient.Config{Servers: []string{addr}, Watcher: w, OnResponse: onResponse})
}

// startClientWith runs a client of cfg, with the node and the types of the gateway filled in,
// until the test ends.
func startClientWith(t *testing.T, cfg xdsclient.Config) {
	t.Helper()
	cfg.Node = &corev3.Node{Id: nodeID}
	cfg.WildcardTypes = []string{resource.ListenerType, resource.ClusterType}
	cfg.NamedTypes = []string{resource.RouteType, resource.EndpointType}
	c := xdsclient.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
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

func wantNames(r *recorder, typeURL string, want ...string) func() error {
	return func() error {
		if got := r.names(typeURL); !slices.Equal(got, want) {
			return fmt.Errorf("%s names = %v, want %v", typeURL, got, want)
		}
		return nil
	}
}

// TestSubscriptionsFollowClusters checks that EDS is subscribed by the names the watcher
// returns (an unreferenced assignment is never received), and that removing a cluster
// unsubscribes its assignment and drops it from the state.
func TestSubscriptionsFollowClusters(t *testing.T) {
	s := startServer(t)
	s.push(t, []string{"a", "b"}, []string{"a", "b", "unreferenced"})
	w := &recorder{}
	startClient(t, s.addr, w, nil)
	eventually(t, "assignments a and b", wantNames(w, resource.EndpointType, "a", "b"))

	s.push(t, []string{"a"}, []string{"a", "b", "unreferenced"})
	eventually(t, "cluster b removed", wantNames(w, resource.ClusterType, "a"))
	eventually(t, "EDS unsubscribe from b", func() error {
		if !s.seen(func(r *discoveryv3.DeltaDiscoveryRequest) bool {
			return r.GetTypeUrl() == resource.EndpointType && slices.Equal(r.GetResourceNamesUnsubscribe(), []string{"b"})
		}) {
			return errors.New("no unsubscribe request for b")
		}
		return nil
	})
	if !s.seen(func(r *discoveryv3.DeltaDiscoveryRequest) bool {
		return r.GetTypeUrl() == resource.ClusterType && slices.Equal(r.GetResourceNamesSubscribe(), []string{"*"})
	}) {
		t.Errorf("CDS was not subscribed with an explicit wildcard")
	}
	// The next accepted response shows the state without b's assignment.
	s.push(t, []string{"a", "c"}, []string{"a", "b", "c"})
	eventually(t, "assignments after removal", wantNames(w, resource.EndpointType, "a", "c"))
}

// TestNACKKeepsState checks that a rejected response is NACKed with error_detail, leaves the
// accepted state alone, and that a later good response is accepted again.
func TestNACKKeepsState(t *testing.T) {
	s := startServer(t)
	s.push(t, []string{"a"}, []string{"a"})
	w := &recorder{}
	var mu sync.Mutex
	var nacks []error
	startClient(t, s.addr, w, func(r xdsclient.Response) {
		if r.Err != nil {
			mu.Lock()
			nacks = append(nacks, r.Err)
			mu.Unlock()
		}
	})
	eventually(t, "cluster a", wantNames(w, resource.ClusterType, "a"))

	s.push(t, []string{"a", "bad"}, []string{"a"})
	eventually(t, "CDS NACK", func() error {
		if !s.seen(func(r *discoveryv3.DeltaDiscoveryRequest) bool {
			return r.GetTypeUrl() == resource.ClusterType && r.GetErrorDetail().GetMessage() == `cluster "bad" is not acceptable`
		}) {
			return errors.New("no NACK with the watcher's error")
		}
		return nil
	})
	if got := w.names(resource.ClusterType); !slices.Equal(got, []string{"a"}) {
		t.Errorf("clusters after NACK = %v, want [a]", got)
	}
	mu.Lock()
	if len(nacks) == 0 {
		t.Errorf("OnResponse was not told about the NACK")
	}
	mu.Unlock()

	s.push(t, []string{"a", "c"}, []string{"a", "c"})
	eventually(t, "good config after NACK", wantNames(w, resource.ClusterType, "a", "c"))
}
