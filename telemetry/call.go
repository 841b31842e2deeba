package telemetry

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// CallInfo names an upstream call.
type CallInfo struct {
	Protocol Protocol
	Cluster  string
	// Service and Method name the RPC: the gRPC service (package-qualified) and method, or the
	// Dubbo interface and method. Empty for HTTP.
	Service, Method string
	// HTTPMethod is the request method of an HTTP call.
	HTTPMethod string
}

// CallResult is how an upstream call ended.
type CallResult struct {
	Outcome Outcome
	// GRPCStatus is the call's gRPC status as grpc-go names it ("OK", "NotFound", ...), for
	// gRPC calls.
	GRPCStatus string
	// DubboStatus is the Dubbo response status ("OK", "SERVER_TIMEOUT", ...) and DubboException
	// the class of the exception the provider threw, for Dubbo calls.
	DubboStatus, DubboException string
	// HTTPStatus is the upstream's response status, for HTTP calls that got one.
	HTTPStatus int
	// Err is the call's error, if any; its text becomes the span's status description.
	Err error
	// Flag is the Envoy response flag the call's end gives the request (UT for a route timeout
	// the upstream's status was answered for, ...), used when Response.Flags is empty.
	Flag string
}

// Call is the telemetry of one upstream call: its client span (a child of the request's span)
// and its timing. Inject its trace context into what the call sends, then End it.
type Call struct {
	info   CallInfo
	start  time.Time
	end    time.Time
	ctx    context.Context
	span   trace.Span // nil without tracing
	prop   propagation.TextMapPropagator
	result CallResult
}

// StartCall starts an upstream call of the request; ctx must be the request's context (or
// derived from it). The returned context carries the call's span. The exchange reports the
// last call it started.
// A nil exchange starts a call that is neither traced nor reported.
func (e *Exchange) StartCall(ctx context.Context, info CallInfo) (context.Context, *Call) {
	c := &Call{info: info, start: time.Now(), ctx: ctx}
	if e == nil {
		return ctx, c
	}
	if t := e.g.tracing; t != nil && e.span != nil {
		attrs := []attribute.KeyValue{attribute.String("rpcbridge.cluster", info.Cluster)}
		name := info.HTTPMethod
		switch info.Protocol {
		case ProtocolGRPC:
			name = info.Service + "/" + info.Method
			attrs = append(attrs, semconv.RPCSystemNameGRPC, semconv.RPCMethod(name))
		case ProtocolDubbo:
			name = info.Service + "/" + info.Method
			attrs = append(attrs, semconv.RPCSystemNameDubbo, semconv.RPCMethod(name))
		case ProtocolTriple:
			// The RPC system is Dubbo (semconv has no other value for it); the protocol that
			// carried the call is Triple.
			name = info.Service + "/" + info.Method
			attrs = append(attrs, semconv.RPCSystemNameDubbo, semconv.RPCMethod(name), semconv.NetworkProtocolName(string(ProtocolTriple)))
		default:
			attrs = append(attrs, attribute.String(string(semconv.HTTPRequestMethodKey), info.HTTPMethod))
		}
		c.ctx, c.span = t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(c.start),
			trace.WithAttributes(attrs...))
		c.prop = t.propagator
	}
	e.mu.Lock()
	e.call = c
	e.mu.Unlock()
	return c.ctx, c
}

// InjectHeader writes the call's trace context into HTTP headers (traceparent, tracestate,
// baggage), replacing what the client sent. Without tracing it leaves h alone.
func (c *Call) InjectHeader(h http.Header) {
	if c.span != nil {
		c.prop.Inject(c.ctx, propagation.HeaderCarrier(h))
	}
}

// InjectMetadata writes the call's trace context into gRPC metadata (lower-case keys), as
// grpc-go's OpenTelemetry instrumentation carries it.
func (c *Call) InjectMetadata(md map[string][]string) {
	if c.span != nil {
		c.prop.Inject(c.ctx, metadataCarrier(md))
	}
}

// InjectAttachments writes the call's trace context into Dubbo attachments: "traceparent",
// "tracestate" and "baggage" as string values, the W3C text map that dubbo-go's
// filter/otel/trace (metadataSupplier) and Dubbo Java's dubbo-tracing (DubboServerContext
// reads invocation.getAttachment(key); W3CTraceContextPropagator by default) extract.
// Attachment keys are case-sensitive, so the client's headers forwarded under other spellings
// ("Traceparent") are removed first: a provider must see one parent, the gateway's.
func (c *Call) InjectAttachments(att map[string]string) {
	if c.span == nil {
		return
	}
	for _, f := range c.prop.Fields() {
		for k := range att {
			if strings.EqualFold(k, f) {
				delete(att, k)
			}
		}
	}
	c.prop.Inject(c.ctx, propagation.MapCarrier(att))
}

// End records how the call ended and ends its span.
func (c *Call) End(r CallResult) {
	c.end = time.Now()
	c.result = r
	if c.span == nil {
		return
	}
	switch {
	case r.GRPCStatus != "":
		c.span.SetAttributes(semconv.RPCResponseStatusCode(upperSnake(r.GRPCStatus)))
	case r.DubboStatus != "":
		c.span.SetAttributes(semconv.RPCResponseStatusCode(r.DubboStatus))
	case r.HTTPStatus != 0:
		c.span.SetAttributes(semconv.HTTPResponseStatusCode(r.HTTPStatus))
	}
	if r.DubboException != "" {
		c.span.SetAttributes(attribute.String("rpcbridge.dubbo.exception", r.DubboException))
	}
	if r.Outcome != OutcomeOK {
		c.span.SetAttributes(attribute.String(string(semconv.ErrorTypeKey), string(r.Outcome)))
		msg := string(r.Outcome)
		if r.Err != nil {
			msg = r.Err.Error()
		}
		c.span.SetStatus(codes.Error, msg)
	}
	c.span.End(trace.WithTimestamp(c.end))
}

// serviceTime is Envoy's upstream service time: from the call's start to the response header
// when the header went out during the call (HTTP, streamed gRPC), else to the call's end.
func (c *Call) serviceTime(headerAt time.Time) time.Duration {
	end := c.end
	if end.IsZero() {
		end = time.Now() // not ended: a panic or a missing End; measure what there is
	}
	if !headerAt.IsZero() && headerAt.After(c.start) && headerAt.Before(end) {
		end = headerAt
	}
	return end.Sub(c.start)
}

// describe fills the call's fields of an access log record.
func (c *Call) describe(rec *Record) {
	switch c.info.Protocol {
	case ProtocolGRPC:
		rec.RPCSystem = "grpc"
	case ProtocolDubbo:
		rec.RPCSystem = "dubbo"
	case ProtocolTriple:
		rec.RPCSystem = "triple"
	}
	rec.RPCService, rec.RPCMethod = c.info.Service, c.info.Method
	rec.GRPCStatus = c.result.GRPCStatus
	rec.DubboStatus, rec.DubboException = c.result.DubboStatus, c.result.DubboException
}

// upperSnake turns grpc-go's code names ("DeadlineExceeded") into the gRPC spec's
// ("DEADLINE_EXCEEDED"), what rpc.response.status_code holds for gRPC.
func upperSnake(s string) string {
	var b strings.Builder
	lower := false
	for _, r := range s {
		if lower && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		lower = unicode.IsLower(r)
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// metadataCarrier is gRPC metadata as a TextMapCarrier: keys are lower case.
type metadataCarrier map[string][]string

func (m metadataCarrier) Get(key string) string {
	if v := m[strings.ToLower(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (m metadataCarrier) Set(key, value string) { m[strings.ToLower(key)] = []string{value} }

func (m metadataCarrier) Keys() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
