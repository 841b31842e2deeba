package telemetry

import (
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// IDLSchema is one current schema of the IDL store, as the IDL metrics show it.
type IDLSchema struct {
	Name, Kind string
	Version    int64
	// Bytes is the size of its uploaded files.
	Bytes int64
	// Stored is when this version was stored.
	Stored time.Time
}

// IDLState is the IDL store's state at one scrape.
type IDLState struct {
	Schemas []IDLSchema
	// QuotaBytes is the store's quota.
	QuotaBytes int64
}

var (
	idlSchemas    = desc("rpcbridge_idl_schemas")
	idlVersion    = desc("rpcbridge_idl_schema_version")
	idlBytes      = desc("rpcbridge_idl_stored_bytes")
	idlQuota      = desc("rpcbridge_idl_quota_bytes")
	idlLastChange = desc("rpcbridge_idl_last_change_timestamp_seconds")
)

// idlMetrics reads the store's state at every scrape.
type idlMetrics struct{ state func() IDLState }

// RegisterIDLMetrics registers with reg the metrics of an IDL store whose state state returns;
// it is called at every scrape and must be cheap (the store's List is).
func RegisterIDLMetrics(reg prometheus.Registerer, state func() IDLState, log *slog.Logger) {
	register(reg, idlMetrics{state: state}, log)
}

// Describe implements prometheus.Collector.
func (idlMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{idlSchemas, idlVersion, idlBytes, idlQuota, idlLastChange} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m idlMetrics) Collect(ch chan<- prometheus.Metric) {
	s := m.state()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	kinds := map[string]int{}
	var bytes int64
	var last time.Time
	for _, sc := range s.Schemas {
		kinds[sc.Kind]++
		bytes += sc.Bytes
		if sc.Stored.After(last) {
			last = sc.Stored
		}
		gauge(idlVersion, float64(sc.Version), sc.Name, sc.Kind)
	}
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		gauge(idlSchemas, float64(kinds[k]), k)
	}
	gauge(idlBytes, float64(bytes))
	gauge(idlQuota, float64(s.QuotaBytes))
	if !last.IsZero() {
		gauge(idlLastChange, float64(last.UnixNano())/1e9)
	}
}
