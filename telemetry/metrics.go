package telemetry

import (
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// Kind is the Prometheus type of a metric.
type Kind string

// The metric kinds rpcbridge uses.
const (
	KindCounter   Kind = "counter"
	KindGauge     Kind = "gauge"
	KindHistogram Kind = "histogram"
)

// Label is one label of a metric and what its values are.
type Label struct {
	Name    string
	Meaning string
}

// Metric describes one metric rpcbridge exports. Metrics lists them all; docs/metrics.md is
// generated from that list, and every collector of this package is built from its entry.
type Metric struct {
	Name   string
	Kind   Kind
	Help   string
	Labels []Label
	// Buckets are a histogram's upper bounds.
	Buckets []float64
	// Component is who reports it: "gateway", "xds", "registry" or "idl".
	Component string
}

// LabelNames are the names of m's labels, in order.
func (m Metric) LabelNames() []string {
	out := make([]string, len(m.Labels))
	for i, l := range m.Labels {
		out[i] = l.Name
	}
	return out
}

// The metric names other packages refer to.
const (
	// RequestDurationMetric is the gateway's request-duration histogram, by route ("" when no
	// route matched), cluster ("" when the request went to none) and status class ("2xx" ...
	// "5xx"). The admin console's live figures (package admin/livestats) read it.
	RequestDurationMetric = "rpcbridge_gateway_request_duration_seconds"
)

// RequestDurationLabels are the label names of RequestDurationMetric.
var RequestDurationLabels = struct{ Route, Cluster, StatusClass string }{"route", "cluster", "status_class"}

// durationBuckets are the upper bounds (seconds) of the duration histograms: from a
// millisecond, which an in-process hop takes, to the 30 s of a long route timeout.
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// sizeBuckets are the upper bounds (bytes) of the xDS response-size histogram: from one small
// resource to the tens of megabytes of every endpoint of a large fleet.
var sizeBuckets = prometheus.ExponentialBuckets(256, 4, 10) // 256 B ... 64 MiB

// Labels shared by several metrics.
var (
	labelRoute       = Label{RequestDurationLabels.Route, "route name from the route configuration; empty when no route matched"}
	labelCluster     = Label{RequestDurationLabels.Cluster, "upstream cluster (rpcbridge service ID); empty when the request reached none"}
	labelStatusClass = Label{RequestDurationLabels.StatusClass, "class of the response status: 1xx, 2xx, 3xx, 4xx, 5xx"}
	labelGatewayType = Label{"type", "xDS resource type, short: Listener, RouteConfiguration, Cluster, ClusterLoadAssignment"}
	labelTypeURL     = Label{"type_url", "xDS resource type URL"}
	labelRegistry    = Label{"registry", "registry name from the configuration"}
)

// Metrics lists every metric rpcbridge exports besides the Go runtime and process collectors.
func Metrics() []Metric {
	ms := []Metric{
		{Name: "rpcbridge_gateway_requests_total", Kind: KindCounter, Component: "gateway",
			Help:   "HTTP requests handled by the embedded gateway, by route cluster and response status code.",
			Labels: []Label{labelCluster, {"code", "HTTP response status code"}}},
		{Name: RequestDurationMetric, Kind: KindHistogram, Component: "gateway", Buckets: durationBuckets,
			Help:   "Time the embedded gateway took to answer an HTTP request, by route, cluster and status class.",
			Labels: []Label{labelRoute, labelCluster, labelStatusClass}},
		{Name: "rpcbridge_gateway_upstream_duration_seconds", Kind: KindHistogram, Component: "gateway", Buckets: durationBuckets,
			Help: "Time of the gateway's upstream calls, from the first attempt to the upstream's response header " +
				"(the whole call for Dubbo and unary gRPC), by cluster, protocol and outcome.",
			Labels: []Label{labelCluster, {"protocol", "upstream protocol: http, grpc, dubbo, triple (Dubbo calls over Dubbo 3 Triple without IDL)"},
				{"outcome", "ok; error (gRPC status other than OK, Dubbo exception or error status, HTTP 5xx); " +
					"timeout; unavailable (no endpoint could be connected to); cancelled (the client went away)"}}},
		{Name: "rpcbridge_gateway_access_log_write_errors_total", Kind: KindCounter, Component: "gateway",
			Help: "Access log lines the gateway could not write."},
		{Name: "rpcbridge_gateway_xds_updates_total", Kind: KindCounter, Component: "gateway",
			Help:   "xDS responses accepted (ACKed) by the embedded gateway, by resource type.",
			Labels: []Label{labelGatewayType}},
		{Name: "rpcbridge_gateway_xds_nacks_total", Kind: KindCounter, Component: "gateway",
			Help:   "xDS responses rejected (NACKed) by the embedded gateway, by resource type.",
			Labels: []Label{labelGatewayType}},

		{Name: "rpcbridge_xds_translate_errors_total", Kind: KindCounter, Component: "xds",
			Help: "Gateway states that could not be translated into a valid xDS snapshot."},
		{Name: "rpcbridge_xds_nacks_total", Kind: KindCounter, Component: "xds",
			Help: "xDS responses rejected (NACKed) by clients, by type URL.", Labels: []Label{labelTypeURL}},
		{Name: "rpcbridge_xds_pushes_total", Kind: KindCounter, Component: "xds",
			Help: "xDS responses sent to clients, by type URL.", Labels: []Label{labelTypeURL}},
		{Name: "rpcbridge_xds_connected_streams", Kind: KindGauge, Component: "xds",
			Help: "Open xDS streams (state-of-the-world and delta)."},
		{Name: "rpcbridge_xds_push_latency_seconds", Kind: KindHistogram, Component: "xds", Buckets: durationBuckets,
			Help: "Time from a configuration change of a resource type (or from the client's request, when that came later) " +
				"until a response of that type was sent on a stream, by type URL. Includes the backoff after NACKs.",
			Labels: []Label{labelTypeURL}},
		{Name: "rpcbridge_xds_push_size_bytes", Kind: KindHistogram, Component: "xds", Buckets: sizeBuckets,
			Help: "Encoded size of the xDS responses sent, by type URL.", Labels: []Label{labelTypeURL}},

		{Name: "rpcbridge_registry_connected", Kind: KindGauge, Component: "registry",
			Help:   "1 while the registry has completed its first listing and its last snapshot is not stale, else 0.",
			Labels: []Label{labelRegistry}},
		{Name: "rpcbridge_registry_synced", Kind: KindGauge, Component: "registry",
			Help: "1 once the registry has completed its first full listing, else 0.", Labels: []Label{labelRegistry}},
		{Name: "rpcbridge_registry_last_sync_timestamp_seconds", Kind: KindGauge, Component: "registry",
			Help: "Unix time of the registry's last successful read: the end of the last ZooKeeper pass or Consul answer, " +
				"for other registries the last snapshot published while connected. Absent before the first.",
			Labels: []Label{labelRegistry}},
		{Name: "rpcbridge_registry_services", Kind: KindGauge, Component: "registry",
			Help: "Services in the registry's last snapshot.", Labels: []Label{labelRegistry}},
		{Name: "rpcbridge_registry_endpoints", Kind: KindGauge, Component: "registry",
			Help:   "Endpoints in the registry's last snapshot, by health.",
			Labels: []Label{labelRegistry, {"health", "healthy or unhealthy, as the registry reports it"}}},
		{Name: "rpcbridge_registry_diagnostics", Kind: KindGauge, Component: "registry",
			Help: "Diagnostics (skipped or repaired entries) in the registry's last snapshot.", Labels: []Label{labelRegistry}},
		{Name: "rpcbridge_registry_watch_rearms_total", Kind: KindCounter, Component: "registry",
			Help: "Watches the registry source set again after its first complete listing: ZooKeeper watches re-armed " +
				"(after they fired, after a new session, on new nodes), Consul blocking queries re-issued. " +
				"Reported by the ZooKeeper and Consul sources; starts again at 0 when a reload restarts the source.",
			Labels: []Label{labelRegistry}},

		{Name: "rpcbridge_idl_schemas", Kind: KindGauge, Component: "idl",
			Help: "Schemas in the IDL store, by kind.", Labels: []Label{{"kind", "upload kind: proto, descriptor-set, java-source, ..."}}},
		{Name: "rpcbridge_idl_schema_version", Kind: KindGauge, Component: "idl",
			Help:   "Current version of each stored schema (bounded by the store: one series per uploaded name).",
			Labels: []Label{{"schema", "schema name in the IDL store"}, {"kind", "upload kind"}}},
		{Name: "rpcbridge_idl_stored_bytes", Kind: KindGauge, Component: "idl",
			Help: "Bytes of the uploaded files of every current version, what counts against the store's quota."},
		{Name: "rpcbridge_idl_quota_bytes", Kind: KindGauge, Component: "idl",
			Help: "The IDL store's quota (admin.uploads.storeQuotaBytes)."},
		{Name: "rpcbridge_idl_last_change_timestamp_seconds", Kind: KindGauge, Component: "idl",
			Help: "Unix time the newest current version was stored (upload or rollback). Absent while the store is empty."},
		{Name: "rpcbridge_store_up", Kind: KindGauge, Component: "idl",
			Help:   "1 while the store of uploaded IDL and rules (store.type) answers, 0 while it is down and the last good state is served.",
			Labels: []Label{{"type", "store type: local, zookeeper, consul or nacos"}}},

		// The gateway's upstream policies (Envoy's outlier_detection.*, upstream_rq_retry* and
		// upstream_rq_pending_overflow statistics).
		{Name: "rpcbridge_gateway_outlier_ejections_active", Kind: KindGauge, Component: "gateway",
			Help: "Endpoints currently ejected by outlier detection, by cluster.", Labels: []Label{labelCluster}},
		{Name: "rpcbridge_gateway_outlier_ejections_total", Kind: KindCounter, Component: "gateway",
			Help:   "Endpoints ejected by outlier detection, by cluster and detection.",
			Labels: []Label{labelCluster, {"type", "consecutive_5xx, consecutive_gateway_failure or consecutive_local_origin_failure"}}},
		{Name: "rpcbridge_gateway_outlier_ejections_overflow_total", Kind: KindCounter, Component: "gateway",
			Help: "Ejections outlier detection left out because max_ejection_percent was reached, by cluster.", Labels: []Label{labelCluster}},
		{Name: "rpcbridge_gateway_upstream_retries_total", Kind: KindCounter, Component: "gateway",
			Help:   "Requests tried again on another endpoint under the route's retry policy, by cluster and retry condition.",
			Labels: []Label{labelCluster, {"condition", "the retry_on condition that applied: connect-failure, refused-stream, reset-before-request, reset, 5xx, gateway-error, retriable-4xx, retriable-status-codes, envoy-ratelimited, or a gRPC one (cancelled, deadline-exceeded, internal, resource-exhausted, unavailable)"}}},
		{Name: "rpcbridge_gateway_upstream_retry_overflow_total", Kind: KindCounter, Component: "gateway",
			Help: "Retries left out because the cluster's max_retries, or its retry budget, were in flight, by cluster.", Labels: []Label{labelCluster}},
		{Name: "rpcbridge_gateway_upstream_overflow_total", Kind: KindCounter, Component: "gateway",
			Help:   "Requests refused by a circuit breaker, by cluster and limit.",
			Labels: []Label{labelCluster, {"limit", "max_requests (the cluster's), max_pending_requests (the cluster's connections busy and its pending queue full) or max_requests_per_endpoint (every endpoint at its cap)"}}},

		// The gateway's xDS client (Envoy's control_plane.connected_state and the version gauge
		// of its subscriptions).
		{Name: "rpcbridge_gateway_xds_connected", Kind: KindGauge, Component: "gateway",
			Help:   "1 for the control-plane replica whose xDS stream the gateway follows (it has answered), 0 for the others.",
			Labels: []Label{{"server", "control-plane replica address, as given to --xds"}}},
		{Name: "rpcbridge_gateway_xds_disconnects_total", Kind: KindCounter, Component: "gateway",
			Help: "xDS streams that ended after the replica had answered, by replica.", Labels: []Label{{"server", "control-plane replica address"}}},
		{Name: "rpcbridge_gateway_xds_resources_changed_total", Kind: KindCounter, Component: "gateway",
			Help: "Resources added, replaced by another version or removed by accepted xDS responses, by resource type.", Labels: []Label{labelGatewayType}},
		{Name: "rpcbridge_gateway_xds_version_hash", Kind: KindGauge, Component: "gateway",
			Help:   "Hash (53 bits) of the names and versions of the resources in use, by resource type: equal on gateways that hold the same configuration.",
			Labels: []Label{labelGatewayType}},

		// The gateway's listener (Envoy's downstream_cx_active, downstream_global_cx_overflow and
		// the overload manager's buffer accounting).
		{Name: "rpcbridge_gateway_downstream_connections", Kind: KindGauge, Component: "gateway",
			Help: "Client connections open on the embedded gateway's listener."},
		{Name: "rpcbridge_gateway_downstream_connections_overflow_total", Kind: KindCounter, Component: "gateway",
			Help: "Client connections closed at once because the gateway's connection limit was reached (Envoy's downstream_global_cx_overflow)."},
		{Name: "rpcbridge_gateway_accept_errors_total", Kind: KindCounter, Component: "gateway",
			Help: "Temporary accept errors (EMFILE, ENFILE, ...) on the gateway's listener, each waited out with a back-off."},
		{Name: "rpcbridge_gateway_buffered_request_bytes", Kind: KindGauge, Component: "gateway",
			Help: "Bytes of request bodies the gateway's transcoders hold now, against the buffer budget."},
	}
	for i := range ms {
		ms[i].Labels = slices.Clone(ms[i].Labels)
		ms[i].Buckets = slices.Clone(ms[i].Buckets)
	}
	return ms
}

// metric returns the entry of Metrics named name; it panics for a name that has none, which
// only a programming error in this package can cause (TestEveryCollectorIsListed runs them all).
func metric(name string) Metric {
	for _, m := range Metrics() {
		if m.Name == name {
			return m
		}
	}
	panic("telemetry: no metric " + name)
}

// desc is the descriptor of a metric emitted by a custom collector.
func desc(name string) *prometheus.Desc {
	m := metric(name)
	return prometheus.NewDesc(m.Name, m.Help, m.LabelNames(), nil)
}

func newCounterVec(name string) *prometheus.CounterVec {
	m := metric(name)
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: m.Name, Help: m.Help}, m.LabelNames())
}

func newCounter(name string) prometheus.Counter {
	m := metric(name)
	return prometheus.NewCounter(prometheus.CounterOpts{Name: m.Name, Help: m.Help})
}

func newGauge(name string) prometheus.Gauge {
	m := metric(name)
	return prometheus.NewGauge(prometheus.GaugeOpts{Name: m.Name, Help: m.Help})
}

func newHistogramVec(name string) *prometheus.HistogramVec {
	m := metric(name)
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: m.Name, Help: m.Help, Buckets: m.Buckets}, m.LabelNames())
}

// register registers c with reg (nothing when reg is nil) and returns the collector to use: c,
// or the equal collector already registered under the same name, so that two gateways or two
// xDS servers may share one registry. A collector that cannot be registered is logged and used
// unregistered.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, log *slog.Logger) C {
	if reg == nil {
		return c
	}
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
	if log != nil {
		log.Warn("cannot register a metric; it will not be exported", "error", err)
	}
	return c
}

// CounterVec, GaugeVec, GaugeFunc and CounterFunc give other packages the collector of the
// metric named name, built from its entry in Metrics and registered with reg as register does:
// the one way a package gets a collector, so that every metric rpcbridge exports is listed (and
// documented in docs/metrics.md). A name without an entry panics, which a test run shows.
func CounterVec(reg prometheus.Registerer, name string, log *slog.Logger) *prometheus.CounterVec {
	return register(reg, newCounterVec(name), log)
}

// GaugeVec: see CounterVec.
func GaugeVec(reg prometheus.Registerer, name string, log *slog.Logger) *prometheus.GaugeVec {
	m := metric(name)
	return register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: m.Name, Help: m.Help}, m.LabelNames()), log)
}

// GaugeFunc: see CounterVec; value is read at every scrape.
func GaugeFunc(reg prometheus.Registerer, name string, value func() float64, log *slog.Logger) {
	m := metric(name)
	register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: m.Name, Help: m.Help}, value), log)
}

// LabeledGaugeFunc: see CounterVec; one series with the given values of the metric's labels
// (in the order of its entry), read at every scrape.
func LabeledGaugeFunc(reg prometheus.Registerer, name string, labelValues []string, value func() float64, log *slog.Logger) {
	m := metric(name)
	names := m.LabelNames()
	if len(names) != len(labelValues) {
		panic(fmt.Sprintf("%s has labels %v, got values %v", name, names, labelValues))
	}
	labels := prometheus.Labels{}
	for i, n := range names {
		labels[n] = labelValues[i]
	}
	register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: m.Name, Help: m.Help, ConstLabels: labels}, value), log)
}

// CounterFunc: see CounterVec; value is read at every scrape.
func CounterFunc(reg prometheus.Registerer, name string, value func() float64, log *slog.Logger) {
	m := metric(name)
	register(reg, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: m.Name, Help: m.Help}, value), log)
}

// TypeLabel is the label value of an xDS resource type: "Listener" for
// "type.googleapis.com/envoy.config.listener.v3.Listener".
func TypeLabel(typeURL string) string {
	short := path.Ext(typeURL)
	if len(short) > 1 {
		return short[1:]
	}
	return short
}
