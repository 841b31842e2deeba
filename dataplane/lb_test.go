package dataplane

import (
	"context"
	"errors"
	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// testPool builds a pool over endpoints with the given policies (round robin, no limits unless
// set).
func testPool(endpoints []routetable.Endpoint, lb routetable.LoadBalancing, limits routetable.CircuitBreakers, od *routetable.OutlierDetection) *pool {
	if lb.PanicThreshold == 0 {
		lb.PanicThreshold = 50
	}
	if limits.MaxRequests == 0 {
		limits.MaxRequests = 1024
	}
	c := &routetable.Cluster{Name: "c", Endpoints: endpoints, LoadBalancing: lb, CircuitBreakers: limits, OutlierDetection: od}
	return newPool(c, nil, newMetrics(nil, nil), slog.New(slog.DiscardHandler))
}

// picks returns the addresses of n picks, each released at once.
func picks(t *testing.T, p *pool, n int, tried []*host) []string {
	t.Helper()
	var out []string
	for range n {
		h, release, err := p.pick(context.Background(), tried, true)
		if err != nil {
			t.Fatalf("pick: %v", err)
		}
		release()
		out = append(out, h.addr)
	}
	return out
}

func TestSmoothWRRSequence(t *testing.T) {
	a, b, c := routetable.Endpoint{Address: "a:1", Weight: 5}, routetable.Endpoint{Address: "b:1", Weight: 1}, routetable.Endpoint{Address: "c:1", Weight: 1}
	// nginx's documented example for weights 5, 1, 1.
	p := testPool([]routetable.Endpoint{a, b, c}, routetable.LoadBalancing{}, routetable.CircuitBreakers{}, nil)
	if got, want := picks(t, p, 7, nil), []string{"a:1", "a:1", "b:1", "a:1", "c:1", "a:1", "a:1"}; !slices.Equal(got, want) {
		t.Errorf("picks = %v, want %v", got, want)
	}
	// A retry avoids the hosts tried while another is left.
	tried := []*host{p.slots[0].host}
	if got, want := picks(t, p, 4, tried), []string{"b:1", "c:1", "b:1", "c:1"}; !slices.Equal(got, want) {
		t.Errorf("picks avoiding a:1 = %v, want %v", got, want)
	}
	single := testPool([]routetable.Endpoint{b}, routetable.LoadBalancing{}, routetable.CircuitBreakers{}, nil)
	if got := picks(t, single, 2, []*host{single.slots[0].host}); !slices.Equal(got, []string{"b:1", "b:1"}) {
		t.Errorf("a retry on a one-host cluster goes to that host again: %v", got)
	}
	if _, _, err := testPool(nil, routetable.LoadBalancing{}, routetable.CircuitBreakers{}, nil).pick(context.Background(), nil, false); !errors.Is(err, errNoEndpoint) {
		t.Errorf("pick on an empty cluster: %v", err)
	}
}

// TestLeastRequest: FULL_SCAN never picks a host with more requests in flight than another;
// N_CHOICES with two hosts still sends about a quarter of the picks to the busier one (both
// samples fall on it), which is why the RPC default is FULL_SCAN.
func TestLeastRequest(t *testing.T) {
	eps := []routetable.Endpoint{{Address: "a:1", Weight: 1}, {Address: "b:1", Weight: 1}}
	full := testPool(eps, routetable.LoadBalancing{LeastRequest: true, FullScan: true}, routetable.CircuitBreakers{}, nil)
	full.slots[1].host.active.Add(3) // b is stalled with 3 calls in flight
	for _, addr := range picks(t, full, 200, nil) {
		if addr != "a:1" {
			t.Fatalf("full scan picked the busy host %s", addr)
		}
	}
	p2c := testPool(eps, routetable.LoadBalancing{LeastRequest: true, ChoiceCount: 2}, routetable.CircuitBreakers{}, nil)
	p2c.slots[1].host.active.Add(3)
	busy := 0
	for _, addr := range picks(t, p2c, 4000, nil) {
		if addr == "b:1" {
			busy++
		}
	}
	if busy < 700 || busy > 1300 { // expected 1000 (1/4); the bounds are > 10 standard deviations away
		t.Errorf("N_CHOICES sent %d of 4000 picks to the busy host, want about 1000", busy)
	}
	// Unequal weights: weighted round robin of weight / (active + 1).
	weighted := testPool([]routetable.Endpoint{{Address: "a:1", Weight: 1}, {Address: "b:1", Weight: 2}},
		routetable.LoadBalancing{LeastRequest: true, FullScan: true}, routetable.CircuitBreakers{}, nil)
	if got := picks(t, weighted, 3, nil); !slices.Equal(got, []string{"b:1", "a:1", "b:1"}) {
		t.Errorf("idle weighted picks = %v, want b, a, b", got)
	}
	weighted.slots[1].host.active.Add(3) // b's weight 2 becomes 2/4 = 0.5 against a's 1
	count := map[string]int{}
	for _, addr := range picks(t, weighted, 30, nil) {
		count[addr]++
	}
	if count["a:1"] != 20 || count["b:1"] != 10 {
		t.Errorf("weighted picks with b loaded = %v, want a 20, b 10", count)
	}
}

// TestRequestCaps: a host at its cap of requests in flight is left out; when every host is,
// and when the cluster is at max_requests, the pick overflows.
func TestRequestCaps(t *testing.T) {
	eps := []routetable.Endpoint{{Address: "a:1", Weight: 1}, {Address: "b:1", Weight: 1}}
	p := testPool(eps, routetable.LoadBalancing{}, routetable.CircuitBreakers{MaxRequests: 3, MaxRequestsPerEndpoint: 1}, nil)
	var releases []func()
	seen := map[string]bool{}
	for range 2 {
		h, release, err := p.pick(context.Background(), nil, false)
		if err != nil {
			t.Fatal(err)
		}
		seen[h.addr] = true
		releases = append(releases, release)
	}
	if len(seen) != 2 {
		t.Errorf("two calls in flight went to %v, want one per host (cap 1)", seen)
	}
	if _, _, err := p.pick(context.Background(), nil, false); !errors.Is(err, errOverflow) {
		t.Errorf("third call with both hosts at their cap: %v, want errOverflow", err)
	}
	releases[0]()
	releases[0]() // releasing twice counts once
	if _, release, err := p.pick(context.Background(), nil, false); err != nil {
		t.Errorf("after a release: %v", err)
	} else {
		release()
	}
	cluster := testPool(eps, routetable.LoadBalancing{}, routetable.CircuitBreakers{MaxRequests: 1}, nil)
	if _, _, err := cluster.pick(context.Background(), nil, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cluster.pick(context.Background(), nil, false); !errors.Is(err, errOverflow) {
		t.Errorf("second call at max_requests 1: %v, want errOverflow", err)
	}
}

// TestPanicThreshold: ejected hosts get no traffic until fewer than half of the hosts are left,
// then every host does (Envoy's panic mode).
func TestPanicThreshold(t *testing.T) {
	eps := []routetable.Endpoint{{Address: "a:1", Weight: 1}, {Address: "b:1", Weight: 1}, {Address: "c:1", Weight: 1}}
	p := testPool(eps, routetable.LoadBalancing{}, routetable.CircuitBreakers{}, nil)
	p.slots[0].host.ejected.Store(true)
	if got := picks(t, p, 4, nil); slices.Contains(got, "a:1") {
		t.Errorf("an ejected host got traffic with 2 of 3 healthy: %v", got)
	}
	p.slots[1].host.ejected.Store(true)
	if got := picks(t, p, 3, nil); !slices.Contains(got, "a:1") || !slices.Contains(got, "b:1") {
		t.Errorf("with 1 of 3 healthy (panic) every host should get traffic: %v", got)
	}
}

// TestPoolsKeepHostsAcrossTables: a table swap keeps the pool when nothing changed, and keeps
// the hosts (their requests in flight and ejection) of addresses that remain when it did.
func TestPoolsKeepHostsAcrossTables(t *testing.T) {
	m, discard := newMetrics(nil, nil), slog.New(slog.DiscardHandler)
	e1, e2 := routetable.Endpoint{Address: "127.0.0.1:1", Weight: 1}, routetable.Endpoint{Address: "127.0.0.1:2", Weight: 3}
	first, _ := newUpstreams(tableWithCluster(t, []routetable.Endpoint{e1, e2}), nil, m, discard)
	same, unused := newUpstreams(tableWithCluster(t, []routetable.Endpoint{e1, e2}), first, m, discard)
	if same["c"].pool != first["c"].pool || same["c"].transport != first["c"].transport {
		t.Errorf("pool or transport replaced although nothing changed")
	}
	if len(unused) != 0 {
		t.Errorf("unused transports = %d, want 0", len(unused))
	}
	first["c"].pool.slots[0].host.active.Add(1)
	changed, _ := newUpstreams(tableWithCluster(t, []routetable.Endpoint{e1}), first, m, discard)
	if changed["c"].pool == first["c"].pool {
		t.Errorf("pool kept although the endpoints changed")
	}
	if changed["c"].pool.slots[0].host != first["c"].pool.slots[0].host || changed["c"].pool.slots[0].host.active.Load() != 1 {
		t.Errorf("the remaining host lost its state")
	}
	if changed["c"].transport != first["c"].transport {
		t.Errorf("transport replaced although protocol and connect timeout are unchanged")
	}
	gone, unused := newUpstreams(tableWithCluster(t, nil, "other"), first, m, discard)
	if _, ok := gone["c"]; ok || len(unused) != 1 {
		t.Errorf("removed cluster: upstream kept = %v, unused transports = %d (want 1)", ok, len(unused))
	}
}

// tableWithCluster builds a table holding one EDS cluster (named "c" unless a name is given)
// whose assignment has the given endpoints.
func tableWithCluster(t *testing.T, endpoints []routetable.Endpoint, name ...string) *routetable.Table {
	t.Helper()
	clusterName := "c"
	if len(name) > 0 {
		clusterName = name[0]
	}
	var eps []xdsfixture.Endpoint
	for _, e := range endpoints {
		host, port, err := net.SplitHostPort(e.Address)
		if err != nil {
			t.Fatal(err)
		}
		p, err := strconv.ParseUint(port, 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, xdsfixture.Endpoint{Host: host, Port: uint32(p), Weight: e.Weight})
	}
	table, err := routetable.Build(routetable.Resources{
		Clusters:  map[string]*clusterv3.Cluster{clusterName: xdsfixture.Cluster(clusterName, clusterName, false)},
		Endpoints: map[string]*endpointv3.ClusterLoadAssignment{clusterName: xdsfixture.Assignment(clusterName, eps...)},
	}, gatewayv1.HTTPListener)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// TestConcurrentPicks: picks run on every request's goroutine at once; under -race this fails
// when reading the slots races with round robin's score updates (ranging over the slots by
// value copied each score while another pick wrote it). Round robin's counts also stay exact:
// over 8 × 2,000 concurrent picks of weights 3 and 1, 12,000 and 4,000.
func TestConcurrentPicks(t *testing.T) {
	a, b := routetable.Endpoint{Address: "a:1", Weight: 3}, routetable.Endpoint{Address: "b:1", Weight: 1}
	p := testPool([]routetable.Endpoint{a, b}, routetable.LoadBalancing{}, routetable.CircuitBreakers{MaxRequestsPerEndpoint: 1 << 20}, nil)
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				h, release, err := p.pick(context.Background(), nil, false)
				if err != nil {
					t.Error(err)
					return
				}
				release()
				mu.Lock()
				counts[h.addr]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if counts["a:1"] != 12000 || counts["b:1"] != 4000 {
		t.Errorf("picks = %v, want a:1 12000 and b:1 4000", counts)
	}
}

// TestPendingRequests: with the cluster's connections all carrying a request (max_connections),
// a request waits as pending and gets the first connection released, in arrival order; one
// beyond max_pending_requests overflows at once (Envoy's upstream_rq_pending_overflow); a
// pending request whose context ends gives up its place and takes no connection; a rebuilt
// pool with more connections lets the waiting requests go.
func TestPendingRequests(t *testing.T) {
	eps := []routetable.Endpoint{{Address: "a:1", Weight: 1}, {Address: "b:1", Weight: 1}}
	limits := routetable.CircuitBreakers{MaxRequests: 100, MaxConnectionRequests: 1, MaxPendingRequests: 2}
	p := testPool(eps, routetable.LoadBalancing{}, limits, nil)
	_, first, err := p.pick(context.Background(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		n       int
		release func()
		err     error
	}
	results := make(chan result, 2)
	wait := func(n int, ctx context.Context) {
		go func() {
			_, release, err := p.pick(ctx, nil, false)
			results <- result{n, release, err}
		}()
	}
	gone, cancel := context.WithCancel(context.Background())
	wait(1, gone)
	waitPending(t, p, 1)
	wait(2, context.Background())
	waitPending(t, p, 2)
	if _, _, err := p.pick(context.Background(), nil, false); !errors.Is(err, errPendingOverflow) || !errors.Is(err, errOverflow) {
		t.Fatalf("a third pending request: %v, want errPendingOverflow (an errOverflow)", err)
	}
	cancel()
	if r := <-results; r.n != 1 || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("the cancelled pending request: %+v, want request 1 with context.Canceled", r)
	}
	first()
	r := <-results
	if r.n != 2 || r.err != nil {
		t.Fatalf("after the release: %+v, want request 2 to get the connection", r)
	}
	if p.active.Load() != 1 {
		t.Errorf("requests in flight = %d, want 1", p.active.Load())
	}

	wait(3, context.Background())
	waitPending(t, p, 1)
	limits.MaxConnectionRequests = 2
	rebuilt := newPool(&routetable.Cluster{Name: "c", Endpoints: eps, CircuitBreakers: limits}, p, newMetrics(nil, nil), slog.New(slog.DiscardHandler))
	if got := <-results; got.n != 3 || got.err != nil {
		t.Fatalf("after the resize: %+v, want request 3 to get a connection", got)
	} else {
		got.release()
	}
	r.release()
	if _, release, err := rebuilt.pick(context.Background(), nil, false); err != nil {
		t.Errorf("with every connection released: %v", err)
	} else {
		release()
	}
}

// waitPending waits until n requests wait for a connection of p.
func waitPending(t *testing.T, p *pool, n int) {
	t.Helper()
	for range 1000 {
		p.conns.mu.Lock()
		got := len(p.conns.waiters)
		p.conns.mu.Unlock()
		if got == n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("never saw %d pending requests", n)
}
