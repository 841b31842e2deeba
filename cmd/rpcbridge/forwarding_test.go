package main

import (
	"context"
	"encoding/json"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
)

// renderedHCM runs `rpcbridge render --format json` on cfg and returns the HTTP connection
// manager of listener rpcbridge-http.
func renderedHCM(t *testing.T, cfg string) *hcmv3.HttpConnectionManager {
	t.Helper()
	code, out, stderr := runCLI(t, context.Background(), "render", "--config", writeFile(t, t.TempDir(), "rpcbridge.yaml", cfg), "--format", "json")
	if code != exitOK {
		t.Fatalf("render exit %d: %s", code, stderr)
	}
	var groups []struct {
		Kind      string            `json:"kind"`
		Resources []json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal([]byte(out), &groups); err != nil {
		t.Fatalf("render output: %v", err)
	}
	for _, g := range groups {
		for _, raw := range g.Resources {
			var a anypb.Any
			if err := protojson.Unmarshal(raw, &a); err != nil {
				t.Fatal(err)
			}
			var l listenerv3.Listener
			if a.UnmarshalTo(&l) != nil || l.GetName() != "rpcbridge-http" {
				continue
			}
			var m hcmv3.HttpConnectionManager
			if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&m); err != nil {
				t.Fatal(err)
			}
			return &m
		}
	}
	t.Fatalf("no listener rpcbridge-http in\n%s", out)
	return nil
}

// TestRenderCarriesGatewayForwarding: gateway.forwarding reaches the HttpConnectionManager of
// rpcbridge-http that Envoy gets (and the embedded gateway reads), and without it the policy is
// the untrusted edge.
func TestRenderCarriesGatewayForwarding(t *testing.T) {
	m := renderedHCM(t, renderConfig)
	if !m.GetUseRemoteAddress().GetValue() || m.GetXffNumTrustedHops() != 0 || !m.GetGenerateRequestId().GetValue() ||
		m.GetPreserveExternalRequestId() || m.GetInternalAddressConfig() != nil {
		t.Errorf("default forwarding settings in the HCM: %v", m)
	}
	m = renderedHCM(t, "gateway:\n  forwarding: {xffNumTrustedHops: 2, internalAddresses: [10.0.0.0/8], preserveExternalRequestId: true}\n"+renderConfig)
	ranges := m.GetInternalAddressConfig().GetCidrRanges()
	if !m.GetUseRemoteAddress().GetValue() || m.GetXffNumTrustedHops() != 2 || !m.GetPreserveExternalRequestId() || len(ranges) != 1 ||
		ranges[0].GetAddressPrefix() != "10.0.0.0" || ranges[0].GetPrefixLen().GetValue() != 8 {
		t.Errorf("configured forwarding settings in the HCM: %v", m)
	}
}
