package controlplane

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the xDS server's Prometheus metrics.
type metrics struct {
	translateErrors prometheus.Counter
	nacks           *prometheus.CounterVec
	pushes          *prometheus.CounterVec
	streams         prometheus.Gauge
}

// newMetrics creates the metrics and registers them with reg (when not nil). A metric that is
// already registered is reused, so that two servers can share one registry.
func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	m := &metrics{
		translateErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rpcbridge_xds_translate_errors_total",
			Help: "Gateway states that could not be translated into a valid xDS snapshot.",
		}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rpcbridge_xds_nacks_total",
			Help: "xDS responses rejected (NACKed) by clients, by type URL.",
		}, []string{"type_url"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rpcbridge_xds_pushes_total",
			Help: "xDS responses sent to clients, by type URL.",
		}, []string{"type_url"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rpcbridge_xds_connected_streams",
			Help: "Open xDS streams (state-of-the-world and delta).",
		}),
	}
	if reg == nil {
		return m
	}
	m.translateErrors = register(reg, m.translateErrors, log)
	m.nacks = register(reg, m.nacks, log)
	m.pushes = register(reg, m.pushes, log)
	m.streams = register(reg, m.streams, log)
	return m
}

// register registers c, returning the already registered collector when there is one.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, log *slog.Logger) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing
		}
	}
	log.Warn("registering xDS metric failed; it will not be exported", "error", err)
	return c
}
