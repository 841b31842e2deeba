package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/otlpreceiver"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// metricsDoc is the metric reference generated from telemetry.Metrics().
const metricsDoc = "../../docs/metrics.md"

// scrape reads the admin address's /metrics.
func scrape(t *testing.T, srv *running) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + srv.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	return families
}

// series returns the value of the series of family name whose labels include want (gauges and
// counters), and whether there is one; for histograms, the sample count.
func series(families map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := families[name]
	if !ok {
		return 0, false
	}
	found, sum := false, 0.0
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		found = true
		switch {
		case m.GetHistogram() != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		default:
			sum += m.GetGauge().GetValue()
		}
	}
	return sum, found
}

// TestServeTelemetry runs the quickstart's `rpcbridge serve` with an access log file and OTLP
// tracing to a real receiver, sends an HTTP, a gRPC and a Dubbo request, and checks all three
// signals: every rpcbridge metric the running process exports is listed in docs/metrics.md
// (and in telemetry.Metrics(), from which that file is generated) with its labels, the
// gateway, upstream, xDS, registry and IDL metrics have their series, the access log has a line
// per request, and the spans reached the receiver.
func TestServeTelemetry(t *testing.T) {
	rcv := otlpreceiver.Start(t)
	accessFile := filepath.Join(t.TempDir(), "access.log")
	srv := quickstartWith(t, fmt.Sprintf(", accessLog: {enabled: true, path: %q}", accessFile),
		fmt.Sprintf("telemetry:\n  tracing: {endpoint: %q, serviceName: rpcbridge-test}\n", rcv.GRPCEndpoint()))

	traces := map[string]string{} // path -> trace ID
	for i, c := range []struct{ method, path, body string }{
		{"GET", "/hello/telemetry", ""}, {"GET", "/greetings/Ada?times=2", ""}, {"POST", "/grpc.testing.TestService/UnaryCall", "{}"},
	} {
		trace := fmt.Sprintf("%030x%02x", 0xabc, i)
		req, _ := http.NewRequest(c.method, "http://"+srv.gateway+c.path, strings.NewReader(c.body))
		req.Header.Set("Traceparent", "00-"+trace+"-00f067aa0ba902b7-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d", c.method, c.path, resp.StatusCode)
		}
		traces[c.path] = trace
	}

	doc, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]telemetry.Metric{}
	for _, m := range telemetry.Metrics() {
		listed[m.Name] = m
	}
	families := scrape(t, srv)
	for name, f := range families {
		if !strings.HasPrefix(name, "rpcbridge_") {
			continue
		}
		m, ok := listed[name]
		if !ok || !strings.Contains(string(doc), "| `"+name+"` |") {
			t.Errorf("the running serve exports %s, which docs/metrics.md (telemetry.Metrics()) does not list", name)
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if !slices.Contains(m.LabelNames(), l.GetName()) {
					t.Errorf("%s has the label %q, which docs/metrics.md does not list", name, l.GetName())
				}
			}
		}
	}
	for _, want := range []struct {
		name   string
		labels map[string]string
	}{
		{telemetry.RequestDurationMetric, map[string]string{"status_class": "2xx"}},
		{"rpcbridge_gateway_upstream_duration_seconds", map[string]string{"protocol": "http", "outcome": "ok"}},
		{"rpcbridge_gateway_upstream_duration_seconds", map[string]string{"protocol": "grpc", "outcome": "ok"}},
		{"rpcbridge_gateway_upstream_duration_seconds", map[string]string{"protocol": "dubbo", "outcome": "ok"}},
		{"rpcbridge_gateway_xds_updates_total", nil},
		{"rpcbridge_xds_pushes_total", nil},
		{"rpcbridge_xds_push_latency_seconds", nil},
		{"rpcbridge_xds_push_size_bytes", nil},
		{"rpcbridge_xds_connected_streams", nil},
		{"rpcbridge_registry_connected", map[string]string{"registry": "local"}},
		{"rpcbridge_registry_synced", map[string]string{"registry": "local"}},
		{"rpcbridge_registry_services", map[string]string{"registry": "local"}},
		{"rpcbridge_registry_endpoints", map[string]string{"registry": "local", "health": "healthy"}},
		{"rpcbridge_registry_last_sync_timestamp_seconds", map[string]string{"registry": "local"}},
		{"rpcbridge_idl_schemas", map[string]string{"kind": "descriptor-set"}},
		{"rpcbridge_idl_schema_version", map[string]string{"schema": "grpc-testing"}},
		{"rpcbridge_idl_stored_bytes", nil},
		{"rpcbridge_idl_last_change_timestamp_seconds", nil},
	} {
		if v, ok := series(families, want.name, want.labels); !ok || v <= 0 {
			t.Errorf("%s%v = %v (present %v), want a positive value", want.name, want.labels, v, ok)
		}
	}
	if v, _ := series(families, "rpcbridge_registry_endpoints", map[string]string{"registry": "local", "health": "healthy"}); v != 4 {
		t.Errorf("local registry endpoints = %v, want the quickstart's 4", v)
	}

	raw, err := os.ReadFile(accessFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("access log line %q: %v", line, err)
		}
		if id, _ := m["trace_id"].(string); id != "" {
			lines[id] = m
		}
	}
	for path, want := range map[string]map[string]any{
		"/hello/telemetry":                    {"upstream_cluster": "http:hello", "response_code_details": "via_upstream"},
		"/greetings/Ada?times=2":              {"rpc_system": "dubbo", "rpc_method": "sayHello", "dubbo_status": "OK"},
		"/grpc.testing.TestService/UnaryCall": {"rpc_system": "grpc", "rpc_service": "grpc.testing.TestService", "grpc_status": "OK"},
	} {
		line := lines[traces[path]]
		if line == nil {
			t.Errorf("no access log line of %s (trace %s) in:\n%s", path, traces[path], raw)
			continue
		}
		want["path"], want["response_code"] = path, 200.0
		for k, v := range want {
			if line[k] != v {
				t.Errorf("%s: access log %s = %#v, want %#v", path, k, line[k], v)
			}
		}
	}

	rcv.Wait(t, "the spans of the three requests", giveUp, func(spans []otlpreceiver.Span) error {
		kinds := map[string]map[string]bool{}
		for _, s := range spans {
			if kinds[s.TraceID] == nil {
				kinds[s.TraceID] = map[string]bool{}
			}
			if s.Service == "rpcbridge-test" {
				kinds[s.TraceID][s.Kind] = true
			}
		}
		for path, trace := range traces {
			if !kinds[trace]["server"] || !kinds[trace]["client"] {
				return fmt.Errorf("%s (trace %s): spans %v", path, trace, kinds[trace])
			}
		}
		return nil
	})
}
