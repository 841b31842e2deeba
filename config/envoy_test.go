package config

import (
	"errors"
	"testing"

	"github.com/rpcbridge/rpcbridge/controlplane"
)

// TestEnvoyFlavor: envoy.flavor decodes into the control plane's own type, which validates it;
// a bad one is blamed on its file, line and key with the control plane's message.
func TestEnvoyFlavor(t *testing.T) {
	cfg, err := Parse("f.yaml", []byte(valid+"envoy:\n  flavor: higress\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Envoy.Flavor != controlplane.FlavorHigress {
		t.Errorf("flavor = %q, want %q", cfg.Envoy.Flavor, controlplane.FlavorHigress)
	}
	cfg, err = Parse("f.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Envoy.Flavor != controlplane.FlavorEnvoy || cfg.Envoy.HTTPPort != controlplane.DefaultHTTPPort ||
		cfg.Envoy.DubboPort != controlplane.DefaultDubboPort {
		t.Errorf("envoy defaults = %+v, want the control plane's", cfg.Envoy)
	}

	_, err = Parse("f.yaml", []byte(valid+"envoy:\n  flavor: istio\n"))
	const want = `f.yaml:20: envoy.flavor: unknown flavor "istio" (want "envoy" or "higress")`
	var cerr *Error
	if !errors.As(err, &cerr) || len(cerr.Problems) != 1 || cerr.Problems[0].String() != want {
		t.Fatalf("Parse error = %v, want %s", err, want)
	}
}
