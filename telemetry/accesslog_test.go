package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// syncBuffer is a buffer that several goroutines write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines decodes the JSON lines written so far.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(s.b.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("access log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func rate(r float64) *float64 { return &r }

// serveOne runs one request through a gateway's telemetry the way the dataplane does.
func serveOne(g *Gateway, req *http.Request, resp Response, call *CallInfo, result CallResult) {
	ex, req := g.Begin(req)
	if req.Body != nil {
		var b bytes.Buffer
		_, _ = b.ReadFrom(req.Body)
	}
	if call != nil {
		_, c := ex.StartCall(req.Context(), *call)
		c.End(result)
	}
	ex.Finish(resp)
}

// TestAccessLogRecord: one line per request with Envoy's field names, the RPC target, the
// statuses, byte counts and the client's trace ID (tracing is off here).
func TestAccessLogRecord(t *testing.T) {
	var out syncBuffer
	log, err := OpenAccessLog(AccessLogConfig{Enabled: true}, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := NewGateway(GatewayOptions{AccessLog: log})
	req := httptest.NewRequest("POST", "http://api.example/greet/Ada?times=2", strings.NewReader(`{"x":"<&>"}`))
	req.Header.Set("User-Agent", "curl/8")
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	serveOne(g, req, Response{Route: "greet", Cluster: "dubbo:Greeter::", Status: 500, BytesSent: 42, RequestID: "rid-1", ClientAddress: "203.0.113.7"},
		&CallInfo{Protocol: ProtocolDubbo, Cluster: "dubbo:Greeter::", Service: "org.example.Greeter", Method: "greet"},
		CallResult{Outcome: OutcomeError, DubboStatus: "OK", DubboException: "java.lang.IllegalStateException"})
	lines := out.lines(t)
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1", len(lines))
	}
	got := lines[0]
	want := map[string]any{
		"route_name": "greet", "method": "POST", "path": "/greet/Ada?times=2", "protocol": "HTTP/1.1", "authority": "api.example",
		"user_agent": "curl/8", "response_code": 500.0, "response_flags": "-", "response_code_details": "via_upstream",
		"bytes_received": 11.0, "bytes_sent": 42.0, "upstream_cluster": "dubbo:Greeter::", "rpc_system": "dubbo",
		"rpc_service": "org.example.Greeter", "rpc_method": "greet", "dubbo_status": "OK",
		"dubbo_exception": "java.lang.IllegalStateException", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
		"request_id": "rid-1", "downstream_remote_address": "203.0.113.7",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v (line %v)", k, got[k], v, got)
		}
	}
	for _, k := range []string{"duration", "upstream_service_time"} {
		if d, ok := got[k].(float64); !ok || d < 0 {
			t.Errorf("%s = %#v, want milliseconds", k, got[k])
		}
	}
	if start, err := time.Parse(time.RFC3339Nano, fmt.Sprint(got["start_time"])); err != nil || start.Location() != time.UTC {
		t.Errorf("start_time %v: want RFC 3339 in UTC (%v)", got["start_time"], err)
	}
}

// TestAccessLogWithoutUpstream: a request the gateway answered itself has its status as
// details, its flag, and a null upstream_service_time.
func TestAccessLogWithoutUpstream(t *testing.T) {
	var out syncBuffer
	log, _ := OpenAccessLog(AccessLogConfig{Enabled: true}, &out, nil)
	g := NewGateway(GatewayOptions{AccessLog: log})
	serveOne(g, httptest.NewRequest("GET", "/nowhere", nil), Response{Status: 404, Details: "route_not_found", Flags: "NR"}, nil, CallResult{})
	line := out.lines(t)[0]
	if line["response_flags"] != "NR" || line["response_code_details"] != "route_not_found" || line["upstream_service_time"] != nil {
		t.Errorf("line %v: want NR, route_not_found, upstream_service_time null", line)
	}
	if _, ok := line["rpc_system"]; ok {
		t.Errorf("line %v names an RPC system for a request that made no call", line)
	}
}

// TestAccessLogSampling: at rate 0 only 5xx are logged; at 0.5 about half, the same request
// IDs every time.
func TestAccessLogSampling(t *testing.T) {
	var none syncBuffer
	log, _ := OpenAccessLog(AccessLogConfig{Enabled: true, SampleRate: rate(0)}, &none, nil)
	g := NewGateway(GatewayOptions{AccessLog: log})
	for _, code := range []int{200, 404, 503, 200, 500} {
		serveOne(g, httptest.NewRequest("GET", "/", nil), Response{Status: code, RequestID: fmt.Sprint(code)}, nil, CallResult{})
	}
	var codes []float64
	for _, l := range none.lines(t) {
		codes = append(codes, l["response_code"].(float64))
	}
	if fmt.Sprint(codes) != "[503 500]" {
		t.Errorf("rate 0 logged %v, want only the 5xx [503 500]", codes)
	}

	half := func() []string {
		var out syncBuffer
		log, _ := OpenAccessLog(AccessLogConfig{Enabled: true, SampleRate: rate(0.5)}, &out, nil)
		g := NewGateway(GatewayOptions{AccessLog: log})
		for i := range 1000 {
			serveOne(g, httptest.NewRequest("GET", "/", nil), Response{Status: 200, RequestID: fmt.Sprintf("id-%d", i)}, nil, CallResult{})
		}
		var ids []string
		for _, l := range out.lines(t) {
			ids = append(ids, l["request_id"].(string))
		}
		return ids
	}
	first, second := half(), half()
	if len(first) < 400 || len(first) > 600 {
		t.Errorf("rate 0.5 logged %d of 1000 requests", len(first))
	}
	if strings.Join(first, ",") != strings.Join(second, ",") {
		t.Error("rate 0.5 logged other request IDs the second time")
	}
}

// TestAccessLogDestinations: stdout, stderr and a file (appended to).
func TestAccessLogDestinations(t *testing.T) {
	var stdout, stderr syncBuffer
	for path, buf := range map[string]*syncBuffer{"": &stdout, "stderr": &stderr} {
		log, err := OpenAccessLog(AccessLogConfig{Enabled: true, Path: path}, &stdout, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		serveOne(NewGateway(GatewayOptions{AccessLog: log}), httptest.NewRequest("GET", "/"+path, nil), Response{Status: 200}, nil, CallResult{})
		if lines := buf.lines(t); len(lines) != 1 || lines[0]["path"] != "/"+path {
			t.Errorf("path %q: wrote %v", path, lines)
		}
	}
	file := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(file, []byte("{\"earlier\":true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := OpenAccessLog(AccessLogConfig{Enabled: true, Path: file}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	serveOne(NewGateway(GatewayOptions{AccessLog: log}), httptest.NewRequest("GET", "/f", nil), Response{Status: 200}, nil, CallResult{})
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(file)
	if lines := strings.Split(strings.TrimSpace(string(raw)), "\n"); len(lines) != 2 || !strings.Contains(lines[1], `"path":"/f"`) {
		t.Errorf("file holds %q, want the earlier line and one more", raw)
	}
	if _, err := OpenAccessLog(AccessLogConfig{Enabled: true, Path: filepath.Join(t.TempDir(), "missing", "x.log")}, nil, nil); err == nil {
		t.Error("an access log in a missing directory opened")
	}
	if l, err := OpenAccessLog(AccessLogConfig{Path: file}, nil, nil); l != nil || err != nil {
		t.Errorf("a disabled access log opened: %v %v", l, err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestAccessLogWriteErrorsAreCounted: a line that cannot be written is counted, not fatal.
func TestAccessLogWriteErrorsAreCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	log, _ := OpenAccessLog(AccessLogConfig{Enabled: true}, failingWriter{}, nil)
	g := NewGateway(GatewayOptions{AccessLog: log, Registerer: reg})
	for range 3 {
		serveOne(g, httptest.NewRequest("GET", "/", nil), Response{Status: 200}, nil, CallResult{})
	}
	if n := testutil.ToFloat64(g.metrics.accessErrors); n != 3 {
		t.Errorf("counted %v write errors, want 3", n)
	}
}
