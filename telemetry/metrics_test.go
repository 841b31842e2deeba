package telemetry

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var update = flag.Bool("update", false, "rewrite docs/metrics.md from Metrics()")

// metricsDoc is where the generated metric reference lives.
const metricsDoc = "../docs/metrics.md"

// everyCollector registers every collector of the package with a fresh registry and makes each
// report at least one series, as a running rpcbridge would.
func everyCollector(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	gw := newGatewayMetrics(reg, nil)
	gw.observeRequest("r", "c", 200, time.Millisecond)
	gw.observeXDS("type.googleapis.com/envoy.config.listener.v3.Listener", nil)
	gw.observeXDS("type.googleapis.com/envoy.config.listener.v3.Listener", errors.New("nack"))
	gw.upstream.WithLabelValues("c", "grpc", "ok").Observe(0.01)
	gw.accessErrors.Inc()
	x := NewXDSMetrics(reg, nil)
	x.TranslateError()
	x.NACK("t")
	x.StreamOpened()
	x.Changed("t")
	x.Pushed("t", time.Time{}, 100)
	r := NewRegistryMetrics(reg, nil)
	r.Observe("zk", RegistryState{Synced: true, Services: 1, HealthyEndpoints: 2})
	r.Track("zk", func() RegistryActivity { return RegistryActivity{LastSync: time.Now(), WatchRearms: 3} })
	RegisterIDLMetrics(reg, func() IDLState {
		return IDLState{QuotaBytes: 1 << 30, Schemas: []IDLSchema{{Name: "a", Kind: "proto", Version: 2, Bytes: 10, Stored: time.Now()}}}
	}, nil)
	for _, m := range Metrics() { // the collectors other packages build from the table
		if !builtElsewhere[m.Name] {
			continue
		}
		values := make([]string, len(m.Labels))
		for i := range values {
			values[i] = "x"
		}
		switch {
		case m.Kind == KindCounter && len(values) > 0:
			CounterVec(reg, m.Name, nil).WithLabelValues(values...).Inc()
		case m.Kind == KindGauge && len(values) > 0:
			GaugeVec(reg, m.Name, nil).WithLabelValues(values...).Set(1)
		case m.Kind == KindCounter:
			CounterFunc(reg, m.Name, func() float64 { return 1 }, nil)
		case m.Kind == KindGauge:
			GaugeFunc(reg, m.Name, func() float64 { return 1 }, nil)
		default:
			t.Fatalf("%s: no exported builder for a %s", m.Name, m.Kind)
		}
	}
	return reg
}

// builtElsewhere are the metrics whose collectors package dataplane builds with CounterVec,
// GaugeVec, GaugeFunc and CounterFunc (its upstream policies, xDS client and listener).
var builtElsewhere = map[string]bool{
	"rpcbridge_gateway_outlier_ejections_active": true, "rpcbridge_gateway_outlier_ejections_total": true,
	"rpcbridge_gateway_outlier_ejections_overflow_total": true, "rpcbridge_gateway_upstream_retries_total": true,
	"rpcbridge_gateway_upstream_retry_overflow_total": true, "rpcbridge_gateway_upstream_overflow_total": true,
	"rpcbridge_gateway_xds_connected": true, "rpcbridge_gateway_xds_disconnects_total": true,
	"rpcbridge_gateway_xds_resources_changed_total": true, "rpcbridge_gateway_xds_version_hash": true,
	"rpcbridge_gateway_downstream_connections": true, "rpcbridge_gateway_downstream_connections_overflow_total": true,
	"rpcbridge_gateway_accept_errors_total": true, "rpcbridge_gateway_buffered_request_bytes": true,
	"rpcbridge_store_up": true, // cmd/rpcbridge, with LabeledGaugeFunc
}

// TestEveryCollectorIsListed: what the collectors export is exactly Metrics(): every family
// with the listed type, help and labels, and no listed metric that nothing exports.
func TestEveryCollectorIsListed(t *testing.T) {
	families, err := everyCollector(t).Gather()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]Metric{}
	for _, m := range Metrics() {
		if _, dup := listed[m.Name]; dup {
			t.Errorf("%s is listed twice", m.Name)
		}
		listed[m.Name] = m
	}
	for _, f := range families {
		m, ok := listed[f.GetName()]
		if !ok {
			t.Errorf("%s is exported but not in Metrics()", f.GetName())
			continue
		}
		delete(listed, f.GetName())
		if want := dtoType(m.Kind); f.GetType() != want {
			t.Errorf("%s is a %s, listed as %s", f.GetName(), f.GetType(), m.Kind)
		}
		if f.GetHelp() != m.Help {
			t.Errorf("%s help %q, listed %q", f.GetName(), f.GetHelp(), m.Help)
		}
		for _, s := range f.GetMetric() {
			var names []string
			for _, l := range s.GetLabel() {
				names = append(names, l.GetName())
			}
			want := m.LabelNames()
			slices.Sort(want) // the registry sorts labels
			if diff := cmp.Diff(want, names, cmp.Transformer("nil", func(s []string) []string { return append([]string{}, s...) })); diff != "" {
				t.Errorf("%s labels (-listed +exported):\n%s", f.GetName(), diff)
			}
		}
	}
	for name := range listed {
		t.Errorf("%s is listed but no collector exports it", name)
	}
}

func dtoType(k Kind) dto.MetricType {
	switch k {
	case KindCounter:
		return dto.MetricType_COUNTER
	case KindGauge:
		return dto.MetricType_GAUGE
	}
	return dto.MetricType_HISTOGRAM
}

// TestRegisterReusesCollectors: two gateways, two xDS servers on one registry share their
// collectors instead of failing.
func TestRegisterReusesCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := newGatewayMetrics(reg, nil), newGatewayMetrics(reg, nil)
	if a.duration != b.duration || a.requests != b.requests {
		t.Error("the second gateway's metrics are not the first's")
	}
	if x, y := NewXDSMetrics(reg, nil), NewXDSMetrics(reg, nil); x.pushes != y.pushes {
		t.Error("the second xDS server's metrics are not the first's")
	}
}

// TestMetricsDoc: docs/metrics.md is what Metrics() generates (regenerate with -update).
func TestMetricsDoc(t *testing.T) {
	want := metricsMarkdown()
	if *update {
		if err := os.WriteFile(metricsDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("%s is stale; run go test ./telemetry -run TestMetricsDoc -update (-want +got):\n%s", metricsDoc, diff)
	}
}

// components orders and names the sections of docs/metrics.md.
var components = []struct{ key, title, intro string }{
	{"gateway", "Embedded gateway", "Reported by the embedded gateway (`dataplane`), per request and upstream call."},
	{"xds", "xDS server", "Reported by the control plane's xDS server (`controlplane`)."},
	{"registry", "Registries", "Derived by `rpcbridge serve` from each registry's published snapshots, plus what the " +
		"ZooKeeper and Consul sources report of their own work (`registries.ActivityReporter`)."},
	{"idl", "IDL store", "Read from the IDL store at every scrape."},
}

// metricsMarkdown renders docs/metrics.md.
func metricsMarkdown() string {
	var b strings.Builder
	b.WriteString(`# Metrics

<!-- Generated from telemetry.Metrics() by: go test ./telemetry -run TestMetricsDoc -update. Do not edit. -->

` + "`rpcbridge serve`" + ` exports these metrics in the Prometheus text format at ` + "`/metrics`" + ` on the admin
address, beside the Go runtime (` + "`go_*`" + `) and process (` + "`process_*`" + `) collectors. A test gathers
the metrics of a running ` + "`serve`" + ` and fails when one is missing here; ` + "`deploy/grafana/rpcbridge.json`" + `
is a dashboard over them (a test checks that each of its queries names a metric listed here).

Label values are bounded by the configuration: route, cluster, registry and schema names, xDS
type URLs, and the small enumerations below. No label carries a request path, a client address
or anything else that grows with traffic.

`)
	for _, c := range components {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", c.title, c.intro)
		b.WriteString("| metric | type | labels | meaning |\n|---|---|---|---|\n")
		for _, m := range Metrics() {
			if m.Component != c.key {
				continue
			}
			labels := "—"
			if len(m.Labels) > 0 {
				parts := make([]string, len(m.Labels))
				for i, l := range m.Labels {
					parts[i] = fmt.Sprintf("`%s`: %s", l.Name, l.Meaning)
				}
				labels = strings.Join(parts, "<br>")
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", m.Name, m.Kind, labels, m.Help)
		}
		b.WriteString("\n")
	}
	b.WriteString("Histogram buckets (upper bounds): durations " + seconds(durationBuckets) +
		" s; xDS response sizes " + bytesList(sizeBuckets) + ".\n")
	return b.String()
}

func seconds(bs []float64) string {
	parts := make([]string, len(bs))
	for i, v := range bs {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ", ")
}

func bytesList(bs []float64) string {
	parts := make([]string, len(bs))
	for i, v := range bs {
		switch {
		case v >= 1<<20:
			parts[i] = fmt.Sprintf("%g MiB", v/(1<<20))
		case v >= 1<<10:
			parts[i] = fmt.Sprintf("%g KiB", v/(1<<10))
		default:
			parts[i] = fmt.Sprintf("%g B", v)
		}
	}
	return strings.Join(parts, ", ")
}
