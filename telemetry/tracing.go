package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/rpcbridge/rpcbridge/internal/field"
)

// TracingConfig is telemetry.tracing: OpenTelemetry traces exported over OTLP. Tracing is off
// while Endpoint is empty (the default).
type TracingConfig struct {
	// Endpoint is the OTLP collector's URL: http://host:4317 for gRPC; for http/protobuf,
	// http://host:4318 (the path /v1/traces is added when the URL has none) or a full URL.
	// https:// uses TLS with the system's roots, http:// plain text.
	Endpoint string `yaml:"endpoint"`
	// Protocol is the OTLP transport: "grpc" (default) or "http/protobuf", as
	// OTEL_EXPORTER_OTLP_PROTOCOL names them.
	Protocol string `yaml:"protocol"`
	// SampleRatio is the fraction of new traces sampled, 0..1 (default 1). A request that
	// carries a W3C traceparent follows its sampled flag (parent-based sampling).
	SampleRatio *float64 `yaml:"sampleRatio"`
	// Headers are sent with every export, for example an authorization header.
	Headers map[string]string `yaml:"headers"`
	// ServiceName is the service.name resource attribute of the spans (default "rpcbridge").
	ServiceName string `yaml:"serviceName"`
}

// The OTLP protocols.
const (
	OTLPGRPC = "grpc"
	OTLPHTTP = "http/protobuf"
)

// DefaultServiceName is the service.name of rpcbridge's spans unless configured.
const DefaultServiceName = "rpcbridge"

// Enabled reports whether tracing is configured.
func (c TracingConfig) Enabled() bool { return c.Endpoint != "" }

// Validate reports every invalid key.
func (c TracingConfig) Validate() error {
	var errs []error
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		switch {
		case err != nil:
			errs = append(errs, field.Errorf("endpoint", "%v", err))
		case u.Scheme != "http" && u.Scheme != "https":
			errs = append(errs, field.Errorf("endpoint", "%q is not an http:// or https:// URL", c.Endpoint))
		case u.Host == "":
			errs = append(errs, field.Errorf("endpoint", "%q names no host", c.Endpoint))
		}
	}
	switch c.Protocol {
	case "", OTLPGRPC, OTLPHTTP:
	default:
		errs = append(errs, field.Errorf("protocol", "%q is not %s or %s", c.Protocol, OTLPGRPC, OTLPHTTP))
	}
	if r := c.SampleRatio; r != nil && (*r < 0 || *r > 1 || *r != *r) {
		errs = append(errs, field.Errorf("sampleRatio", "%v is not in 0..1", *r))
	}
	for k := range c.Headers {
		if k == "" {
			errs = append(errs, field.Errorf("headers", "a header name is empty"))
		}
	}
	return errors.Join(errs...)
}

// Tracing is a tracer provider exporting to an OTLP collector, and the W3C propagator
// (traceparent, tracestate, baggage) that carries trace context in and out of the gateway.
type Tracing struct {
	provider   *sdktrace.TracerProvider
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

// instrumentationName names rpcbridge's tracer (the instrumentation scope of its spans).
const instrumentationName = "github.com/rpcbridge/rpcbridge/telemetry"

// NewTracing starts the exporter cfg describes; it returns nil when tracing is not enabled.
// The exporter connects lazily: an unreachable collector costs dropped spans (logged to log,
// at most every exportWarnEvery), not a failure. Call Shutdown to flush the spans still queued.
func NewTracing(ctx context.Context, cfg TracingConfig, log *slog.Logger) (*Tracing, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	exporter, err := newExporter(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	ratio := 1.0
	if cfg.SampleRatio != nil {
		ratio = *cfg.SampleRatio
	}
	name := cfg.ServiceName
	if name == "" {
		name = DefaultServiceName
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(&loggingExporter{SpanExporter: exporter, log: log, endpoint: cfg.Endpoint}),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(name))),
	)
	return &Tracing{
		provider:   provider,
		tracer:     provider.Tracer(instrumentationName),
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}, nil
}

// newExporter returns the OTLP exporter of cfg's protocol.
func newExporter(ctx context.Context, cfg TracingConfig) (*otlptrace.Exporter, error) {
	if cfg.Protocol == OTLPHTTP {
		endpoint := cfg.Endpoint
		if u, err := url.Parse(endpoint); err == nil && (u.Path == "" || u.Path == "/") {
			u.Path = "/v1/traces" // the signal path OTEL_EXPORTER_OTLP_ENDPOINT implies
			endpoint = u.String()
		}
		return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint), otlptracehttp.WithHeaders(cfg.Headers))
	}
	return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(cfg.Endpoint), otlptracegrpc.WithHeaders(cfg.Headers))
}

// exportWarnEvery spaces the warnings about failed exports.
const exportWarnEvery = time.Minute

// loggingExporter reports failed exports to rpcbridge's log itself, so that they never reach
// OpenTelemetry's global error handler (which would print to stderr).
type loggingExporter struct {
	sdktrace.SpanExporter
	log      *slog.Logger
	endpoint string

	mu       sync.Mutex
	warnedAt time.Time
	dropped  int
}

// ExportSpans exports spans; a failure is logged (and the spans dropped) instead of returned.
func (e *loggingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dropped += len(spans)
	if time.Since(e.warnedAt) >= exportWarnEvery {
		e.log.Warn("tracing: cannot export spans to the collector; dropping them", "endpoint", e.endpoint,
			"dropped_spans", e.dropped, "error", err)
		e.warnedAt, e.dropped = time.Now(), 0
	}
	return nil
}

// ForceFlush exports the finished spans now.
func (t *Tracing) ForceFlush(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.provider.ForceFlush(ctx)
}

// Shutdown exports the spans still queued (bounded by ctx, and by 5 s when ctx has no
// deadline) and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}
