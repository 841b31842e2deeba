package telemetry

import (
	"errors"
	"log/slog"
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
			Labels: []Label{labelCluster, {"protocol", "upstream protocol: http, grpc, dubbo"},
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
