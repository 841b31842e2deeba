package config

import (
	"errors"
	"slices"
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

// TestEnvoyDubboGateways: envoy.dubboGateways decodes into the control plane's type (protocol
// http1 by default) and each of its problems is blamed on its own key and line.
func TestEnvoyDubboGateways(t *testing.T) {
	cfg, err := Parse("f.yaml", []byte(valid+"envoy:\n  dubboGateways:\n    addresses: [10.0.0.1:8080]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if gw := cfg.Envoy.DubboGateways; !gw.Enabled() || gw.Protocol != controlplane.GatewayHTTP1 {
		t.Errorf("dubboGateways = %+v, want enabled with protocol http1", gw)
	}
	_, err = Parse("f.yaml", []byte(valid+"envoy:\n  dubboGateways:\n    addresses: [10.0.0.1]\n    protocol: http3\n"+
		"    tls: {certFile: c.pem}\n"))
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Parse error = %v, want problems", err)
	}
	var got []string
	for _, p := range cerr.Problems {
		got = append(got, p.String())
	}
	want := []string{
		`f.yaml:21: envoy.dubboGateways.addresses[0]: "10.0.0.1" is not a host:port address`,
		`f.yaml:22: envoy.dubboGateways.protocol: unknown protocol "http3" (want "http1" or "http2")`,
		`f.yaml:23: envoy.dubboGateways.tls: TLS needs the CA file that the servers' certificates chain to (caFile)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
}
