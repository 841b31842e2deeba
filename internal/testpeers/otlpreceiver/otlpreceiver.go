// Package otlpreceiver is a real OpenTelemetry collector endpoint for tests: it serves OTLP's
// TraceService over gRPC (the go.opentelemetry.io/proto/otlp service and message types) and
// OTLP/HTTP's POST /v1/traces with a protobuf body, on loopback, and keeps every span it
// receives, with the resource's service.name and the export request's headers.
package otlpreceiver

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// Span is one received span, its IDs in lower-case hex as W3C traceparent writes them.
type Span struct {
	TraceID, SpanID, ParentSpanID string
	Name                          string
	// Kind is "server", "client", "internal", "producer" or "consumer".
	Kind string
	// Attributes are the span's attributes, their values as text.
	Attributes map[string]string
	// Error is set when the span's status is an error; StatusMessage is its description.
	Error         bool
	StatusMessage string
	// Service is the resource's service.name.
	Service string
	// Headers are the export request's headers (gRPC metadata or HTTP headers), lower case.
	Headers map[string]string
	// Via is "grpc" or "http": how the span was exported.
	Via string
}

// Receiver collects spans. Create it with Start.
type Receiver struct {
	grpcAddr, httpAddr string

	mu    sync.Mutex
	spans []Span
}

// Start serves both transports on free loopback ports until the test ends.
func Start(tb testing.TB) *Receiver {
	tb.Helper()
	r := &Receiver{}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	r.grpcAddr, r.httpAddr = gl.Addr().String(), hl.Addr().String()
	gs := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(gs, traceService{r: r})
	hs := &http.Server{Handler: http.HandlerFunc(r.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = gs.Serve(gl) }()
	go func() { _ = hs.Serve(hl) }()
	tb.Cleanup(func() {
		gs.Stop()
		_ = hs.Close()
	})
	return r
}

// GRPCEndpoint is the OTLP/gRPC endpoint URL ("http://127.0.0.1:port").
func (r *Receiver) GRPCEndpoint() string { return "http://" + r.grpcAddr }

// HTTPEndpoint is the OTLP/HTTP base URL; spans are posted to /v1/traces under it.
func (r *Receiver) HTTPEndpoint() string { return "http://" + r.httpAddr }

// Spans returns the spans received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Wait polls until done accepts the spans received so far and returns them; it fails the test
// after giveUp (a bound on waiting, never a pass criterion).
func (r *Receiver) Wait(tb testing.TB, what string, giveUp time.Duration, done func([]Span) error) []Span {
	tb.Helper()
	deadline := time.Now().Add(giveUp)
	for {
		spans := r.Spans()
		err := done(spans)
		if err == nil {
			return spans
		}
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s: %v (received %d spans: %s)", what, err, len(spans), describe(spans))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// describe lists spans briefly, for failure messages.
func describe(spans []Span) string {
	parts := make([]string, len(spans))
	for i, s := range spans {
		parts[i] = fmt.Sprintf("%s %q trace=%s span=%s parent=%s", s.Kind, s.Name, s.TraceID, s.SpanID, s.ParentSpanID)
	}
	return strings.Join(parts, "; ")
}

type traceService struct {
	collectortrace.UnimplementedTraceServiceServer
	r *Receiver
}

// Export implements the OTLP TraceService.
func (s traceService) Export(ctx context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	headers := map[string]string{}
	md, _ := metadata.FromIncomingContext(ctx)
	for k, v := range md {
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	s.r.add(req, headers, "grpc")
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// serveHTTP is OTLP/HTTP: POST /v1/traces, protobuf in, protobuf out.
func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
		http.Error(w, "OTLP/HTTP traces are POSTed to /v1/traces", http.StatusNotFound)
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		http.Error(w, "content type "+ct+" is not application/x-protobuf", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var export collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &export); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	headers := map[string]string{}
	for k, v := range req.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	r.add(&export, headers, "http")
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// add keeps the spans of one export.
func (r *Receiver) add(req *collectortrace.ExportTraceServiceRequest, headers map[string]string, via string) {
	var got []Span
	for _, rs := range req.GetResourceSpans() {
		service := attributes(rs.GetResource().GetAttributes())["service.name"]
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				got = append(got, Span{
					TraceID: hex.EncodeToString(sp.GetTraceId()), SpanID: hex.EncodeToString(sp.GetSpanId()),
					ParentSpanID: hex.EncodeToString(sp.GetParentSpanId()), Name: sp.GetName(), Kind: kind(sp.GetKind()),
					Attributes: attributes(sp.GetAttributes()), Error: sp.GetStatus().GetCode() == tracev1.Status_STATUS_CODE_ERROR,
					StatusMessage: sp.GetStatus().GetMessage(), Service: service, Headers: headers, Via: via,
				})
			}
		}
	}
	r.mu.Lock()
	r.spans = append(r.spans, got...)
	r.mu.Unlock()
}

func kind(k tracev1.Span_SpanKind) string {
	return strings.ToLower(strings.TrimPrefix(k.String(), "SPAN_KIND_"))
}

// attributes renders attribute values as text.
func attributes(kvs []*commonv1.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonv1.AnyValue_StringValue:
			out[kv.GetKey()] = x.StringValue
		case *commonv1.AnyValue_IntValue:
			out[kv.GetKey()] = fmt.Sprint(x.IntValue)
		case *commonv1.AnyValue_BoolValue:
			out[kv.GetKey()] = fmt.Sprint(x.BoolValue)
		case *commonv1.AnyValue_DoubleValue:
			out[kv.GetKey()] = fmt.Sprint(x.DoubleValue)
		default:
			out[kv.GetKey()] = v.String()
		}
	}
	return out
}
