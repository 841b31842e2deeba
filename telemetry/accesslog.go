package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/field"
)

// AccessLogConfig is gateway.accessLog: one JSON line per request handled by the gateway.
type AccessLogConfig struct {
	// Enabled turns the access log on (default off).
	Enabled bool `yaml:"enabled"`
	// SampleRate is the fraction of requests logged, 0..1 (default 1: every request). Requests
	// answered with a 5xx status are always logged. Like Envoy's runtime_filter, the decision
	// pivots on the request's x-request-id when it has one, so a request ID is either always
	// or never logged at one rate.
	SampleRate *float64 `yaml:"sampleRate"`
	// Path is where the lines go: "stdout" (default), "stderr", or a file, opened for append
	// and created when missing.
	Path string `yaml:"path"`
}

// The access log destinations that are not files.
const (
	AccessLogStdout = "stdout"
	AccessLogStderr = "stderr"
)

// Validate reports a sample rate out of 0..1.
func (c AccessLogConfig) Validate() error {
	if c.SampleRate != nil && (*c.SampleRate < 0 || *c.SampleRate > 1 || *c.SampleRate != *c.SampleRate) {
		return field.Errorf("sampleRate", "%v is not in 0..1", *c.SampleRate)
	}
	return nil
}

// Record is one access log line. The field names are those of Istio's JSON access log, which
// are Envoy's command operators in snake case (%RESPONSE_FLAGS% is response_flags, ...); the
// RPC fields are rpcbridge's. Durations are in milliseconds, as Envoy's %DURATION%, with
// microsecond precision.
type Record struct {
	// StartTime is %START_TIME%, in UTC.
	StartTime time.Time `json:"start_time"`
	// RouteName is %ROUTE_NAME%: the matched route, "" when none matched.
	RouteName string `json:"route_name"`
	// Method, Path, Protocol and Authority are %REQ(:METHOD)%, %REQ(:PATH)% (with the query),
	// %PROTOCOL% and %REQ(:AUTHORITY)%, as the client sent them.
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	Authority string `json:"authority"`
	// UserAgent is %REQ(USER-AGENT)%.
	UserAgent string `json:"user_agent,omitempty"`
	// ResponseCode is %RESPONSE_CODE%.
	ResponseCode int `json:"response_code"`
	// ResponseFlags is %RESPONSE_FLAGS%: Envoy's short flags (NR, UH, UF, UT, DC), "-" when
	// none applies; see the Flag constants.
	ResponseFlags string `json:"response_flags"`
	// ResponseCodeDetails is %RESPONSE_CODE_DETAILS%: "via_upstream" when the upstream's answer
	// was relayed, else the status of the gateway's own error body (route_not_found, ...).
	ResponseCodeDetails string `json:"response_code_details"`
	// BytesReceived and BytesSent are %BYTES_RECEIVED% and %BYTES_SENT%: body bytes.
	BytesReceived int64 `json:"bytes_received"`
	BytesSent     int64 `json:"bytes_sent"`
	// Duration is %DURATION%: from the first byte of the request to the last of the response.
	Duration Millis `json:"duration"`
	// UpstreamServiceTime is what Envoy sends as x-envoy-upstream-service-time: from the first
	// upstream attempt to the upstream's response header (the whole call for Dubbo and unary
	// gRPC); null when no upstream call was made.
	UpstreamServiceTime *Millis `json:"upstream_service_time"`
	// UpstreamCluster is %UPSTREAM_CLUSTER%.
	UpstreamCluster string `json:"upstream_cluster,omitempty"`
	// RPCSystem ("grpc", "dubbo", "triple": a Dubbo call over Triple without IDL), RPCService
	// (gRPC service, Dubbo interface) and RPCMethod name
	// the RPC the request became, with OpenTelemetry's rpc.* meaning.
	RPCSystem  string `json:"rpc_system,omitempty"`
	RPCService string `json:"rpc_service,omitempty"`
	RPCMethod  string `json:"rpc_method,omitempty"`
	// GRPCStatus is %GRPC_STATUS% (CamelCase: "OK", "NotFound", ...), for gRPC calls.
	GRPCStatus string `json:"grpc_status,omitempty"`
	// DubboStatus is the Dubbo response status ("OK", "SERVER_TIMEOUT", ...) and DubboException
	// the class of the exception the provider threw, for Dubbo calls.
	DubboStatus    string `json:"dubbo_status,omitempty"`
	DubboException string `json:"dubbo_exception,omitempty"`
	// TraceID is the W3C trace ID of the request (the gateway's span, or the client's
	// traceparent when tracing is off); "" when there is none.
	TraceID string `json:"trace_id,omitempty"`
	// RequestID is %REQ(X-REQUEST-ID)% after the connection manager (generated or kept).
	RequestID string `json:"request_id,omitempty"`
	// DownstreamRemoteAddress is %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%: the trusted client
	// address (the peer, or the X-Forwarded-For entry the trusted hops give).
	DownstreamRemoteAddress string `json:"downstream_remote_address,omitempty"`
}

// Millis is a duration written as fractional milliseconds.
type Millis time.Duration

// MarshalJSON writes m in milliseconds with microsecond precision.
func (m Millis) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, "%.3f", float64(time.Duration(m).Microseconds())/1000), nil
}

// AccessLog writes Records as JSON lines. It is safe for concurrent use; each line is one
// write, so lines never interleave.
type AccessLog struct {
	rate float64

	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
}

// OpenAccessLog opens the access log cfg describes, writing "stdout" and "stderr" to the given
// writers. It returns nil when cfg is not enabled.
func OpenAccessLog(cfg AccessLogConfig, stdout, stderr io.Writer) (*AccessLog, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	l := &AccessLog{rate: 1}
	if cfg.SampleRate != nil {
		l.rate = *cfg.SampleRate
	}
	switch cfg.Path {
	case "", AccessLogStdout:
		l.w = stdout
	case AccessLogStderr:
		l.w = stderr
	default:
		f, err := os.OpenFile(cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("access log: %w", err)
		}
		l.w, l.closer = f, f
	}
	return l, nil
}

// Close closes the log's file, if it has one.
func (l *AccessLog) Close() error {
	if l == nil || l.closer == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closer.Close()
}

// sampled reports whether a request is logged: every 5xx, else the configured fraction, chosen
// by a hash of the request ID when there is one (Envoy's runtime_filter pivots on x-request-id
// the same way, use_independent_randomness: false), at random otherwise.
func (l *AccessLog) sampled(code int, requestID string) bool {
	switch {
	case code >= 500 || l.rate >= 1:
		return true
	case l.rate <= 0:
		return false
	case requestID == "":
		return rand.Float64() < l.rate
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(requestID))
	return float64(h.Sum64()%1_000_000) < l.rate*1_000_000
}

// errNotLogged is what write returns for a record the sampling left out.
var errNotLogged = errors.New("not sampled")

// write writes rec as one line, unless sampling leaves it out (errNotLogged).
func (l *AccessLog) write(rec *Record) error {
	if !l.sampled(rec.ResponseCode, rec.RequestID) {
		return errNotLogged
	}
	var line bytes.Buffer
	enc := json.NewEncoder(&line) // Encode ends the line with '\n'
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return fmt.Errorf("access log: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(line.Bytes()); err != nil {
		return fmt.Errorf("access log: %w", err)
	}
	return nil
}
