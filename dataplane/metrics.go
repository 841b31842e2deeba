package dataplane

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpcbridge/rpcbridge/telemetry"
)

// metrics are the collectors of the gateway's upstream policies (Envoy's outlier_detection.*,
// upstream_rq_retry and upstream_rq_pending_overflow stats); the per-request ones are package
// telemetry's. Every name is an entry of telemetry.Metrics.
type metrics struct {
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
	return &metrics{
		ejectionsActive:   telemetry.GaugeVec(reg, "rpcbridge_gateway_outlier_ejections_active", logger),
		ejections:         telemetry.CounterVec(reg, "rpcbridge_gateway_outlier_ejections_total", logger),
		ejectionsOverflow: telemetry.CounterVec(reg, "rpcbridge_gateway_outlier_ejections_overflow_total", logger),
		retries:           telemetry.CounterVec(reg, "rpcbridge_gateway_upstream_retries_total", logger),
		retryOverflow:     telemetry.CounterVec(reg, "rpcbridge_gateway_upstream_retry_overflow_total", logger),
		overflow:          telemetry.CounterVec(reg, "rpcbridge_gateway_upstream_overflow_total", logger),
	}
}
