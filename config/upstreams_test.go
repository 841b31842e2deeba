package config

import (
	"strings"
	"testing"
	"time"
)

// TestParseUpstreams: the upstreams: block decodes strictly (durations as "10s"), and an invalid
// policy value is reported with file, line and key.
func TestParseUpstreams(t *testing.T) {
	good := valid + `upstreams:
  rpc:
    outlierDetection: {baseEjectionTime: 10s, consecutiveGatewayFailure: 3}
  services:
    - service: hello
      retry: {enabled: false}
`
	cfg, err := Parse("rpcbridge.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if od := cfg.Upstreams.RPC.OutlierDetection; od == nil || od.BaseEjectionTime.Std() != 10*time.Second || *od.ConsecutiveGatewayFailure != 3 {
		t.Errorf("rpc outlier detection decoded wrong: %+v", od)
	}
	if s := cfg.Upstreams.Services; len(s) != 1 || s[0].Service != "hello" || s[0].Retry == nil || *s[0].Retry.Enabled {
		t.Errorf("services decoded wrong: %+v", s)
	}

	bad := valid + `upstreams:
  rpc:
    outlierDetection:
      maxEjectionPercent: 101
`
	_, err = Parse("rpcbridge.yaml", []byte(bad))
	want := "rpcbridge.yaml:22: upstreams.rpc.outlierDetection.maxEjectionPercent: 101 is not a percentage (0..100)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
	_, err = Parse("rpcbridge.yaml", []byte(valid+"upstreams:\n  rpc:\n    outlierDetection: {interval: soon}\n"))
	if err == nil || !strings.Contains(err.Error(), "invalid duration") {
		t.Errorf("err = %v, want a duration error", err)
	}
}
