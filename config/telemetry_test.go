package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rpcbridge/rpcbridge/telemetry"
)

// TestTelemetryKeys decodes gateway.accessLog and telemetry.tracing into telemetry's types;
// without them both are off.
func TestTelemetryKeys(t *testing.T) {
	plain, err := Parse("rpcbridge.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Gateway.AccessLog.Enabled || plain.Telemetry.Tracing.Enabled() {
		t.Errorf("access log %+v, tracing %+v: want both off by default", plain.Gateway.AccessLog, plain.Telemetry.Tracing)
	}
	doc := valid + `gateway:
  accessLog: {enabled: true, sampleRate: 0.25, path: /var/log/rpcbridge/access.log}
telemetry:
  tracing:
    endpoint: https://otel.example:4318
    protocol: http/protobuf
    sampleRatio: 0.1
    headers: {authorization: Bearer x}
    serviceName: edge
`
	cfg, err := Parse("rpcbridge.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	rate, ratio := 0.25, 0.1
	if diff := cmp.Diff(telemetry.AccessLogConfig{Enabled: true, SampleRate: &rate, Path: "/var/log/rpcbridge/access.log"}, cfg.Gateway.AccessLog); diff != "" {
		t.Errorf("access log (-want +got):\n%s", diff)
	}
	want := telemetry.TracingConfig{Endpoint: "https://otel.example:4318", Protocol: telemetry.OTLPHTTP, SampleRatio: &ratio,
		Headers: map[string]string{"authorization": "Bearer x"}, ServiceName: "edge"}
	if diff := cmp.Diff(want, cfg.Telemetry.Tracing); diff != "" {
		t.Errorf("tracing (-want +got):\n%s", diff)
	}
}

// TestTelemetryRefusals: unknown keys and invalid values name file, line and key.
func TestTelemetryRefusals(t *testing.T) {
	cases := map[string]string{
		"gateway:\n  accessLog: {enabled: true, sampleRate: 1.5}\n": "gateway.accessLog.sampleRate: 1.5 is not in 0..1",
		"gateway:\n  accessLog: {enable: true}\n":                   `unknown key "enable"`,
		"telemetry:\n  tracing: {endpoint: collector:4317}\n":       `telemetry.tracing.endpoint: "collector:4317" is not an http:// or https:// URL`,
		"telemetry:\n  tracing: {endpoint: 'http://'}\n":            `telemetry.tracing.endpoint: "http://" names no host`,
		"telemetry:\n  tracing: {protocol: thrift}\n":               `telemetry.tracing.protocol: "thrift" is not grpc or http/protobuf`,
		"telemetry:\n  tracing: {sampleRatio: -0.5}\n":              "telemetry.tracing.sampleRatio: -0.5 is not in 0..1",
		"telemetry:\n  tracing: {headers: {'': x}}\n":               "telemetry.tracing.headers: a header name is empty",
		"telemetry:\n  tracng: {}\n":                                `unknown key "tracng"`,
	}
	for doc, want := range cases {
		_, err := Parse("rpcbridge.yaml", []byte(valid+doc))
		var cerr *Error
		if !errors.As(err, &cerr) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "rpcbridge.yaml:") {
			t.Errorf("%q: got %v, want a problem with file:line mentioning %q", doc, err, want)
		}
	}
}
