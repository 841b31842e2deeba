package telemetry

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// GatewayOptions configure a gateway's telemetry.
type GatewayOptions struct {
	// Registerer receives the gateway's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// AccessLog receives one line per request; nil logs none.
	AccessLog *AccessLog
	// Tracing traces requests and their upstream calls; nil traces none and leaves the
	// traceparent a client sends as it is.
	Tracing *Tracing
	// Logger receives telemetry's own problems (an access log that cannot be written).
	Logger *slog.Logger
}

// Gateway is the telemetry of one embedded gateway: its metrics, access log and tracer. Each
// request is an Exchange, begun with Begin and ended with Finish. It is safe for concurrent use.
type Gateway struct {
	metrics *gatewayMetrics
	log     *AccessLog
	tracing *Tracing
	logger  *slog.Logger
	// warned is set once an access log write failed, so the failure is logged once.
	warned atomic.Bool
}

// NewGateway returns the telemetry of a gateway.
func NewGateway(opts GatewayOptions) *Gateway {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Gateway{metrics: newGatewayMetrics(opts.Registerer, logger), log: opts.AccessLog, tracing: opts.Tracing, logger: logger}
}

// ObserveXDS counts an xDS response the gateway accepted (err nil) or rejected.
func (g *Gateway) ObserveXDS(typeURL string, err error) { g.metrics.observeXDS(typeURL, err) }

// Exchange is the telemetry of one request.
type Exchange struct {
	g     *Gateway
	start time.Time
	span  trace.Span // nil without tracing
	// traceID is the client's trace when tracing is off.
	traceID string
	body    *countingBody
	// The request line, kept for the access log.
	method, path, protocol, authority, userAgent string

	mu   sync.Mutex
	call *Call // the last upstream call
}

// Begin starts the telemetry of r: it starts the request's server span, a child of the
// client's W3C traceparent when it sends a valid one, and counts the request body. It returns
// the request to serve, whose context carries the span.
func (g *Gateway) Begin(r *http.Request) (*Exchange, *http.Request) {
	e := &Exchange{g: g, start: time.Now(), method: r.Method}
	if g.log != nil {
		e.path, e.protocol, e.authority, e.userAgent = r.URL.RequestURI(), r.Proto, r.Host, r.UserAgent()
		if r.Body != nil && r.Body != http.NoBody {
			e.body = &countingBody{ReadCloser: r.Body}
			r.Body = e.body // as http.MaxBytesReader is used
		}
	}
	if g.tracing == nil {
		if g.log != nil {
			// Tracing is off, but the client's trace still names the request in the log.
			sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
			if sc.HasTraceID() {
				e.traceID = sc.TraceID().String()
			}
		}
		return e, r
	}
	t := g.tracing
	ctx := t.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, e.span = t.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(e.start),
		trace.WithAttributes(
			attribute.String(string(semconv.HTTPRequestMethodKey), r.Method),
			semconv.URLPath(r.URL.Path),
			semconv.UserAgentOriginal(r.UserAgent()),
			semconv.NetworkProtocolVersion(protocolVersion(r)),
		))
	return e, r.WithContext(ctx)
}

// protocolVersion is network.protocol.version: "1.1", "2".
func protocolVersion(r *http.Request) string {
	if r.ProtoMajor >= 2 {
		return strconv.Itoa(r.ProtoMajor)
	}
	return strconv.Itoa(r.ProtoMajor) + "." + strconv.Itoa(r.ProtoMinor)
}

// Response is how a request was answered, for Finish.
type Response struct {
	// Route is the matched route's name and Cluster the cluster the request went to ("" for
	// none).
	Route, Cluster string
	// Status is the HTTP status sent.
	Status int
	// BytesSent counts the response body bytes written.
	BytesSent int64
	// HeaderAt is when the response header was written (zero if never).
	HeaderAt time.Time
	// Details is how the gateway answered by itself: the status of its error body
	// (route_not_found, ...) or direct_response; "" when the upstream's answer was relayed
	// (response_code_details is then via_upstream).
	Details string
	// Flags are Envoy's response flags of the answer ("" when none).
	Flags string
	// RequestID is the x-request-id after the connection manager, ClientAddress the trusted
	// client address.
	RequestID, ClientAddress string
	// Path, when set, is the access log's path instead of the request line's: the path and
	// query as the edge filters left them. Envoy renders %REQ(:PATH)% from the request headers
	// as its filters changed them, so an API key that api_key_auth's hide_credentials removed
	// from the query is not logged.
	Path string
}

// Finish ends the request: it observes the request and upstream histograms, ends the span
// and writes the access log line.
func (e *Exchange) Finish(resp Response) {
	end := time.Now()
	g := e.g
	g.metrics.observeRequest(resp.Route, resp.Cluster, resp.Status, end.Sub(e.start))
	e.mu.Lock()
	call := e.call
	e.mu.Unlock()
	var upstream *Millis
	if call != nil && resp.Flags == "" {
		resp.Flags = call.result.Flag
	}
	if call != nil {
		took := call.serviceTime(resp.HeaderAt)
		g.metrics.upstream.WithLabelValues(call.info.Cluster, string(call.info.Protocol), string(call.result.Outcome)).Observe(took.Seconds())
		m := Millis(took)
		upstream = &m
	}
	if e.span != nil {
		e.endSpan(resp, end)
	}
	if g.log != nil {
		e.writeLog(resp, end, call, upstream)
	}
}

// endSpan finishes the server span with what the answer was.
func (e *Exchange) endSpan(resp Response, end time.Time) {
	if resp.Route != "" {
		e.span.SetName(e.method + " " + resp.Route) // OpenTelemetry's "{method} {target}"
	}
	attrs := []attribute.KeyValue{semconv.HTTPResponseStatusCode(resp.Status)}
	for _, a := range []struct{ key, value string }{
		{"rpcbridge.route", resp.Route}, {"rpcbridge.cluster", resp.Cluster}, {"rpcbridge.request_id", resp.RequestID},
		{"rpcbridge.response_flags", resp.Flags}, {string(semconv.ClientAddressKey), resp.ClientAddress},
	} {
		if a.value != "" {
			attrs = append(attrs, attribute.String(a.key, a.value))
		}
	}
	e.span.SetAttributes(attrs...)
	if resp.Status >= 500 {
		// Server spans are errors for 5xx only (OpenTelemetry HTTP semantic conventions).
		e.span.SetStatus(codes.Error, http.StatusText(resp.Status))
	}
	e.span.End(trace.WithTimestamp(end))
}

// writeLog writes the request's access log line, counting (and logging once) a failed write.
func (e *Exchange) writeLog(resp Response, end time.Time, call *Call, upstream *Millis) {
	rec := &Record{
		StartTime: e.start.UTC(), RouteName: resp.Route,
		Method: e.method, Path: e.path, Protocol: e.protocol, Authority: e.authority, UserAgent: e.userAgent,
		ResponseCode: resp.Status, ResponseFlags: resp.Flags, ResponseCodeDetails: resp.Details,
		BytesSent: resp.BytesSent, Duration: Millis(end.Sub(e.start)), UpstreamServiceTime: upstream,
		UpstreamCluster: resp.Cluster, TraceID: e.traceID, RequestID: resp.RequestID,
		DownstreamRemoteAddress: resp.ClientAddress,
	}
	if resp.Path != "" {
		rec.Path = resp.Path
	}
	if rec.ResponseFlags == "" {
		rec.ResponseFlags = "-" // Envoy's rendering of no flag
	}
	if rec.ResponseCodeDetails == "" && call != nil {
		rec.ResponseCodeDetails = "via_upstream"
	}
	if e.body != nil {
		rec.BytesReceived = e.body.n.Load()
	}
	if e.span != nil {
		rec.TraceID = e.span.SpanContext().TraceID().String()
	}
	if call != nil {
		call.describe(rec)
	}
	err := e.g.log.write(rec)
	if err != nil && !errors.Is(err, errNotLogged) {
		e.g.metrics.accessErrors.Inc()
		if !e.g.warned.Swap(true) {
			e.g.logger.Warn("cannot write the access log; further failures are only counted", "error", err)
		}
	}
}

// countingBody counts the bytes read from a request body.
type countingBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
