package dataplane

import (
	"errors"
	"log/slog"
	"path"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RequestDurationMetric is the histogram of the time the gateway took to answer a request, by
// route name (RequestDurationLabels: "" when no route matched), cluster ("" when the request went
// to none) and status class ("2xx" ... "5xx"). It is what the admin console's live figures read.
const RequestDurationMetric = "rpcbridge_gateway_request_duration_seconds"

// RequestDurationLabels are the labels of RequestDurationMetric, in order.
var RequestDurationLabels = struct{ Route, Cluster, StatusClass string }{"route", "cluster", "status_class"}

// durationBuckets are the upper bounds (seconds) of RequestDurationMetric's buckets: from a
// millisecond, which an in-process hop takes, to the 30 s of a long route timeout.
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// metrics are the gateway's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	updates  *prometheus.CounterVec
	nacks    *prometheus.CounterVec

	// The upstream policies' (Envoy's outlier_detection.*, upstream_rq_retry and
	// upstream_rq_pending_overflow stats).
	ejectionsActive   *prometheus.GaugeVec
	ejections         *prometheus.CounterVec
	ejectionsOverflow *prometheus.CounterVec
	retries           *prometheus.CounterVec
	retryOverflow     *prometheus.CounterVec
	overflow          *prometheus.CounterVec
}

// newMetrics creates the collectors and registers them with reg (when not nil). A collector
// that is already registered is reused, so several gateways may share a registry.
func newMetrics(reg prometheus.Registerer, logger *slog.Logger) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "requests_total",
			Help: "HTTP requests handled by the embedded gateway, by route cluster and response status code.",
		}, []string{"cluster", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    RequestDurationMetric,
			Help:    "Time the embedded gateway took to answer an HTTP request, by route, cluster and status class.",
			Buckets: durationBuckets,
		}, []string{RequestDurationLabels.Route, RequestDurationLabels.Cluster, RequestDurationLabels.StatusClass}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "xds_updates_total",
			Help: "xDS responses accepted (ACKed) by the embedded gateway, by resource type.",
		}, []string{"type"}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "xds_nacks_total",
			Help: "xDS responses rejected (NACKed) by the embedded gateway, by resource type.",
		}, []string{"type"}),
		ejectionsActive: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "outlier_ejections_active",
			Help: "Endpoints currently ejected by outlier detection, by cluster.",
		}, []string{"cluster"}),
		ejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "outlier_ejections_total",
			Help: "Endpoints ejected by outlier detection, by cluster and detection (consecutive_5xx, consecutive_gateway_failure, consecutive_local_origin_failure).",
		}, []string{"cluster", "type"}),
		ejectionsOverflow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "outlier_ejections_overflow_total",
			Help: "Ejections outlier detection left out because max_ejection_percent was reached, by cluster.",
		}, []string{"cluster"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "upstream_retries_total",
			Help: "Requests tried again on another endpoint after they did not reach the first, by cluster and retry condition.",
		}, []string{"cluster", "condition"}),
		retryOverflow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "upstream_retry_overflow_total",
			Help: "Retries left out because the cluster's max_retries were in flight, by cluster.",
		}, []string{"cluster"}),
		overflow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "upstream_overflow_total",
			Help: "Requests refused by a circuit breaker (max_requests, max_requests_per_endpoint), by cluster and limit.",
		}, []string{"cluster", "limit"}),
	}
	if reg == nil {
		return m
	}
	m.requests = register(reg, m.requests, logger)
	m.duration = register(reg, m.duration, logger)
	m.updates = register(reg, m.updates, logger)
	m.nacks = register(reg, m.nacks, logger)
	m.ejectionsActive = register(reg, m.ejectionsActive, logger)
	m.ejections = register(reg, m.ejections, logger)
	m.ejectionsOverflow = register(reg, m.ejectionsOverflow, logger)
	m.retries = register(reg, m.retries, logger)
	m.retryOverflow = register(reg, m.retryOverflow, logger)
	m.overflow = register(reg, m.overflow, logger)
	return m
}

// register registers c, returning the collector already registered under the same name.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, logger *slog.Logger) C {
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
		return c
	case errors.As(err, &already):
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing
		}
	}
	logger.Warn("cannot register gateway metric", "error", err)
	return c
}

// observeRequest counts one answered request and records how long it took.
func (m *metrics) observeRequest(route, cluster string, code int, took time.Duration) {
	m.requests.WithLabelValues(cluster, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route, cluster, strconv.Itoa(code/100)+"xx").Observe(took.Seconds())
}

// shortType is the label of a resource type: "Listener" for
// "type.googleapis.com/envoy.config.listener.v3.Listener".
func shortType(typeURL string) string {
	short := path.Ext(typeURL)
	if len(short) > 1 {
		return short[1:]
	}
	return short
}

// observeXDS counts one xDS response.
func (m *metrics) observeXDS(typeURL string, err error) {
	short := shortType(typeURL)
	if err != nil {
		m.nacks.WithLabelValues(short).Inc()
		return
	}
	m.updates.WithLabelValues(short).Inc()
}
