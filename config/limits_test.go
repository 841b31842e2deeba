package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane"
)

// TestParseListenerLimits checks gateway.limits and admin.limits: absent keys take the
// defaults, "0s" turns a timeout off (as a zero does in Envoy), set values reach the emitted
// limits, and bad values and unknown keys are problems with their key.
func TestParseListenerLimits(t *testing.T) {
	cfg, err := Parse("rpcbridge.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Gateway.Limits.Downstream(), controlplane.DefaultDownstreamLimits(); got != want {
		t.Errorf("default gateway limits = %+v, want %+v", got, want)
	}
	if got := cfg.Admin.Limits.Downstream(); got.RequestTimeout != DefaultAdminRequestTimeout.Std() || got.IdleTimeout != controlplane.DefaultIdleTimeout {
		t.Errorf("default admin limits = %+v", got)
	}

	cfg, err = Parse("rpcbridge.yaml", []byte(valid+`gateway:
  limits: {idleTimeout: 2m, requestTimeout: 0s, bufferLimitBytes: 65536, maxUploadBytes: 524288, maxConcurrentStreams: 10, maxConnections: 500, bufferBudgetBytes: 1048576}
admin:
  limits: {streamIdleTimeout: 0s, maxConnections: 8}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := controlplane.DefaultDownstreamLimits()
	want.IdleTimeout, want.RequestTimeout, want.BufferLimitBytes, want.MaxConcurrentStreams = 2*time.Minute, 0, 65536, 10
	want.UploadLimitBytes = 524288
	if got := cfg.Gateway.Limits.Downstream(); got != want {
		t.Errorf("gateway limits = %+v, want %+v", got, want)
	}
	if l := cfg.Gateway.Limits; l.MaxConnections != 500 || l.BufferBudgetBytes != 1<<20 {
		t.Errorf("gateway process limits = %+v", l)
	}
	if got := cfg.Admin.Limits.Downstream(); got.StreamIdleTimeout != 0 || cfg.Admin.Limits.MaxConnections != 8 {
		t.Errorf("admin limits = %+v, max connections %d", got, cfg.Admin.Limits.MaxConnections)
	}

	for _, c := range []struct{ yaml, want string }{
		{"gateway:\n  limits: {maxConnections: -1}\n", "gateway.limits.maxConnections: -1 is negative"},
		{"gateway:\n  limits: {bufferLimitBytes: 8192, bufferBudgetBytes: 4096}\n", "gateway.limits.bufferLimitBytes: 8192 is more than bufferBudgetBytes"},
		{"gateway:\n  limits: {streamIdleTimeout: -5s}\n", `duration "-5s" is negative`},
		{"gateway:\n  limits: {maxUploadBytes: -1}\n", "gateway.limits.maxUploadBytes: -1 is not in 0..4294967295"},
		{"gateway:\n  limits: {maxUploadBytes: 8192, bufferBudgetBytes: 4096}\n", "gateway.limits.maxUploadBytes: 8192 is more than bufferBudgetBytes"},
		{"admin:\n  limits: {maxConections: 3}\n", `admin.limits.maxConections: unknown key "maxConections"`},
	} {
		_, err := Parse("rpcbridge.yaml", []byte(valid+c.yaml))
		var cerr *Error
		if !errors.As(err, &cerr) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want a problem containing %q", c.yaml, err, c.want)
		}
	}
}
