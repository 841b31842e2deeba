package telemetry

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Protocol is the protocol of an upstream call.
type Protocol string

// The upstream protocols of the gateway.
const (
	ProtocolHTTP  Protocol = "http"
	ProtocolGRPC  Protocol = "grpc"
	ProtocolDubbo Protocol = "dubbo"
	// ProtocolTriple is a Dubbo call (a Dubbo route's generic invocation, Dubbo's statuses and
	// exceptions) carried by Dubbo 3 Triple in non-IDL mode. Triple with a protobuf IDL is gRPC
	// on the wire and reported as ProtocolGRPC.
	ProtocolTriple Protocol = "triple"
)

// Outcome is how an upstream call ended, a label value of the upstream-duration histogram.
type Outcome string

// The outcomes of an upstream call.
const (
	// OutcomeOK: the upstream answered: gRPC OK, a Dubbo result, an HTTP status below 500.
	OutcomeOK Outcome = "ok"
	// OutcomeError: the upstream answered with an error: a gRPC status other than OK, a Java
	// exception or a Dubbo error status, an HTTP 5xx; or the answer could not be read.
	OutcomeError Outcome = "error"
	// OutcomeTimeout: the route timeout (or the provider's own timeout) expired.
	OutcomeTimeout Outcome = "timeout"
	// OutcomeUnavailable: no endpoint could take the call (connect failure, none healthy).
	OutcomeUnavailable Outcome = "unavailable"
	// OutcomeCancelled: the client went away first.
	OutcomeCancelled Outcome = "cancelled"
)

// gatewayMetrics are the embedded gateway's collectors.
type gatewayMetrics struct {
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	upstream     *prometheus.HistogramVec
	accessErrors prometheus.Counter
	updates      *prometheus.CounterVec
	nacks        *prometheus.CounterVec
}

func newGatewayMetrics(reg prometheus.Registerer, log *slog.Logger) *gatewayMetrics {
	return &gatewayMetrics{
		requests:     register(reg, newCounterVec("rpcbridge_gateway_requests_total"), log),
		duration:     register(reg, newHistogramVec(RequestDurationMetric), log),
		upstream:     register(reg, newHistogramVec("rpcbridge_gateway_upstream_duration_seconds"), log),
		accessErrors: register(reg, newCounter("rpcbridge_gateway_access_log_write_errors_total"), log),
		updates:      register(reg, newCounterVec("rpcbridge_gateway_xds_updates_total"), log),
		nacks:        register(reg, newCounterVec("rpcbridge_gateway_xds_nacks_total"), log),
	}
}

// observeRequest counts one answered request and records how long it took.
func (m *gatewayMetrics) observeRequest(route, cluster string, code int, took time.Duration) {
	m.requests.WithLabelValues(cluster, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route, cluster, statusClass(code)).Observe(took.Seconds())
}

// statusClass is "2xx" for 200..299 and so on.
func statusClass(code int) string {
	switch code / 100 {
	case 1:
		return "1xx"
	case 2:
		return "2xx"
	case 3:
		return "3xx"
	case 4:
		return "4xx"
	}
	return "5xx"
}

// observeXDS counts one xDS response the gateway accepted (err nil) or rejected.
func (m *gatewayMetrics) observeXDS(typeURL string, err error) {
	short := TypeLabel(typeURL)
	if err != nil {
		m.nacks.WithLabelValues(short).Inc()
		return
	}
	m.updates.WithLabelValues(short).Inc()
}
