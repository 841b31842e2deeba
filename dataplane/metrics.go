package dataplane

import (
	"errors"
	"log/slog"
	"path"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	updates  *prometheus.CounterVec
	nacks    *prometheus.CounterVec
}

// newMetrics creates the collectors and registers them with reg (when not nil). A collector
// that is already registered is reused, so several gateways may share a registry.
func newMetrics(reg prometheus.Registerer, logger *slog.Logger) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "requests_total",
			Help: "HTTP requests handled by the embedded gateway, by route cluster and response status code.",
		}, []string{"cluster", "code"}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "xds_updates_total",
			Help: "xDS responses accepted (ACKed) by the embedded gateway, by resource type.",
		}, []string{"type"}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "xds_nacks_total",
			Help: "xDS responses rejected (NACKed) by the embedded gateway, by resource type.",
		}, []string{"type"}),
	}
	if reg == nil {
		return m
	}
	m.requests = register(reg, m.requests, logger)
	m.updates = register(reg, m.updates, logger)
	m.nacks = register(reg, m.nacks, logger)
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
