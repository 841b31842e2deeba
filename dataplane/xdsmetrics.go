package dataplane

import (
	"log/slog"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpcbridge/rpcbridge/dataplane/xdsclient"
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
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "xds_connected",
			Help: "1 for the control-plane replica whose xDS stream the gateway follows (it has answered), 0 for the others.",
		}, []string{"server"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "xds_disconnects_total",
			Help: "xDS streams that ended after the replica had answered, by replica.",
		}, []string{"server"}),
		changed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "xds_resources_changed_total",
			Help: "Resources added, replaced by another version or removed by accepted xDS responses, by resource type.",
		}, []string{"type"}),
		version: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "rpcbridge", Subsystem: "gateway", Name: "xds_version_hash",
			Help: "Hash (53 bits) of the names and versions of the resources in use, by resource type: equal on gateways that hold the same configuration.",
		}, []string{"type"}),
	}
	if reg != nil {
		m.connected = register(reg, m.connected, logger)
		m.disconnects = register(reg, m.disconnects, logger)
		m.changed = register(reg, m.changed, logger)
		m.version = register(reg, m.version, logger)
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
		m.changed.WithLabelValues(shortType(r.TypeURL)).Add(float64(r.Changed))
	}
}

// observeState records the fingerprints of the state the gateway now serves.
func (m *xdsMetrics) observeState(state xdsclient.State) {
	for _, typeURL := range []string{resource.ListenerType, resource.RouteType, resource.ClusterType, resource.EndpointType} {
		m.version.WithLabelValues(shortType(typeURL)).Set(float64(state.Fingerprint(typeURL) & fingerprintMask))
	}
}
