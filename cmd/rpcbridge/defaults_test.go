package main

import (
	"net"
	"strconv"
	"testing"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/controlplane"
)

// TestDefaultPortsDoNotClash: `rpcbridge serve` and the Envoy that `rpcbridge bootstrap`
// configures, both with their defaults, must be able to run on one host (the README's "With
// Envoy" steps). Envoy gets controlplane's ports (admin, the HTTP and Dubbo listeners);
// rpcbridge binds the config defaults.
func TestDefaultPortsDoNotClash(t *testing.T) {
	envoy := map[int]string{
		controlplane.DefaultAdminPort: "Envoy's admin (rpcbridge bootstrap --admin-port)",
		controlplane.DefaultHTTPPort:  "Envoy's rpcbridge-http listener",
		controlplane.DefaultDubboPort: "Envoy's rpcbridge-dubbo listener",
	}
	for key, addr := range map[string]string{
		"xds.listen": config.DefaultXDSListen, "gateway.listen": config.DefaultGatewayListen, "admin.listen": config.DefaultAdminListen,
	} {
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("%s default %q: %v", key, addr, err)
		}
		port, _ := strconv.Atoi(p)
		if what, clash := envoy[port]; clash {
			t.Errorf("%s defaults to %s, the port of %s", key, addr, what)
		}
	}
}
