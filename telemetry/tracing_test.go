package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/otlpreceiver"
)

const (
	clientTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientParent = "00f067aa0ba902b7"
	giveUp       = 15 * time.Second
)

// carriers is what one traced upstream call injected into each kind of carrier.
type carriers struct {
	header   http.Header
	metadata map[string][]string
	attach   map[string]string
}

// tracedRequest runs a request with one Dubbo call through g and injects the call's context
// into a header, gRPC metadata and Dubbo attachments that already hold a stale traceparent.
func tracedRequest(t *testing.T, g *Gateway, header http.Header) carriers {
	t.Helper()
	req := httptest.NewRequest("POST", "/greet/Ada", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	ex, req := g.Begin(req)
	_, call := ex.StartCall(req.Context(), CallInfo{Protocol: ProtocolDubbo, Cluster: "dubbo:Greeter::", Service: "org.example.Greeter", Method: "greet"})
	c := carriers{
		header:   http.Header{"Traceparent": {"stale"}},
		metadata: map[string][]string{"traceparent": {"stale"}},
		attach:   map[string]string{"traceparent": "stale", "Traceparent": "stale", "Tracestate": "stale", "x-request-id": "r1"},
	}
	call.InjectHeader(c.header)
	call.InjectMetadata(c.metadata)
	call.InjectAttachments(c.attach)
	call.End(CallResult{Outcome: OutcomeError, DubboStatus: "OK", DubboException: "java.lang.IllegalStateException", Err: errors.New("boom")})
	ex.Finish(Response{Route: "greet", Cluster: "dubbo:Greeter::", Status: 500, RequestID: "r1", ClientAddress: "203.0.113.7"})
	return c
}

// startTracing starts tracing to cfg's endpoint and shuts it down when the test ends.
func startTracing(t *testing.T, cfg TracingConfig) *Tracing {
	t.Helper()
	return startTracingLogged(t, cfg, nil)
}

// startTracingLogged is startTracing with a logger.
func startTracingLogged(t *testing.T, cfg TracingConfig, log *slog.Logger) *Tracing {
	t.Helper()
	tr, err := NewTracing(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tr.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return tr
}

// TestTracingExportsToOTLP: over OTLP/gRPC and OTLP/HTTP, to a real collector endpoint, the
// gateway exports a server span that continues the client's W3C trace and a client span under
// it, and the upstream call carries the client span as its parent in every carrier.
func TestTracingExportsToOTLP(t *testing.T) {
	rcv := otlpreceiver.Start(t)
	for _, tc := range []struct{ protocol, endpoint string }{
		{OTLPGRPC, rcv.GRPCEndpoint()}, {OTLPHTTP, rcv.HTTPEndpoint()},
	} {
		t.Run(tc.protocol, func(t *testing.T) {
			tr := startTracing(t, TracingConfig{Endpoint: tc.endpoint, Protocol: tc.protocol, ServiceName: "edge",
				Headers: map[string]string{"x-collector-token": "s3cret"}})
			trace := fmt.Sprintf("%x", time.Now().UnixNano())
			trace = strings.Repeat("0", 32-len(trace)) + trace
			c := tracedRequest(t, NewGateway(GatewayOptions{Tracing: tr}), http.Header{
				"Traceparent": {"00-" + trace + "-" + clientParent + "-01"}, "Tracestate": {"vendor=x"}, "Baggage": {"user=ada"}})
			if err := tr.ForceFlush(context.Background()); err != nil {
				t.Fatal(err)
			}
			spans := rcv.Wait(t, "the request's two spans", giveUp, func(spans []otlpreceiver.Span) error {
				n := 0
				for _, s := range spans {
					if s.TraceID == trace {
						n++
					}
				}
				if n < 2 {
					return fmt.Errorf("%d spans of trace %s", n, trace)
				}
				return nil
			})
			var server, client otlpreceiver.Span
			for _, s := range spans {
				if s.TraceID == trace && s.Kind == "server" {
					server = s
				}
				if s.TraceID == trace && s.Kind == "client" {
					client = s
				}
			}
			if server.ParentSpanID != clientParent || server.Name != "POST greet" || !server.Error ||
				server.Attributes["http.response.status_code"] != "500" || server.Attributes["rpcbridge.route"] != "greet" ||
				server.Attributes["rpcbridge.request_id"] != "r1" || server.Attributes["client.address"] != "203.0.113.7" {
				t.Errorf("server span %+v: want a child of the client's span, named POST greet, 500, an error", server)
			}
			if client.ParentSpanID != server.SpanID || client.Name != "org.example.Greeter/greet" || !client.Error ||
				client.Attributes["rpc.system.name"] != "dubbo" || client.Attributes["rpc.method"] != "org.example.Greeter/greet" ||
				client.Attributes["rpcbridge.dubbo.exception"] != "java.lang.IllegalStateException" || client.StatusMessage != "boom" {
				t.Errorf("client span %+v: want the server span's child, a Dubbo call that failed", client)
			}
			if server.Service != "edge" || server.Via != strings.Split(tc.protocol, "/")[0] || server.Headers["x-collector-token"] != "s3cret" {
				t.Errorf("export: service %q via %q headers %v; want edge, %s, the configured header", server.Service, server.Via, server.Headers, tc.protocol)
			}
			want := "00-" + trace + "-" + client.SpanID + "-01"
			if got := c.header.Get("Traceparent"); got != want {
				t.Errorf("HTTP traceparent %q, want %q", got, want)
			}
			if got := c.metadata["traceparent"]; len(got) != 1 || got[0] != want {
				t.Errorf("gRPC metadata traceparent %q, want [%q]", got, want)
			}
			if c.attach["traceparent"] != want || c.attach["tracestate"] != "vendor=x" || c.attach["baggage"] != "user=ada" || c.attach["x-request-id"] != "r1" ||
				c.attach["Traceparent"] != "" || c.attach["Tracestate"] != "" {
				t.Errorf("Dubbo attachments %v: want traceparent %q, the client's tracestate and baggage, the others kept", c.attach, want)
			}
		})
	}
}

// TestTracingSampling: with sampleRatio 0 a new trace is not exported but still propagated
// (not sampled), while a client's sampled traceparent is followed (parent-based sampling).
func TestTracingSampling(t *testing.T) {
	rcv := otlpreceiver.Start(t)
	tr := startTracing(t, TracingConfig{Endpoint: rcv.GRPCEndpoint(), SampleRatio: rate(0)})
	g := NewGateway(GatewayOptions{Tracing: tr})
	unsampled := tracedRequest(t, g, nil).attach["traceparent"]
	if !strings.HasPrefix(unsampled, "00-") || !strings.HasSuffix(unsampled, "-00") {
		t.Errorf("a new trace at ratio 0 propagated %q, want a traceparent with flags 00", unsampled)
	}
	followed := tracedRequest(t, g, http.Header{"Traceparent": {"00-" + clientTrace + "-" + clientParent + "-01"}}).attach["traceparent"]
	if !strings.HasPrefix(followed, "00-"+clientTrace+"-") || !strings.HasSuffix(followed, "-01") {
		t.Errorf("a sampled client trace propagated %q, want trace %s, sampled", followed, clientTrace)
	}
	if err := tr.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := rcv.Wait(t, "the followed trace", giveUp, func(spans []otlpreceiver.Span) error {
		if len(spans) < 2 {
			return fmt.Errorf("%d spans", len(spans))
		}
		return nil
	})
	for _, s := range spans {
		if s.TraceID != clientTrace {
			t.Errorf("exported span %+v of an unsampled trace", s)
		}
	}
}

// TestWithoutTracingNothingIsInjected: without tracing, what the client sent goes on as it is.
func TestWithoutTracingNothingIsInjected(t *testing.T) {
	c := tracedRequest(t, NewGateway(GatewayOptions{}), http.Header{"Traceparent": {"00-" + clientTrace + "-" + clientParent + "-01"}})
	if c.header.Get("Traceparent") != "stale" || c.metadata["traceparent"][0] != "stale" || c.attach["traceparent"] != "stale" {
		t.Errorf("carriers changed without tracing: %+v", c)
	}
}

// TestUnreachableCollectorIsNotFatal: spans for a collector that is not there are dropped and
// logged; requests and shutdown go on.
func TestUnreachableCollectorIsNotFatal(t *testing.T) {
	var logged syncBuffer
	tr := startTracingLogged(t, TracingConfig{Endpoint: "http://127.0.0.1:1", Protocol: OTLPHTTP}, slog.New(slog.NewTextHandler(&logged, nil)))
	tracedRequest(t, NewGateway(GatewayOptions{Tracing: tr}), nil)
	ctx, cancel := context.WithTimeout(context.Background(), giveUp)
	defer cancel()
	if err := tr.ForceFlush(ctx); err != nil {
		t.Errorf("flush to an unreachable collector: %v, want the failure logged, not returned", err)
	}
	logged.mu.Lock()
	defer logged.mu.Unlock()
	if !strings.Contains(logged.b.String(), "cannot export spans") || !strings.Contains(logged.b.String(), "dropped_spans=2") {
		t.Errorf("logged %q, want the dropped spans reported", logged.b.String())
	}
}

// TestTracingConfigValidation: NewTracing refuses what Validate refuses, and is off without an
// endpoint.
func TestTracingConfigValidation(t *testing.T) {
	if tr, err := NewTracing(context.Background(), TracingConfig{}, nil); tr != nil || err != nil {
		t.Errorf("no endpoint: %v %v, want tracing off", tr, err)
	}
	if _, err := NewTracing(context.Background(), TracingConfig{Endpoint: "collector:4317"}, nil); err == nil {
		t.Error("an endpoint without a scheme was accepted")
	}
}
