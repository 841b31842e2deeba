package dataplane_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/internal/bench/load"
	"github.com/rpcbridge/rpcbridge/internal/jwttest"
)

// The edge-policy benchmarks (issue 15): the added cost of JWT + CORS + rate limit per request in
// the embedded gateway, measured in the same run against the same route without a policy. Both
// routes go to one HTTP echo server; rpcbridge's real xDS server serves the IR (translated by
// controlplane.Translate) to the real embedded gateway.
const (
	edgeBenchPlain    = "/plain/x"
	edgeBenchGuarded  = "/guarded/x"
	edgeBenchOrigin   = "https://app.example.com"
	edgeBenchIssuer   = "https://id.example.com"
	edgeBenchAudience = "orders"
)

// edgeBench is the stack and the two requests the benchmarks compare.
type edgeBench struct {
	gw *dataplane.Gateway
	// token is a valid JWT of the policy's provider.
	token string
}

// edgeBenchPolicy is the benchmarked policy: a JWT provider with keys (two claims copied into
// identity headers, so the identity header removal runs too), CORS for edgeBenchOrigin, and a
// rate limit with a per-client bucket on the JWT subject, both large enough never to refuse.
func edgeBenchPolicy(jwks string) *ir.EdgePolicy {
	huge := ir.TokenBucket{MaxTokens: 1 << 30, TokensPerFill: 1 << 30, FillInterval: time.Second}
	return &ir.EdgePolicy{
		Name:            "bench",
		IdentityHeaders: []string{"x-tenant", "x-user-sub"},
		JWT: &ir.JWT{Providers: []ir.JWTProvider{{Name: "corp", Issuer: edgeBenchIssuer, Audiences: []string{edgeBenchAudience},
			JWKS:         jwks,
			ClaimHeaders: []ir.JWTClaimHeader{{Claim: "org.tenant", Header: "x-tenant"}, {Claim: "sub", Header: "x-user-sub"}}}}},
		CORS: &ir.CORS{AllowOrigins: []ir.StringMatch{{Exact: edgeBenchOrigin}, {Suffix: ".example.org"}},
			AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{"authorization", "content-type"},
			ExposeHeaders: []string{"x-request-id"}, MaxAge: 10 * time.Minute, AllowCredentials: true},
		RateLimit: &ir.RateLimit{Bucket: huge, MaxClients: 1000,
			PerClient: []ir.ClientRateLimit{{Key: ir.ClientHeader, Header: "x-user-sub", Bucket: huge}}},
	}
}

// startEdgeBench serves the two routes (one without a policy, one with edgeBenchPolicy) to the
// embedded gateway, with tokens signed by key, and waits until both answer.
func startEdgeBench(tb testing.TB, key jwttest.Key) *edgeBench {
	tb.Helper()
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok")
	}))
	tb.Cleanup(web.Close)
	host, port, err := net.SplitHostPort(web.Listener.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		tb.Fatal(err)
	}
	policy := edgeBenchPolicy(jwttest.JWKS(tb, key))
	g := ir.Gateway{
		Clusters: []ir.Cluster{{Name: "http:echo", Protocol: ir.UpstreamHTTP1, ConnectTimeout: time.Second,
			Endpoints: []ir.Endpoint{{Address: host, Port: uint32(p), Weight: 1, Healthy: true}}}},
		Routes: []ir.Route{
			{Name: "plain", Cluster: "http:echo", Match: ir.Match{PathPrefix: "/plain/"}},
			{Name: "guarded", Cluster: "http:echo", Match: ir.Match{PathPrefix: "/guarded/"}, Policy: policy},
		},
	}
	xds := controlplane.NewServer(controlplane.ServerOptions{})
	if err := xds.Update(g); err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- xds.Serve(ctx, ln) }()
	gw := dataplane.New(dataplane.Options{XDSAddress: ln.Addr().String(), NodeID: "edge-bench",
		NodeCluster: gatewayv1.EmbeddedNodeCluster, ListenAddress: "127.0.0.1:0",
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	done := make(chan error, 1)
	go func() { done <- gw.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("gateway Run: %v", err)
		}
		<-served
	})
	b := &edgeBench{gw: gw, token: jwttest.Sign(tb, key, map[string]any{"iss": edgeBenchIssuer, "aud": edgeBenchAudience,
		"sub": "alice", "org": map[string]any{"tenant": "t1"}, "exp": time.Now().Add(24 * time.Hour).Unix()})}
	deadline := time.Now().Add(30 * time.Second)
	for {
		errPlain, errGuarded := b.check(b.handlerDo(edgeBenchPlain)), b.check(b.handlerDo(edgeBenchGuarded))
		if errPlain == nil && errGuarded == nil {
			return b
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the gateway did not serve both routes within 30 s: %v; %v", errPlain, errGuarded)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// request is the benchmark's request to path: a CORS actual request from the allowed origin with
// the token, the same for both routes (the route without a policy ignores both).
func (b *edgeBench) request(ctx context.Context, url string) *http.Request {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		panic(err) // a constant URL
	}
	req.Header.Set("Origin", edgeBenchOrigin)
	req.Header.Set("Authorization", "Bearer "+b.token)
	return req
}

// answer is what the benchmark checks of a response.
type answer struct {
	path   string
	status int
	header http.Header
	body   string
}

// check says what is wrong with a, if anything: both routes answer 200 from the echo server; the
// guarded one carries the CORS and x-ratelimit headers, the plain one neither.
func (b *edgeBench) check(a answer) error {
	if a.status != http.StatusOK || a.body != "ok" {
		return fmt.Errorf("%s: %d %q", a.path, a.status, a.body)
	}
	guarded := a.path == edgeBenchGuarded
	if got := a.header.Get("Access-Control-Allow-Origin"); (got == edgeBenchOrigin) != guarded {
		return fmt.Errorf("%s: Access-Control-Allow-Origin %q", a.path, got)
	}
	if got := a.header.Get("X-Ratelimit-Limit"); (got != "") != guarded {
		return fmt.Errorf("%s: X-Ratelimit-Limit %q", a.path, got)
	}
	return nil
}

// handlerDo serves one request in process through the gateway's Handler.
func (b *edgeBench) handlerDo(path string) answer {
	rec := httptest.NewRecorder()
	req := b.request(context.Background(), "http://gateway.test"+path)
	req.RemoteAddr = "127.0.0.1:40000"
	b.gw.Handler().ServeHTTP(rec, req)
	return answer{path: path, status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

// client is a sender of requests to the gateway's listener over loopback HTTP/1.1.
func (b *edgeBench) client(tb testing.TB) func(ctx context.Context, path string) error {
	transport := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	tb.Cleanup(transport.CloseIdleConnections)
	c := &http.Client{Transport: transport, Timeout: giveUp}
	base := "http://" + b.gw.Addr().String()
	return func(ctx context.Context, path string) error {
		resp, err := c.Do(b.request(ctx, base+path))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		return b.check(answer{path: path, status: resp.StatusCode, header: resp.Header, body: string(body)})
	}
}

// edgeBenchKeys are the signing keys the benchmarks run with: ES256 (P-256), the common choice,
// and RS256 (RSA 2048), whose verification is cheaper.
func edgeBenchKeys(tb testing.TB) []jwttest.Key {
	return []jwttest.Key{jwttest.NewEC(tb, "ec"), jwttest.NewRSA(tb, "rsa")}
}

// BenchmarkEdgePolicyHandler serves requests in process through the gateway's Handler (an
// httptest.ResponseRecorder, the upstream a real HTTP server): ns/op and allocs/op of the route
// without a policy and of the route with JWT + CORS + rate limit; the difference is the
// policy's cost.
//
//	go test ./dataplane -run '^$' -bench BenchmarkEdgePolicyHandler -benchmem -count 3
func BenchmarkEdgePolicyHandler(b *testing.B) {
	for _, key := range edgeBenchKeys(b) {
		bench := startEdgeBench(b, key)
		for _, path := range []string{edgeBenchPlain, edgeBenchGuarded} {
			name := "none"
			if path == edgeBenchGuarded {
				name = "policy"
			}
			b.Run(key.Alg+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := bench.check(bench.handlerDo(path)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkEdgePolicyCost sends, over loopback HTTP to the gateway's listener, one request at a
// time (no queueing), alternating request by request between the route without a policy and
// the route with JWT + CORS + rate limit (which goes first alternates too), and reports both
// routes' p50 and p99 and the added p50/p99 (policy minus none, per percentile), in µs.
//
//	go test ./dataplane -run '^$' -bench BenchmarkEdgePolicyCost -benchtime 20000x -count 3
func BenchmarkEdgePolicyCost(b *testing.B) {
	for _, key := range edgeBenchKeys(b) {
		b.Run(key.Alg, func(b *testing.B) {
			bench := startEdgeBench(b, key)
			send := bench.client(b)
			ctx := context.Background()
			for range 200 { // warm both routes (connections, caches)
				for _, path := range []string{edgeBenchPlain, edgeBenchGuarded} {
					if err := send(ctx, path); err != nil {
						b.Fatal(err)
					}
				}
			}
			times := [2][]time.Duration{make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)}
			paths := [2]string{edgeBenchPlain, edgeBenchGuarded}
			b.ResetTimer()
			for i := range b.N {
				for j := range 2 {
					target := (i + j) % 2
					start := time.Now()
					if err := send(ctx, paths[target]); err != nil {
						b.Fatal(err)
					}
					times[target] = append(times[target], time.Since(start))
				}
			}
			b.StopTimer()
			reportEdgeCost(b, times[0], times[1])
		})
	}
}

// reportEdgeCost reports p50 and p99 of both targets and the added p50/p99, in µs.
func reportEdgeCost(b *testing.B, none, policy []time.Duration) {
	slices.Sort(none)
	slices.Sort(policy)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	p := load.Quantile
	b.ReportMetric(us(p(none, 0.5)), "none-p50-µs")
	b.ReportMetric(us(p(none, 0.99)), "none-p99-µs")
	b.ReportMetric(us(p(policy, 0.5)), "policy-p50-µs")
	b.ReportMetric(us(p(policy, 0.99)), "policy-p99-µs")
	b.ReportMetric(us(p(policy, 0.5)-p(none, 0.5)), "added-p50-µs")
	b.ReportMetric(us(p(policy, 0.99)-p(none, 0.99)), "added-p99-µs")
}

// Fixed-rate edge-policy load: requests per second over both targets together, requests per
// target (about 25 s), windows for the spread, warm-up requests per target left out.
const (
	edgeFixedRate      = 800
	edgeFixedPerTarget = 10000
	edgeFixedWindows   = 5
	edgeFixedWarmUp    = 800
)

// BenchmarkEdgePolicyCostFixedRate sends an open-loop load of 800 requests per second over
// loopback HTTP, interleaved tick by tick between the route without a policy (the baseline) and
// the route with JWT + CORS + rate limit (internal/bench/load), 10,000 requests each after a
// warm-up that is left out. Latency counts from each request's scheduled send time. It reports
// both routes' p50/p99, the added p50/p99, the spread of the added p99 over 5 windows and the
// generator's send lag, in ms (load.Summary.Metrics).
//
//	go test ./dataplane -run '^$' -bench BenchmarkEdgePolicyCostFixedRate -benchtime 1x -count 3
func BenchmarkEdgePolicyCostFixedRate(b *testing.B) {
	for _, key := range edgeBenchKeys(b) {
		b.Run(key.Alg, func(b *testing.B) {
			bench := startEdgeBench(b, key)
			send := bench.client(b)
			targets := []load.Target{
				{Name: "none", Send: func(ctx context.Context, _ int) error { return send(ctx, edgeBenchPlain) }},
				{Name: "policy", Send: func(ctx context.Context, _ int) error { return send(ctx, edgeBenchGuarded) }},
			}
			ctx := context.Background()
			if _, err := load.Generate(ctx, load.Options{Rate: edgeFixedRate, PerTarget: edgeFixedWarmUp}, targets); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				rec, err := load.Generate(ctx, load.Options{Rate: edgeFixedRate, PerTarget: edgeFixedPerTarget}, targets)
				if err != nil {
					b.Fatal(err)
				}
				if _, first := rec.Errors(); first != nil {
					b.Errorf("failed requests, first: %v", first)
				}
				sum := load.Summarize(rec, edgeFixedWindows)
				b.Logf("\n%s", sum)
				for _, m := range sum.Metrics() {
					b.ReportMetric(m.Value, m.Unit)
				}
			}
		})
	}
}

// TestEdgeBenchRoutes checks what the edge-policy benchmarks rely on: through the real xDS
// server and gateway, in process and over loopback HTTP, the route without a policy answers
// without CORS and x-ratelimit headers, the route with the policy answers the valid token and
// allowed origin with both, and refuses a request without the token (so the policy does run).
func TestEdgeBenchRoutes(t *testing.T) {
	bench := startEdgeBench(t, jwttest.NewEC(t, "ec"))
	send := bench.client(t)
	for _, path := range []string{edgeBenchPlain, edgeBenchGuarded} {
		if err := bench.check(bench.handlerDo(path)); err != nil {
			t.Errorf("in process: %v", err)
		}
		if err := send(context.Background(), path); err != nil {
			t.Errorf("over HTTP: %v", err)
		}
	}
	bench.token = "not-a-token"
	if a := bench.handlerDo(edgeBenchGuarded); a.status != http.StatusUnauthorized {
		t.Errorf("a bad token on the policy's route: %d %q, want 401", a.status, a.body)
	}
}
