package dataplane_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/bookstore"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// These tests run a policies: retry block, resolved by transcoding for each route
// (Policy.RouteRetry, what Build gives a route of the policy), through rpcbridge's xDS server and
// the embedded gateway against real providers: two dubbo-go providers (one killed, one frozen)
// and two grpc-go bookstores (one killed). They assert on outcomes and counters, never timings.

// resilientPolicy is the policy under test: retries on connection failures, resets and gRPC
// UNAVAILABLE, up to two per request.
func resilientPolicy(t *testing.T) transcoding.Policy {
	t.Helper()
	two := uint32(2)
	p := transcoding.Policy{Name: "resilient", Retry: &transcoding.RetryBlock{
		RetryOn: []string{"connect-failure", "reset", "unavailable"}, NumRetries: &two}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// withRetryPolicy gives every route of g its retry policy under p.
func withRetryPolicy(p transcoding.Policy) func(*ir.Gateway) {
	return func(g *ir.Gateway) {
		for i := range g.Routes {
			g.Routes[i].Retry = p.RouteRetry(g.Routes[i])
		}
	}
}

// withRetryBudget gives every cluster of g a retry budget that admits a retry for each of
// workers callers at once: with Envoy's default max_retries (3), callers that fail together
// when a provider dies overflow it (Envoy's circuit breaker answers them 503, and so does the
// gateway: TestRetryBudget).
func withRetryBudget(workers uint32) func(*ir.Gateway) {
	return func(g *ir.Gateway) {
		for i := range g.Clusters {
			cb := *g.Clusters[i].CircuitBreakers
			cb.RetryBudget = &ir.RetryBudget{BudgetPercent: 100, MinRetryConcurrency: workers}
			g.Clusters[i].CircuitBreakers = &cb
		}
	}
}

// retried is the sum of the retries of cluster under the given conditions.
func retried(tb testing.TB, reg *prometheus.Registry, cluster string, conditions ...string) float64 {
	var n float64
	for _, c := range conditions {
		n += metric(tb, reg, "rpcbridge_gateway_upstream_retries_total", map[string]string{"cluster": cluster, "condition": c})
	}
	return n
}

// killAfter returns a sendWhile condition that kills once calls have started, and holds after
// total calls.
func killAfter(at, total int64, kill func()) func() bool {
	var n atomic.Int64
	var once sync.Once
	return func() bool {
		c := n.Add(1)
		if c == at {
			once.Do(kill)
		}
		return c > total
	}
}

// TestKilledDubboProviderWithPolicyRetries: one of two dubbo-go providers is killed under
// traffic of idempotent GETs. Calls in flight to it (connection lost: reset) and calls the
// balancer gives it afterwards (connection refused: connect-failure) are retried on the other
// provider, so none fails.
func TestKilledDubboProviderWithPolicyRetries(t *testing.T) {
	s := startDubboStack(t, withRetryPolicy(resilientPolicy(t)), withRetryBudget(6))
	s.warm(t)
	o := s.sendWhile(t, 6, "/hello/killed", killAfter(60, 600, s.providers[1].Kill))
	if len(o.failures) > 0 {
		t.Errorf("%d of %d idempotent calls failed with a provider killed and retries on: %v", len(o.failures), o.ok+len(o.failures), o.failures[:min(5, len(o.failures))])
	}
	if n := retried(t, s.reg, greeterCluster, "reset", "connect-failure"); n < 1 {
		t.Errorf("retries on reset or connect-failure = %v, want at least one (the killed provider got no call)", n)
	}
	t.Logf("%d ok; retries: reset %v, connect-failure %v", o.ok, retried(t, s.reg, greeterCluster, "reset"), retried(t, s.reg, greeterCluster, "connect-failure"))
}

// TestFrozenDubboProviderWithPolicyRetries: one of two dubbo-go providers freezes (SIGSTOP)
// under traffic. The calls written to it fail once its heartbeats go unanswered (connection
// lost: a reset), and are retried on the other provider; it is ejected, and no call fails at
// all (without the policy, those calls fail 502: TestStalledProviderIsEjected).
func TestFrozenDubboProviderWithPolicyRetries(t *testing.T) {
	s := startDubboStack(t, func(g *ir.Gateway) {
		od := g.Clusters[0].OutlierDetection
		od.BaseEjectionTime, od.MaxEjectionTime = 10*time.Minute, 10*time.Minute
	}, withRetryPolicy(resilientPolicy(t)), withRetryBudget(4))
	s.warm(t)
	if err := s.providers[1].Freeze(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.providers[1].Thaw() }()
	o := s.sendWhile(t, 4, "/hello/frozen", s.ejected(t, 1))
	for range 100 {
		status, body := s.call(t, "GET", "/hello/after", "")
		o.add(status, body)
	}
	if len(o.failures) > 0 {
		t.Errorf("%d calls failed with a provider frozen and retries on: %v", len(o.failures), o.failures[:min(5, len(o.failures))])
	}
	if n := metric(t, s.reg, "rpcbridge_gateway_outlier_ejections_total",
		map[string]string{"cluster": greeterCluster, "type": "consecutive_gateway_failure"}); n != 1 {
		t.Errorf("ejections by consecutive gateway failure = %v, want 1", n)
	}
	t.Logf("%d ok; retries: reset %v, connect-failure %v", o.ok, retried(t, s.reg, greeterCluster, "reset"), retried(t, s.reg, greeterCluster, "connect-failure"))
}

// grpcCluster is the cluster of the two bookstores.
const grpcCluster = "grpc:" + bookstore.Service

// grpcPair is two real grpc-go bookstores, each behind a killable TCP proxy, served through
// rpcbridge's xDS server to the embedded gateway.
type grpcPair struct {
	proxies []*killable
	gw      *dataplane.Gateway
	reg     *prometheus.Registry
}

// startGRPCPair starts the pair with transcoding's RPC defaults, then edits, on routes to
// GetShelf (GET /v1/{name=shelves/*}) and Fail (GET /v1/fail/{code}).
func startGRPCPair(t *testing.T, edits ...func(*ir.Gateway)) *grpcPair {
	t.Helper()
	fds := bookstore.MustDescriptors(t)
	set, err := proto.MarshalOptions{Deterministic: true}.Marshal(fds)
	if err != nil {
		t.Fatal(err)
	}
	s := &grpcPair{reg: prometheus.NewRegistry()}
	var endpoints []ir.Endpoint
	for range 2 {
		k := startKillable(t, bookstore.Start(t, fds))
		s.proxies = append(s.proxies, k)
		port, _ := strconv.Atoi(k.port())
		endpoints = append(endpoints, ir.Endpoint{Address: "127.0.0.1", Port: uint32(port), Weight: 1, Healthy: true})
	}
	g := ir.Gateway{
		Clusters: []ir.Cluster{{Name: grpcCluster, Protocol: ir.UpstreamHTTP2, ConnectTimeout: time.Second, Endpoints: endpoints}},
		Routes: []ir.Route{
			{Name: "shelf", Cluster: grpcCluster, Timeout: 10 * time.Second, Match: ir.Match{PathTemplate: "/v1/{name=shelves/*}", Methods: []string{"GET"}},
				GRPC: &ir.GRPCRoute{Service: bookstore.Service, Method: "GetShelf"}},
			{Name: "fail", Cluster: grpcCluster, Timeout: 10 * time.Second, Match: ir.Match{PathTemplate: "/v1/fail/{code}", Methods: []string{"GET"}},
				GRPC: &ir.GRPCRoute{Service: bookstore.Service, Method: "Fail"}},
		},
		ProtoDescriptors: []ir.ProtoDescriptors{{Service: bookstore.Service, FileDescriptorSet: set}},
	}
	withPolicy(&g, transcoding.DefaultRPCPolicy())
	for _, edit := range edits {
		edit(&g)
	}
	s.gw = serveIR(t, g, s.reg)
	eventually(t, "both bookstores answering through the gateway", func() error {
		if !s.gw.Ready() || s.gw.Addr() == nil {
			return errors.New("gateway not ready")
		}
		for range 4 {
			if status, body := s.get(t, "/v1/shelves/warm"); status != http.StatusOK {
				return errors.New(strconv.Itoa(status) + " " + body)
			}
		}
		return nil
	})
	return s
}

// serveIR serves g through rpcbridge's xDS server to an embedded gateway whose metrics go to
// reg, until the test ends.
func serveIR(t *testing.T, g ir.Gateway, reg *prometheus.Registry) *dataplane.Gateway {
	t.Helper()
	cp := controlplane.NewServer(controlplane.ServerOptions{})
	if err := cp.Update(g); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- cp.Serve(ctx, ln) }()
	gw := dataplane.New(dataplane.Options{XDSAddress: ln.Addr().String(), NodeID: "resilience-test",
		NodeCluster: gatewayv1.EmbeddedNodeCluster, ListenAddress: "127.0.0.1:0", Registerer: reg})
	done := make(chan error, 1)
	go func() { done <- gw.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
		<-served
	})
	return gw
}

// get sends GET path to the gateway.
func (s *grpcPair) get(tb testing.TB, path string) (int, string) {
	tb.Helper()
	resp, err := http.Get("http://" + s.gw.Addr().String() + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestKilledGRPCProviderWithPolicyRetries: one of two grpc-go bookstores is killed (its
// connections reset, its port closed) under traffic of transcoded GETs; every call succeeds,
// the ones that met the killed bookstore retried on the other.
func TestKilledGRPCProviderWithPolicyRetries(t *testing.T) {
	s := startGRPCPair(t, withRetryPolicy(resilientPolicy(t)), withRetryBudget(8))
	o := &outcomes{}
	until := killAfter(100, 1000, s.proxies[1].Kill)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for !until() {
				o.add(s.get(t, "/v1/shelves/killed"))
			}
		})
	}
	wg.Wait()
	if len(o.failures) > 0 {
		t.Errorf("%d of %d idempotent calls failed with a bookstore killed and retries on: %v", len(o.failures), o.ok+len(o.failures), o.failures[:min(5, len(o.failures))])
	}
	if n := retried(t, s.reg, grpcCluster, "reset", "connect-failure", "unavailable"); n < 1 {
		t.Errorf("retries = %v, want at least one (the killed bookstore got no call)", n)
	}
	t.Logf("%d ok; retry overflows %v; retries: reset %v, connect-failure %v, unavailable %v", o.ok,
		metric(t, s.reg, "rpcbridge_gateway_upstream_retry_overflow_total", map[string]string{"cluster": grpcCluster}), retried(t, s.reg, grpcCluster, "reset"),
		retried(t, s.reg, grpcCluster, "connect-failure"), retried(t, s.reg, grpcCluster, "unavailable"))
}

// TestFrozenGRPCProviderWithPerTryTimeout: one of two grpc-go bookstores freezes (its proxy
// stops passing bytes, as a SIGSTOPped process's kernel keeps its connections open and silent)
// under traffic. A policy's per-try timeout cuts the calls that reach it short; they are retried
// under reset on the other bookstore, the frozen one is ejected (its per-try timeouts count as
// gateway failures), and no call fails.
func TestFrozenGRPCProviderWithPerTryTimeout(t *testing.T) {
	p := resilientPolicy(t)
	perTry := yamltime.Duration(300 * time.Millisecond)
	p.Retry.PerTryTimeout = &perTry
	s := startGRPCPair(t, withRetryPolicy(p), withRetryBudget(4), func(g *ir.Gateway) {
		od := g.Clusters[0].OutlierDetection
		od.BaseEjectionTime, od.MaxEjectionTime = 10*time.Minute, 10*time.Minute
	})
	s.proxies[1].Freeze()
	ejected := func() bool {
		return metric(t, s.reg, "rpcbridge_gateway_outlier_ejections_active", map[string]string{"cluster": grpcCluster}) == 1
	}
	o := &outcomes{}
	deadline := time.Now().Add(3 * giveUp)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !ejected() && time.Now().Before(deadline) {
				o.add(s.get(t, "/v1/shelves/frozen"))
			}
		})
	}
	wg.Wait()
	if !ejected() {
		t.Fatalf("the frozen bookstore was not ejected (%d ok, %d failed)", o.ok, len(o.failures))
	}
	for range 100 {
		o.add(s.get(t, "/v1/shelves/after"))
	}
	if len(o.failures) > 0 {
		t.Errorf("%d calls failed with a bookstore frozen, a per-try timeout and retries on: %v", len(o.failures), o.failures[:min(5, len(o.failures))])
	}
	if n := retried(t, s.reg, grpcCluster, "reset"); n < 1 {
		t.Errorf("retries under reset = %v, want at least one (a per-try timeout is retried as a reset)", n)
	}
	t.Logf("%d ok; retries: reset %v, connect-failure %v", o.ok, retried(t, s.reg, grpcCluster, "reset"), retried(t, s.reg, grpcCluster, "connect-failure"))
}

// TestGRPCStatusRetries: a transcoded call that the bookstores answer UNAVAILABLE is retried
// under the unavailable condition, num_retries times (then answered 503); one answered INTERNAL
// is not retried (500).
func TestGRPCStatusRetries(t *testing.T) {
	s := startGRPCPair(t, withRetryPolicy(resilientPolicy(t)))
	if status, body := s.get(t, "/v1/fail/14?message=busy"); status != http.StatusServiceUnavailable {
		t.Errorf("UNAVAILABLE: %d %s, want 503", status, body)
	}
	if n := retried(t, s.reg, grpcCluster, "unavailable"); n != 2 {
		t.Errorf("retries under unavailable = %v, want 2 (num_retries)", n)
	}
	if status, body := s.get(t, "/v1/fail/13?message=bug"); status != http.StatusInternalServerError {
		t.Errorf("INTERNAL: %d %s, want 500", status, body)
	}
	if n := retried(t, s.reg, grpcCluster, "unavailable", "reset", "connect-failure"); n != 2 {
		t.Errorf("retries after INTERNAL = %v, want still 2 (internal is not a condition of the policy)", n)
	}
}

// TestHTTPRetriesReplayIdempotentRequests: an HTTP service's prefix route (every method) under a
// policy retrying 5xx: the upstream answers each path's first request 503. A PUT is retried with
// its body sent again and answered 200; a POST is not retried (retriable_request_headers on
// :method), so the upstream's 503 passes through; a PUT whose body is over the 1 MiB replay
// buffer is not retried either.
func TestHTTPRetriesReplayIdempotentRequests(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	flaky := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[r.URL.Path]++
		first := seen[r.URL.Path] == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "busy")
			return
		}
		_, _ = w.Write(body)
	}
	var endpoints []ir.Endpoint
	for range 2 {
		srv := httptest.NewServer(http.HandlerFunc(flaky))
		t.Cleanup(srv.Close)
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		p, _ := strconv.Atoi(port)
		endpoints = append(endpoints, ir.Endpoint{Address: "127.0.0.1", Port: uint32(p), Weight: 1, Healthy: true})
	}
	g := ir.Gateway{
		Clusters: []ir.Cluster{{Name: "http:flaky", Protocol: ir.UpstreamHTTP1, ConnectTimeout: time.Second, Endpoints: endpoints}},
		Routes:   []ir.Route{{Name: "flaky", Cluster: "http:flaky", Timeout: 10 * time.Second, Match: ir.Match{PathPrefix: "/flaky/"}}},
	}
	withPolicy(&g, transcoding.DefaultHTTPPolicy())
	one := uint32(1)
	policy := transcoding.Policy{Name: "replays", Retry: &transcoding.RetryBlock{RetryOn: []string{"5xx"}, NumRetries: &one}}
	withRetryPolicy(policy)(&g)
	reg := prometheus.NewRegistry()
	gw := serveIR(t, g, reg)
	send := func(method, path string, body []byte) (int, []byte) {
		req, err := http.NewRequest(method, "http://"+gw.Addr().String()+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	eventually(t, "the gateway serving the route", func() error {
		if !gw.Ready() || gw.Addr() == nil {
			return errors.New("not ready")
		}
		if status, _ := send("GET", "/flaky/warm", nil); status != http.StatusOK {
			return errors.New("status " + strconv.Itoa(status))
		}
		return nil
	})
	before := retried(t, reg, "http:flaky", "5xx")
	if status, body := send("PUT", "/flaky/put", []byte("hello")); status != http.StatusOK || string(body) != "hello" {
		t.Errorf("PUT: %d %q, want 200 with the body sent again", status, body)
	}
	if status, body := send("POST", "/flaky/post", []byte("hello")); status != http.StatusServiceUnavailable || string(body) != "busy" {
		t.Errorf("POST: %d %q, want the upstream's 503 (not retried)", status, body)
	}
	big := bytes.Repeat([]byte("x"), 2<<20)
	if status, body := send("PUT", "/flaky/big", big); status != http.StatusServiceUnavailable || string(body) != "busy" {
		t.Errorf("PUT of 2 MiB: %d %q, want the upstream's 503 (a body over the replay buffer is not sent again)", status, body[:min(20, len(body))])
	}
	if n := retried(t, reg, "http:flaky", "5xx") - before; n != 1 {
		t.Errorf("retries under 5xx = %v, want 1 (the small PUT's)", n)
	}
}

// TestHTTPRetriesWithPerTryTimeout: on a plain HTTP route whose retry block sets perTryTimeout,
// an attempt that finds a dead endpoint is retried on the live one: every GET answers 200.
// (Releasing an attempt cancels its per-try context; classifying the failure after that took
// every connect failure for a client gone away, and nothing was retried.)
func TestHTTPRetriesWithPerTryTimeout(t *testing.T) {
	live := httptest.NewServer(echoHandler("live"))
	t.Cleanup(live.Close)
	_, port, _ := net.SplitHostPort(live.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	dead := deadEndpoint(t)
	g := ir.Gateway{
		Clusters: []ir.Cluster{{Name: "http:half", Protocol: ir.UpstreamHTTP1, ConnectTimeout: time.Second, Endpoints: []ir.Endpoint{
			{Address: "127.0.0.1", Port: uint32(p), Weight: 1, Healthy: true},
			{Address: dead.Host, Port: dead.Port, Weight: 1, Healthy: true},
		}}},
		Routes: []ir.Route{{Name: "half", Cluster: "http:half", Timeout: 10 * time.Second, Match: ir.Match{PathPrefix: "/half/", Methods: []string{"GET"}}}},
	}
	withPolicy(&g, transcoding.DefaultHTTPPolicy())
	two := uint32(2)
	perTry := yamltime.Duration(2 * time.Second)
	withRetryPolicy(transcoding.Policy{Name: "per-try", Retry: &transcoding.RetryBlock{
		RetryOn: []string{"connect-failure", "5xx"}, NumRetries: &two, PerTryTimeout: &perTry}})(&g)
	gw := serveIR(t, g, prometheus.NewRegistry())
	eventually(t, "the route is served", func() error {
		if gw.Addr() == nil {
			return fmt.Errorf("gateway not listening")
		}
		resp, err := http.Get("http://" + gw.Addr().String() + "/half/x")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("404")
		}
		return nil
	})
	failed := 0
	for range 20 {
		resp, err := http.Get("http://" + gw.Addr().String() + "/half/x")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			failed++
		}
	}
	if failed > 0 {
		t.Errorf("%d of 20 GETs failed, want 0 (connect failures retried on the live endpoint)", failed)
	}
}
