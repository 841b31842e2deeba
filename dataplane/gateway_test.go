package dataplane_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
)

// TestRouting covers prefix, exact path and method matching, prefix_rewrite, forwarding
// headers, hop-by-hop removal and the 404 JSON answer.
func TestRouting(t *testing.T) {
	cp := startControlPlane(t)
	users, api := startUpstream(t, "users"), startUpstream(t, "api")
	ls, rcs := basicConfig(
		xdsfixture.PathRoute("/users", "users", xdsfixture.Method("GET")),
		xdsfixture.PrefixRoute("/v1/", "api", xdsfixture.PrefixRewrite("/internal/")),
		xdsfixture.PrefixRoute("/items/", "api", xdsfixture.MethodRegex("^(GET|POST)$")),
	)
	cp.push(ls, rcs,
		[]*clusterv3.Cluster{xdsfixture.Cluster("users", "users", false), xdsfixture.Cluster("api", "api", false)},
		[]*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("users", users), xdsfixture.Assignment("api", api)})
	gw := startGateway(t, cp.addr, nil)
	waitFor(t, gw, "users route", "GET", "/users", fromServer("users"))
	if !gw.Ready() {
		t.Errorf("Ready() = false after routes were served")
	}

	cases := []struct {
		method, target string
		wantServer     string // "" = 404 route_not_found
		wantPath       string
	}{
		{"GET", "/users", "users", "/users"},
		{"POST", "/users", "", ""},
		{"GET", "/users/7", "", ""},
		{"GET", "/v1/things?limit=2", "api", "/internal/things"},
		{"POST", "/items/1", "api", "/items/1"},
		{"DELETE", "/items/1", "", ""},
		{"GET", "/elsewhere", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.method+tc.target, func(t *testing.T) {
			header := http.Header{"Connection": {"X-Secret"}, "X-Secret": {"1"}, "X-Forwarded-For": {"203.0.113.9"}}
			r, err := do(t, gw, tc.method, tc.target, header)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantServer == "" {
				if r.code != http.StatusNotFound || r.error.Error.Status != dataplane.StatusRouteNotFound || r.error.Error.Code != 404 {
					t.Fatalf("got %d %s, want 404 route_not_found JSON", r.code, r.raw)
				}
				return
			}
			if r.code != http.StatusOK || r.echo.Server != tc.wantServer || r.echo.Path != tc.wantPath {
				t.Fatalf("got %d from %q path %q, want 200 from %q path %q", r.code, r.echo.Server, r.echo.Path, tc.wantServer, tc.wantPath)
			}
			if got := r.echo.Headers.Get("X-Forwarded-For"); got != "203.0.113.9,"+localAddress.String() {
				t.Errorf("X-Forwarded-For = %q", got)
			}
			if got := r.echo.Headers.Get("X-Forwarded-Proto"); got != "http" {
				t.Errorf("X-Forwarded-Proto = %q", got)
			}
			if got := r.echo.Headers.Get("X-Secret"); got != "" {
				t.Errorf("hop-by-hop header X-Secret was forwarded: %q", got)
			}
		})
	}
	if r, _ := do(t, gw, "GET", "/v1/things?limit=2", nil); r.echo.Query != "limit=2" {
		t.Errorf("query after rewrite = %q, want limit=2", r.echo.Query)
	}
}

// TestWeightedRoundRobin checks smooth WRR with weights 1 and 3: any 400 consecutive picks
// contain each endpoint exactly 100 and 300 times.
func TestWeightedRoundRobin(t *testing.T) {
	cp := startControlPlane(t)
	light, heavy := startUpstream(t, "light"), startUpstream(t, "heavy")
	light.Weight, heavy.Weight = 1, 3
	ls, rcs := basicConfig(xdsfixture.PrefixRoute("/", "svc"))
	cp.push(ls, rcs, []*clusterv3.Cluster{xdsfixture.Cluster("svc", "svc", false)},
		[]*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("svc", light, heavy)})
	gw := startGateway(t, cp.addr, nil)
	waitFor(t, gw, "cluster with endpoints", "GET", "/", func(r result) error {
		if r.code != http.StatusOK {
			return fmt.Errorf("status %d: %s", r.code, r.raw)
		}
		return nil
	})
	counts := map[string]int{}
	for range 400 {
		r, err := do(t, gw, "GET", "/", nil)
		if err != nil || r.code != http.StatusOK {
			t.Fatalf("request failed: %v %d %s", err, r.code, r.raw)
		}
		counts[r.echo.Server]++
	}
	if counts["light"] != 100 || counts["heavy"] != 300 {
		t.Fatalf("distribution = %v, want light 100, heavy 300", counts)
	}
}

// TestFollowsChanges pushes a route change and then an endpoint change and expects the
// running gateway to follow both.
func TestFollowsChanges(t *testing.T) {
	cp := startControlPlane(t)
	one, two, three := startUpstream(t, "one"), startUpstream(t, "two"), startUpstream(t, "three")
	clusters := []*clusterv3.Cluster{xdsfixture.Cluster("a", "a", false), xdsfixture.Cluster("b", "b", false)}
	ls, rcs := basicConfig(xdsfixture.PrefixRoute("/svc", "a"))
	cp.push(ls, rcs, clusters, []*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("a", one), xdsfixture.Assignment("b", two)})
	gw := startGateway(t, cp.addr, nil)
	waitFor(t, gw, "initial route", "GET", "/svc", fromServer("one"))

	ls, rcs = basicConfig(xdsfixture.PrefixRoute("/svc", "b"))
	cp.push(ls, rcs, clusters, []*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("a", one), xdsfixture.Assignment("b", two)})
	waitFor(t, gw, "route change", "GET", "/svc", fromServer("two"))

	cp.push(ls, rcs, clusters, []*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("a", one), xdsfixture.Assignment("b", three)})
	waitFor(t, gw, "endpoint change", "GET", "/svc", fromServer("three"))

	cp.push(ls, rcs, clusters[:1], []*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("a", one)})
	waitFor(t, gw, "cluster removal", "GET", "/svc", func(r result) error {
		if r.code != http.StatusServiceUnavailable || r.error.Error.Status != dataplane.StatusNoHealthyUpstream {
			return fmt.Errorf("got %d %s, want 503 no_healthy_upstream", r.code, r.raw)
		}
		return nil
	})
}

// TestDeadEndpoint expects a quick 503 JSON for a closed port, and no failure at all when a
// live endpoint sits next to the dead one (the route's retry policy retries the connect failure).
func TestDeadEndpoint(t *testing.T) {
	cp := startControlPlane(t)
	dead, live := deadEndpoint(t), startUpstream(t, "live")
	ls, rcs := basicConfig(xdsfixture.PrefixRoute("/", "svc", xdsfixture.Retry(xdsfixture.NeverSentRetry())))
	cluster := []*clusterv3.Cluster{xdsfixture.Cluster("svc", "svc", false)}
	cp.push(ls, rcs, cluster, []*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("svc", dead)})
	gw := startGateway(t, cp.addr, nil)
	r := waitFor(t, gw, "connect failure", "GET", "/", func(r result) error {
		if r.code != http.StatusServiceUnavailable || r.error.Error.Status != dataplane.StatusUpstreamConnectFailure {
			return fmt.Errorf("got %d %s, want 503 upstream_connect_failure", r.code, r.raw)
		}
		return nil
	})
	if r.error.Error.Code != 503 || r.error.Error.Message == "" {
		t.Errorf("error body = %+v", r.error)
	}

	cp.push(ls, rcs, cluster, []*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("svc", dead, live)})
	waitFor(t, gw, "live endpoint", "GET", "/", fromServer("live"))
	for i := range 20 {
		r, err := do(t, gw, "POST", "/", nil)
		if err != nil || r.code != http.StatusOK {
			t.Fatalf("request %d with one dead endpoint: %v %d %s", i, err, r.code, r.raw)
		}
	}
}

// TestRouteTimeout expects 504 JSON from a route whose upstream answers too late.
func TestRouteTimeout(t *testing.T) {
	cp := startControlPlane(t)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(giveUp):
		}
	}))
	t.Cleanup(slow.Close)
	ls, rcs := basicConfig(xdsfixture.PrefixRoute("/", "slow", xdsfixture.Timeout(200*time.Millisecond)))
	cp.push(ls, rcs, []*clusterv3.Cluster{xdsfixture.Cluster("slow", "slow", false)},
		[]*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("slow", endpointOf(t, slow.Listener.Addr()))})
	gw := startGateway(t, cp.addr, nil)
	waitFor(t, gw, "route timeout", "GET", "/", func(r result) error {
		if r.code != http.StatusGatewayTimeout || r.error.Error.Status != dataplane.StatusUpstreamTimeout {
			return fmt.Errorf("got %d %s, want 504 upstream_timeout", r.code, r.raw)
		}
		return nil
	})
}

// TestHTTP2Cluster proxies to an h2c-only upstream through a cluster with explicit HTTP/2.
func TestHTTP2Cluster(t *testing.T) {
	cp := startControlPlane(t)
	h2c := httptest.NewUnstartedServer(echoHandler("h2c"))
	h2c.Config.Protocols = new(http.Protocols)
	h2c.Config.Protocols.SetUnencryptedHTTP2(true)
	h2c.Start()
	t.Cleanup(h2c.Close)
	ls, rcs := basicConfig(xdsfixture.PrefixRoute("/", "grpcish"))
	cp.push(ls, rcs, []*clusterv3.Cluster{xdsfixture.Cluster("grpcish", "grpcish", true)},
		[]*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("grpcish", endpointOf(t, h2c.Listener.Addr()))})
	gw := startGateway(t, cp.addr, nil)
	r := waitFor(t, gw, "h2c upstream", "GET", "/hello", fromServer("h2c"))
	if r.echo.Proto != 2 {
		t.Fatalf("upstream saw HTTP/%d, want HTTP/2", r.echo.Proto)
	}
}

// TestNACKKeepsPreviousRoutes pushes a listener whose HCM has neither rds nor route_config:
// the gateway must NACK it and keep serving the routes it had.
func TestNACKKeepsPreviousRoutes(t *testing.T) {
	cp := startControlPlane(t)
	up := startUpstream(t, "up")
	ls, rcs := basicConfig(xdsfixture.PrefixRoute("/", "svc"))
	clusters := []*clusterv3.Cluster{xdsfixture.Cluster("svc", "svc", false)}
	clas := []*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("svc", up)}
	cp.push(ls, rcs, clusters, clas)
	reg := prometheus.NewRegistry()
	gw := startGateway(t, cp.addr, reg)
	waitFor(t, gw, "initial routes", "GET", "/", fromServer("up"))

	bad := xdsfixture.ListenerWithHCM(httpName, &hcmv3.HttpConnectionManager{StatPrefix: httpName})
	cp.push([]*listenerv3.Listener{bad}, rcs, clusters, clas)
	eventually(t, "listener NACK", func() error {
		for _, n := range cp.nacked() {
			if n.GetTypeUrl() == resource.ListenerType && strings.Contains(n.GetErrorDetail().GetMessage(), httpName) {
				return nil
			}
		}
		return fmt.Errorf("no listener NACK yet (NACKs: %v)", cp.nacked())
	})
	if r, err := do(t, gw, "GET", "/", nil); err != nil || r.code != http.StatusOK || r.echo.Server != "up" {
		t.Fatalf("after NACK: %v %d %s, want the previous route to keep working", err, r.code, r.raw)
	}
	if got := counterValue(t, reg, "rpcbridge_gateway_xds_nacks_total", "Listener"); got < 1 {
		t.Errorf("nacks metric for Listener = %v, want >= 1", got)
	}
}

// TestReconnect stops the control plane, checks the gateway keeps serving, then starts a new
// control plane on the same address with a new route and expects the gateway to follow.
func TestReconnect(t *testing.T) {
	cp := startControlPlane(t)
	one, two := startUpstream(t, "one"), startUpstream(t, "two")
	clusters := []*clusterv3.Cluster{xdsfixture.Cluster("a", "a", false), xdsfixture.Cluster("b", "b", false)}
	clas := []*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("a", one), xdsfixture.Assignment("b", two)}
	ls, rcs := basicConfig(xdsfixture.PrefixRoute("/", "a"))
	cp.push(ls, rcs, clusters, clas)
	gw := startGateway(t, cp.addr, nil)
	waitFor(t, gw, "initial route", "GET", "/", fromServer("one"))

	cp.grpc.Stop()
	if r, err := do(t, gw, "GET", "/", nil); err != nil || r.echo.Server != "one" {
		t.Fatalf("with the control plane down: %v %d %s, want the last good config", err, r.code, r.raw)
	}
	var restarted *controlPlane
	eventually(t, "control plane restart on the same address", func() error {
		ln, err := net.Listen("tcp", cp.addr)
		if err != nil {
			return err
		}
		restarted = serveControlPlane(t, ln)
		return nil
	})
	ls, rcs = basicConfig(xdsfixture.PrefixRoute("/", "b"))
	restarted.push(ls, rcs, clusters, clas)
	waitFor(t, gw, "config from the new control plane", "GET", "/", fromServer("two"))
}

// counterValue reads one labelled counter from a registry.
func counterValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestStreamingResponse checks that a response is streamed: the client must read the first
// chunk before the upstream is allowed to write the rest.
func TestStreamingResponse(t *testing.T) {
	cp := startControlPlane(t)
	release := make(chan struct{})
	streamer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "second\n")
	}))
	t.Cleanup(streamer.Close)
	ls, rcs := basicConfig(xdsfixture.PrefixRoute("/", "stream", xdsfixture.Timeout(0)))
	cp.push(ls, rcs, []*clusterv3.Cluster{xdsfixture.Cluster("stream", "stream", false)},
		[]*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("stream", endpointOf(t, streamer.Listener.Addr()))})
	gw := startGateway(t, cp.addr, nil)
	eventually(t, "routes", func() error {
		if !gw.Ready() || gw.Addr() == nil {
			return fmt.Errorf("not ready or not listening yet")
		}
		return nil
	})
	var body *bufio.Reader
	eventually(t, "stream response headers", func() error {
		resp, err := (&http.Client{Timeout: giveUp}).Get("http://" + gw.Addr().String() + "/")
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		t.Cleanup(func() { resp.Body.Close() })
		body = bufio.NewReader(resp.Body)
		return nil
	})
	first, err := body.ReadString('\n')
	if err != nil || first != "first\n" {
		t.Fatalf("first chunk = %q, %v", first, err)
	}
	close(release)
	second, err := body.ReadString('\n')
	if err != nil || second != "second\n" {
		t.Fatalf("second chunk = %q, %v", second, err)
	}
}

// TestReadyAfterWarming: at start the gateway reports ready only once the clusters its routes
// use have their endpoints (Envoy's initial cluster warm-up), not as soon as the routes arrive,
// so a load balancer does not send it requests that would find a cluster empty.
func TestReadyAfterWarming(t *testing.T) {
	cp := startControlPlane(t)
	users := startUpstream(t, "users")
	ls, rcs := basicConfig(xdsfixture.PathRoute("/users", "users"))
	clusters := []*clusterv3.Cluster{xdsfixture.Cluster("users", "users", false)}
	cp.push(ls, rcs, clusters, nil)
	gw := startGateway(t, cp.addr, nil)
	eventually(t, "routes received", func() error {
		r, err := do(t, gw, "GET", "/users", nil)
		if err != nil {
			return err
		}
		if r.code == http.StatusNotFound {
			return fmt.Errorf("still 404")
		}
		return nil
	})
	if ready, reason := gw.Readiness(); ready || !strings.Contains(reason, "warming 1 clusters") || !strings.Contains(reason, "users") {
		t.Errorf("Readiness() with the cluster's endpoints missing = %v %q, want not ready, warming users", ready, reason)
	}
	cp.push(ls, rcs, clusters, []*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("users", users)})
	waitFor(t, gw, "users route", "GET", "/users", fromServer("users"))
	if ready, reason := gw.Readiness(); !ready {
		t.Errorf("Readiness() after the endpoints arrived = false %q", reason)
	}
}
