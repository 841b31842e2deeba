package dataplane_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
)

// These tests freeze a real dubbo-go provider (SIGSTOP) behind the embedded gateway, with
// transcoding's default RPC policies (least request over a full scan, outlier detection on
// gateway failures, never-sent retries), and assert on outcomes and ejection state, never on
// timings. Without the policies a call that reaches the frozen provider waits out the route
// timeout (504), nothing is ejected, and a reconnect to the frozen process is used as if healthy.

// metric returns the value of the gateway metric name with the given labels (0 when absent).
func metric(tb testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	tb.Helper()
	families, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue next
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// outcomes counts the answers of requests sent by several workers until stop says so.
type outcomes struct {
	mu       sync.Mutex
	ok       int
	failures []string
}

func (o *outcomes) add(status int, body string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if status == http.StatusOK {
		o.ok++
		return
	}
	o.failures = append(o.failures, fmt.Sprintf("%d %s", status, strings.TrimSpace(body)))
}

// sendWhile sends GET path from workers goroutines until until returns true (checked between
// requests) and returns what came back.
func (s *dubboStack) sendWhile(tb testing.TB, workers int, path string, until func() bool) *outcomes {
	tb.Helper()
	o := &outcomes{}
	var wg sync.WaitGroup
	deadline := time.Now().Add(3 * giveUp)
	for range workers {
		wg.Go(func() {
			for !until() && time.Now().Before(deadline) {
				status, body := s.call(tb, "GET", path, "")
				o.add(status, body)
			}
		})
	}
	wg.Wait()
	if !until() {
		tb.Fatalf("gave up: the condition did not hold within %v (%d ok, %d failed, the first: %v)", 3*giveUp, o.ok, len(o.failures), o.failures[:min(3, len(o.failures))])
	}
	return o
}

// ejected returns a condition that holds once the greeter cluster has n endpoints ejected.
func (s *dubboStack) ejected(tb testing.TB, n float64) func() bool {
	return func() bool {
		return metric(tb, s.reg, "rpcbridge_gateway_outlier_ejections_active", map[string]string{"cluster": greeterCluster}) == n
	}
}

// warm sends requests until both providers have a connection (each got a call).
func (s *dubboStack) warm(tb testing.TB) {
	tb.Helper()
	for range 20 {
		if status, body := s.call(tb, "GET", "/hello/warm", ""); status != http.StatusOK {
			tb.Fatalf("warm-up: %d %s", status, body)
		}
	}
}

// TestStalledProviderIsEjected: one of two providers freezes under traffic. Only calls already
// written to it may fail (and only as connection lost, once its heartbeats go unanswered, not at
// the route timeout); the gateway ejects it after consecutive gateway failures, and every later
// call is served by the other provider.
func TestStalledProviderIsEjected(t *testing.T) {
	s := startDubboStack(t, func(g *ir.Gateway) {
		od := g.Clusters[0].OutlierDetection
		od.BaseEjectionTime, od.MaxEjectionTime = 10*time.Minute, 10*time.Minute
	})
	s.warm(t)
	const workers = 4
	if err := s.providers[1].Freeze(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.providers[1].Thaw() }()
	before := s.sendWhile(t, workers, "/hello/stall", s.ejected(t, 1))
	if n := metric(t, s.reg, "rpcbridge_gateway_outlier_ejections_total",
		map[string]string{"cluster": greeterCluster, "type": "consecutive_gateway_failure"}); n != 1 {
		t.Errorf("ejections by consecutive gateway failure = %v, want 1", n)
	}
	// Each worker has at most one call at a time, so at most one per worker reached the frozen
	// provider before its connection was found dead; the rest never left or went elsewhere.
	if len(before.failures) > workers {
		t.Errorf("%d calls failed before the ejection (at most %d were in flight): %v", len(before.failures), workers, before.failures)
	}
	for _, f := range before.failures {
		if !strings.HasPrefix(f, "502 ") || !strings.Contains(f, "connection lost") {
			t.Errorf("failure %q: want 502 for a call whose connection was found dead, not a timeout", f)
		}
	}
	after := &outcomes{}
	for range 100 {
		status, body := s.call(t, "GET", "/hello/after", "")
		after.add(status, body)
	}
	if len(after.failures) > 0 {
		t.Errorf("%d of 100 calls failed with the frozen provider ejected: %v", len(after.failures), after.failures)
	}
	t.Logf("before the ejection: %d ok, %d failed", before.ok, len(before.failures))
}

// TestEjectedProviderReturns: an ejected provider comes back after the base ejection time (short
// here) once it answers again. That it takes traffic again shows when the other provider then
// freezes: the calls succeed, so they are served by the one that returned.
func TestEjectedProviderReturns(t *testing.T) {
	s := startDubboStack(t, func(g *ir.Gateway) {
		od := g.Clusters[0].OutlierDetection
		od.Interval, od.BaseEjectionTime, od.MaxEjectionTime = 100*time.Millisecond, time.Second, time.Second
	})
	s.warm(t)
	if err := s.providers[1].Freeze(); err != nil {
		t.Fatal(err)
	}
	s.sendWhile(t, 2, "/hello/stall", s.ejected(t, 1))
	if err := s.providers[1].Thaw(); err != nil {
		t.Fatal(err)
	}
	s.sendWhile(t, 2, "/hello/thawed", s.ejected(t, 0))

	if err := s.providers[0].Freeze(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.providers[0].Thaw() }()
	// The first provider is found dead and ejected in turn; then the returned one serves all.
	s.sendWhile(t, 2, "/hello/other", s.ejected(t, 1))
	for i := range 50 {
		if status, body := s.call(t, "GET", "/hello/returned", ""); status != http.StatusOK {
			t.Fatalf("call %d with the first provider frozen: %d %s (the returned provider should serve it)", i, status, body)
		}
	}
}

// TestReconnectToFrozenProviderIsRetried: the gateway has never connected to the second provider
// when it freezes. The kernel still accepts the connection, but the provider answers no
// handshake heartbeat, so no call is written to it: every call the balancer gives it is retried
// on the other provider (a never-sent connect failure), and none fails.
func TestReconnectToFrozenProviderIsRetried(t *testing.T) {
	// Frozen before the stack's warm-up call, which could otherwise connect to it first.
	s := startDubboStackThen(t, func(s *dubboStack) {
		if err := s.providers[1].Freeze(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.providers[1].Thaw() })
	})
	for i := range 30 {
		if status, body := s.call(t, "GET", "/hello/fresh", ""); status != http.StatusOK {
			t.Fatalf("call %d: %d %s, want 200 (a call never sent to the frozen provider is retried)", i, status, body)
		}
	}
	if n := metric(t, s.reg, "rpcbridge_gateway_upstream_retries_total",
		map[string]string{"cluster": greeterCluster, "condition": "connect-failure"}); n < 1 {
		t.Errorf("retries on connect-failure = %v, want at least one", n)
	}
}

// TestPerEndpointCap: with at most 2 calls in flight per provider, 6 concurrent slow calls to
// two providers give 4 answers and 2 immediate 503 upstream_overflow (Envoy's circuit-breaker
// answer), not 6 calls queued on the providers.
func TestPerEndpointCap(t *testing.T) {
	s := startDubboStack(t, func(g *ir.Gateway) {
		g.Clusters[0].CircuitBreakers.MaxRequestsPerEndpoint = 2
		for i := range g.Routes {
			if g.Routes[i].Name == "slow" {
				g.Routes[i].Dubbo.Timeout = 20 * time.Second
			}
		}
	})
	var mu sync.Mutex
	codes := map[int]int{}
	var overflowBody string
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			status, body := s.call(t, "GET", "/slow?ms=3000", "")
			mu.Lock()
			defer mu.Unlock()
			codes[status]++
			if status == http.StatusServiceUnavailable {
				overflowBody = body
			}
		})
	}
	wg.Wait()
	if codes[http.StatusOK] != 4 || codes[http.StatusServiceUnavailable] != 2 || len(codes) != 2 {
		t.Fatalf("answers by status = %v, want 4 × 200 and 2 × 503", codes)
	}
	if !strings.Contains(overflowBody, `"status":"`+dataplane.StatusUpstreamOverflow+`"`) {
		t.Errorf("503 body = %s, want status %s", overflowBody, dataplane.StatusUpstreamOverflow)
	}
}

// TestPendingConnections: with max_connections 2 and max_pending_requests 2 on a Dubbo cluster
// (a connection carries one call, as Envoy's Dubbo TCP upstream does), 6 concurrent slow calls
// give 2 calls in flight, 2 that wait for a connection and then succeed, and 2 refused at once
// with 503 upstream_overflow (Envoy's upstream_rq_pending_overflow), counted by the limit.
func TestPendingConnections(t *testing.T) {
	s := startDubboStack(t, func(g *ir.Gateway) {
		g.Clusters[0].CircuitBreakers.MaxConnections = 2
		g.Clusters[0].CircuitBreakers.MaxPendingRequests = 2
		for i := range g.Routes {
			if g.Routes[i].Name == "slow" {
				g.Routes[i].Dubbo.Timeout = 20 * time.Second
			}
		}
	})
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			status, _ := s.call(t, "GET", "/slow?ms=1500", "")
			mu.Lock()
			defer mu.Unlock()
			codes[status]++
		})
	}
	wg.Wait()
	if codes[http.StatusOK] != 4 || codes[http.StatusServiceUnavailable] != 2 || len(codes) != 2 {
		t.Fatalf("answers by status = %v, want 4 × 200 (2 of them after waiting) and 2 × 503", codes)
	}
	if n := metric(t, s.reg, "rpcbridge_gateway_upstream_overflow_total",
		map[string]string{"cluster": greeterCluster, "limit": "max_pending_requests"}); n != 2 {
		t.Errorf("overflows by max_pending_requests = %v, want 2", n)
	}
}
