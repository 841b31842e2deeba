package dataplane_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/bookstore"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/otlpreceiver"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// clientSpan is the span ID of the caller in the traceparent the tests send.
const clientSpan = "00f067aa0ba902b7"

// telemetryStack is the forwarding stack (real HTTP server, grpc-go bookstore, dubbo-go
// provider) with its gateway tracing to a real OTLP receiver and writing an access log, plus
// two Dubbo routes that end badly: a method that throws and one slower than its timeout.
type telemetryStack struct {
	*forwardingStack
	receiver *otlpreceiver.Receiver
	tracing  *telemetry.Tracing
	access   *syncBuffer
	reg      *prometheus.Registry
}

func startTelemetryStack(t *testing.T) *telemetryStack {
	t.Helper()
	ts := &telemetryStack{receiver: otlpreceiver.Start(t), access: &syncBuffer{}, reg: prometheus.NewRegistry()}
	var err error
	ts.tracing, err = telemetry.NewTracing(context.Background(), telemetry.TracingConfig{Endpoint: ts.receiver.GRPCEndpoint()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ts.tracing.Shutdown(context.Background()) })
	log, err := telemetry.OpenAccessLog(telemetry.AccessLogConfig{Enabled: true}, ts.access, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts.forwardingStack = startForwardingStack(t, func(o *dataplane.Options) {
		o.Tracing, o.AccessLog, o.Registerer = ts.tracing, log, ts.reg
	})
	slow := greeterRoute("slow", "GET", "/slow", greeterCluster, ir.DubboParam{Name: "millis", Type: "int", From: ir.FromQuery, Key: "ms"})
	slow.Dubbo.Timeout = 300 * time.Millisecond
	ts.base.Routes = append(ts.base.Routes, slow,
		greeterRoute("fail", "POST", "/fail", greeterCluster, ir.DubboParam{Name: "message", Type: "java.lang.String", From: ir.FromBody, Key: "message"}))
	ts.apply(t, nil)
	eventually(t, "the Dubbo routes", func() error {
		// A route of this update: the base's routes answer before it arrives.
		if resp, body := ts.get(t, "/slow?ms=0", nil); resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%d %s", resp.StatusCode, body)
		}
		return nil
	})
	return ts
}

// traceFor is a W3C traceparent naming a new trace whose caller is clientSpan.
func traceFor(i int) (trace, traceparent string) {
	trace = fmt.Sprintf("%024x%08x", time.Now().UnixNano(), i)
	return trace, "00-" + trace + "-" + clientSpan + "-01"
}

// spansOf waits until the receiver has the server and client span of trace and returns them.
func (ts *telemetryStack) spansOf(t *testing.T, trace string) (server, client otlpreceiver.Span) {
	t.Helper()
	if err := ts.tracing.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.receiver.Wait(t, "the spans of trace "+trace, giveUp, func(spans []otlpreceiver.Span) error {
		server, client = otlpreceiver.Span{}, otlpreceiver.Span{}
		for _, s := range spans {
			switch {
			case s.TraceID != trace:
			case s.Kind == "server":
				server = s
			case s.Kind == "client":
				client = s
			}
		}
		if server.SpanID == "" || client.SpanID == "" {
			return fmt.Errorf("server %q, client %q", server.SpanID, client.SpanID)
		}
		return nil
	})
	return server, client
}

// logLine returns the access log line of trace.
func (ts *telemetryStack) logLine(t *testing.T, trace string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(ts.access.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("access log line %q: %v", line, err)
		}
		if m["trace_id"] == trace {
			return m
		}
	}
	t.Fatalf("no access log line of trace %s in:\n%s", trace, ts.access.String())
	return nil
}

// TestTraceReachesEveryUpstream sends a request carrying a W3C traceparent down each path of
// the gateway and checks that the real upstream received the gateway's client span as its
// parent — as an HTTP header, as gRPC metadata (grpc-go's server reports it), as a Dubbo
// attachment (the dubbo-go provider's attachments() returns it) even on a route that forwards
// only x-request-id — that the exported server span continues the caller's trace and the client
// span is its child, and that the access log line names the request.
func TestTraceReachesEveryUpstream(t *testing.T) {
	ts := startTelemetryStack(t)
	cases := []struct {
		path, name, rpcSystem, rpcService, rpcMethod, status string
	}{
		{httpPath, "GET http", "", "", "", ""},
		{grpcPath, "GET grpc", "grpc", bookstore.Service, "GetShelf", "OK"},
		{dubboAllPath, "GET dubbo" + dubboAllPath, "dubbo", dubboprovider.Interface, "attachments", "OK"},
		{dubboIDPath, "GET dubbo" + dubboIDPath, "dubbo", dubboprovider.Interface, "attachments", "OK"},
	}
	for i, c := range cases {
		trace, parent := traceFor(i)
		got, _ := ts.seen(t, c.path, http.Header{"Traceparent": {parent}, "Tracestate": {"vendor=x"}})
		server, client := ts.spansOf(t, trace)
		want := "00-" + trace + "-" + client.SpanID + "-01"
		if v := got.Values("Traceparent"); len(v) != 1 || v[0] != want {
			t.Errorf("%s: the upstream received traceparent %q, want [%q] (the gateway's client span)", c.path, v, want)
		}
		if got.Get("Tracestate") != "vendor=x" {
			t.Errorf("%s: the upstream received tracestate %q, want the caller's", c.path, got.Get("Tracestate"))
		}
		if server.ParentSpanID != clientSpan || server.Name != c.name || client.ParentSpanID != server.SpanID {
			t.Errorf("%s: server span %q (parent %s), client span parent %s: want %q under the caller, the client span under it",
				c.path, server.Name, server.ParentSpanID, client.ParentSpanID, c.name)
		}
		if c.rpcSystem != "" && (client.Attributes["rpc.system.name"] != c.rpcSystem || client.Name != c.rpcService+"/"+c.rpcMethod) {
			t.Errorf("%s: client span %q %v, want a %s call of %s/%s", c.path, client.Name, client.Attributes, c.rpcSystem, c.rpcService, c.rpcMethod)
		}
		line := ts.logLine(t, trace)
		for k, v := range map[string]any{"response_code": 200.0, "response_flags": "-", "response_code_details": "via_upstream",
			"method": "GET", "path": c.path, "downstream_remote_address": "127.0.0.1"} {
			if line[k] != v {
				t.Errorf("%s: access log %s = %#v, want %#v", c.path, k, line[k], v)
			}
		}
		if c.rpcSystem != "" && (line["rpc_system"] != c.rpcSystem || line["rpc_service"] != c.rpcService || line["rpc_method"] != c.rpcMethod) {
			t.Errorf("%s: access log %v, want the RPC %s %s.%s", c.path, line, c.rpcSystem, c.rpcService, c.rpcMethod)
		}
		if status := map[string]string{"grpc": "grpc_status", "dubbo": "dubbo_status"}[c.rpcSystem]; status != "" && line[status] != c.status {
			t.Errorf("%s: access log %s = %v, want %s", c.path, status, line[status], c.status)
		}
		if id, _ := line["request_id"].(string); !uuidV4.MatchString(id) || line["bytes_sent"].(float64) <= 0 || line["upstream_service_time"] == nil {
			t.Errorf("%s: access log %v: want the generated request id, the bytes sent, the upstream time", c.path, line)
		}
	}
}

// TestFailuresAreLoggedWithEnvoyFlags: requests that end badly are logged with Envoy's
// response flags, their statuses, and counted in the upstream histogram by outcome.
func TestFailuresAreLoggedWithEnvoyFlags(t *testing.T) {
	ts := startTelemetryStack(t)
	addr := "http://" + ts.gw.Addr().String()
	send := func(i int, method, path, body string) (string, int) {
		trace, parent := traceFor(100 + i)
		req, err := http.NewRequest(method, addr+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Traceparent", parent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return trace, resp.StatusCode
	}
	cases := []struct {
		method, path, body string
		code               int
		want               map[string]any
	}{
		{"GET", "/nowhere", "", 404, map[string]any{"response_flags": "NR", "response_code_details": dataplane.StatusRouteNotFound, "route_name": ""}},
		{"GET", deadPath, "", 503, map[string]any{"response_flags": "UF", "response_code_details": dataplane.StatusUpstreamConnectFailure, "route_name": "dead"}},
		{"GET", "/slow?ms=3000", "", 504, map[string]any{"response_flags": "UT", "response_code_details": dataplane.StatusUpstreamTimeout, "rpc_method": "slow"}},
		{"POST", "/fail", `{"message":"no"}`, 500, map[string]any{"response_flags": "-", "response_code_details": "via_upstream",
			"dubbo_status": "OK", "dubbo_exception": "org.rpcbridge.test.GreeterException", "bytes_received": 16.0}},
	}
	for i, c := range cases {
		trace, code := send(i, c.method, c.path, c.body)
		if code != c.code {
			t.Fatalf("%s %s: %d, want %d", c.method, c.path, code, c.code)
		}
		line := ts.logLine(t, trace)
		for k, v := range c.want {
			if line[k] != v {
				t.Errorf("%s %s: access log %s = %#v, want %#v (%v)", c.method, c.path, k, line[k], v, line)
			}
		}
		if c.code >= 500 {
			if server, _ := ts.spansOf(t, trace); !server.Error {
				t.Errorf("%s %s: the server span of a %d is not an error", c.method, c.path, c.code)
			}
		}
	}
	counts := upstreamCounts(t, ts.reg)
	for _, k := range [][3]string{
		{"http:dead", "http", "unavailable"}, {greeterCluster, "dubbo", "timeout"}, {greeterCluster, "dubbo", "error"},
	} {
		if counts[k] == 0 {
			t.Errorf("no upstream call counted as %v (all: %v)", k, counts)
		}
	}
}

// upstreamCounts gathers the upstream-duration histogram's counts by cluster, protocol, outcome.
func upstreamCounts(t *testing.T, reg *prometheus.Registry) map[[3]string]uint64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[[3]string]uint64{}
	for _, f := range families {
		if f.GetName() != "rpcbridge_gateway_upstream_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			out[[3]string{l["cluster"], l["protocol"], l["outcome"]}] += m.GetHistogram().GetSampleCount()
		}
	}
	return out
}
