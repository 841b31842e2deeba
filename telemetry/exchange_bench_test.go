package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/otlpreceiver"
)

// discardExporter drops every span: tracing's cost on the request path without the export.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// BenchmarkExchange measures what telemetry adds to one request with one upstream call: the
// metrics alone (always on), with the access log (to io.Discard), with tracing — every request
// sampled and its spans dropped by the exporter (the request path's share), or exported over
// OTLP/gRPC to a real receiver in the same process (the whole pipeline, receiver included) —,
// unsampled (sampleRatio 0: context still propagated), and access log plus OTLP tracing. See
// docs/benchmarks.md.
func BenchmarkExchange(b *testing.B) {
	rcv := otlpreceiver.Start(b)
	newTracing := func(ratio float64) *Tracing {
		tr, err := NewTracing(context.Background(), TracingConfig{Endpoint: rcv.GRPCEndpoint(), SampleRatio: &ratio}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
		return tr
	}
	otlp, unsampled := newTracing(1), newTracing(0)
	dropped := &Tracing{provider: sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardExporter{})), propagator: otlp.propagator}
	dropped.tracer = dropped.provider.Tracer(instrumentationName)
	b.Cleanup(func() { _ = dropped.Shutdown(context.Background()) })
	log, _ := OpenAccessLog(AccessLogConfig{Enabled: true}, io.Discard, nil)
	for _, c := range []struct {
		name    string
		log     *AccessLog
		tracing *Tracing
		parent  string
	}{
		{"metrics", nil, nil, "01"}, {"accesslog", log, nil, "01"}, {"tracing-dropped", nil, dropped, "01"},
		{"tracing-otlp", nil, otlp, "01"}, {"tracing-unsampled", nil, unsampled, ""}, {"accesslog+tracing-otlp", log, otlp, "01"},
	} {
		b.Run(c.name, func(b *testing.B) {
			g := NewGateway(GatewayOptions{Registerer: prometheus.NewRegistry(), AccessLog: c.log, Tracing: c.tracing})
			base := httptest.NewRequest("GET", "/v1/shelves/7", http.NoBody)
			if c.parent != "" {
				base.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-"+c.parent)
			}
			b.ReportAllocs()
			for b.Loop() {
				ex, req := g.Begin(base.Clone(base.Context()))
				_, call := ex.StartCall(req.Context(), CallInfo{Protocol: ProtocolGRPC, Cluster: "grpc:bookstore", Service: "bookstore.v1.Bookstore", Method: "GetShelf"})
				md := map[string][]string{}
				call.InjectMetadata(md)
				call.End(CallResult{Outcome: OutcomeOK, GRPCStatus: "OK"})
				ex.Finish(Response{Route: "grpc", Cluster: "grpc:bookstore", Status: 200, BytesSent: 64, RequestID: "5f0c7b1e-3a3e-4a8f-9a55-0c1b8c1f2d3e", ClientAddress: "127.0.0.1"})
			}
		})
	}
}
