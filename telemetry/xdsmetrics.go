package telemetry

import (
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// XDSMetrics are the xDS server's metrics. The zero value is not usable: call NewXDSMetrics.
// Its methods are safe for concurrent use.
type XDSMetrics struct {
	translateErrors prometheus.Counter
	nacks           *prometheus.CounterVec
	pushes          *prometheus.CounterVec
	streams         prometheus.Gauge
	latency         *prometheus.HistogramVec
	size            *prometheus.HistogramVec
	now             func() time.Time

	mu sync.Mutex
	// changed is when each type URL's resources last changed.
	changed map[string]time.Time
}

// NewXDSMetrics creates the xDS server's metrics and registers them with reg (none when reg is
// nil). Metrics already registered are reused, so that two servers can share one registry.
func NewXDSMetrics(reg prometheus.Registerer, log *slog.Logger) *XDSMetrics {
	return &XDSMetrics{
		translateErrors: register(reg, newCounter("rpcbridge_xds_translate_errors_total"), log),
		nacks:           register(reg, newCounterVec("rpcbridge_xds_nacks_total"), log),
		pushes:          register(reg, newCounterVec("rpcbridge_xds_pushes_total"), log),
		streams:         register(reg, newGauge("rpcbridge_xds_connected_streams"), log),
		latency:         register(reg, newHistogramVec("rpcbridge_xds_push_latency_seconds"), log),
		size:            register(reg, newHistogramVec("rpcbridge_xds_push_size_bytes"), log),
		now:             time.Now,
		changed:         map[string]time.Time{},
	}
}

// TranslateError counts a gateway state that could not be translated.
func (m *XDSMetrics) TranslateError() { m.translateErrors.Inc() }

// NACK counts a response a client rejected.
func (m *XDSMetrics) NACK(typeURL string) { m.nacks.WithLabelValues(typeURL).Inc() }

// StreamOpened and StreamClosed track the open streams.
func (m *XDSMetrics) StreamOpened() { m.streams.Inc() }

// StreamClosed: see StreamOpened.
func (m *XDSMetrics) StreamClosed() { m.streams.Dec() }

// Changed records that the resources of these type URLs changed now: the responses that carry
// the change are measured from this moment.
func (m *XDSMetrics) Changed(typeURLs ...string) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range typeURLs {
		m.changed[t] = now
	}
}

// Pushed records a response of typeURL, size bytes encoded, sent on a stream whose last request
// for that type arrived at requested. Its latency runs from the type's last change or from the
// request, whichever came later: a response to a client's first request is as late as the
// server was slow to answer it, not as old as the configuration.
func (m *XDSMetrics) Pushed(typeURL string, requested time.Time, size int) {
	now := m.now()
	m.mu.Lock()
	due := m.changed[typeURL]
	m.mu.Unlock()
	if requested.After(due) {
		due = requested
	}
	m.pushes.WithLabelValues(typeURL).Inc()
	m.size.WithLabelValues(typeURL).Observe(float64(size))
	if !due.IsZero() {
		m.latency.WithLabelValues(typeURL).Observe(max(now.Sub(due), 0).Seconds())
	}
}
