package dataplane

import (
	"log/slog"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpcbridge/rpcbridge/dataplane/xdsclient"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// fingerprintMask keeps the 53 bits of a fingerprint that a float64 gauge holds exactly.
const fingerprintMask = 1<<53 - 1

// xdsMetrics tell which control-plane replica the gateway follows and whether what it holds
// changed, after the xDS statistics Envoy keeps (control_plane.connected_state, and the
// "version" gauge of each subscription: a hash of what it accepted last).
type xdsMetrics struct {
	connected   *prometheus.GaugeVec
	disconnects *prometheus.CounterVec
	changed     *prometheus.CounterVec
	version     *prometheus.GaugeVec
}

// newXDSMetrics creates the collectors and registers them with reg (when not nil); servers
// start at connected 0.
func newXDSMetrics(reg prometheus.Registerer, logger *slog.Logger, servers []string) *xdsMetrics {
	m := &xdsMetrics{
		connected:   telemetry.GaugeVec(reg, "rpcbridge_gateway_xds_connected", logger),
		disconnects: telemetry.CounterVec(reg, "rpcbridge_gateway_xds_disconnects_total", logger),
		changed:     telemetry.CounterVec(reg, "rpcbridge_gateway_xds_resources_changed_total", logger),
		version:     telemetry.GaugeVec(reg, "rpcbridge_gateway_xds_version_hash", logger),
	}
	for _, s := range servers {
		m.connected.WithLabelValues(s).Set(0)
	}
	return m
}

// observeConnection records that the gateway started or stopped following a replica.
func (m *xdsMetrics) observeConnection(server string, connected bool, _ error) {
	if connected {
		m.connected.WithLabelValues(server).Set(1)
		return
	}
	m.connected.WithLabelValues(server).Set(0)
	m.disconnects.WithLabelValues(server).Inc()
}

// observeResponse counts the resources a response changed.
func (m *xdsMetrics) observeResponse(r xdsclient.Response) {
	if r.Changed > 0 {
		m.changed.WithLabelValues(telemetry.TypeLabel(r.TypeURL)).Add(float64(r.Changed))
	}
}

// observeState records the fingerprints of the state the gateway now serves.
func (m *xdsMetrics) observeState(state xdsclient.State) {
	for _, typeURL := range []string{resource.ListenerType, resource.RouteType, resource.ClusterType, resource.EndpointType} {
		m.version.WithLabelValues(telemetry.TypeLabel(typeURL)).Set(float64(state.Fingerprint(typeURL) & fingerprintMask))
	}
}
