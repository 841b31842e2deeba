package controlplane

import (
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	connectionsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	fixedheapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"
)

// TestBootstrapDecodesAndValidates renders bootstraps in both formats, decodes them back as
// envoy.config.bootstrap.v3.Bootstrap and validates them and their key fields.
func TestBootstrapDecodesAndValidates(t *testing.T) {
	cases := []struct {
		name      string
		opts      BootstrapOptions
		discovery clusterv3.Cluster_DiscoveryType
		apiType   corev3.ApiConfigSource_ApiType
	}{
		{"ip", BootstrapOptions{NodeID: "envoy-1", NodeCluster: "edge", XDSAddress: "127.0.0.1", XDSPort: 18000},
			clusterv3.Cluster_STATIC, corev3.ApiConfigSource_GRPC},
		{"dns-delta", BootstrapOptions{NodeID: "envoy-2", NodeCluster: "edge", XDSAddress: "rpcbridge.internal", XDSPort: 18000, Delta: true},
			clusterv3.Cluster_STRICT_DNS, corev3.ApiConfigSource_DELTA_GRPC},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Bootstrap(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, format := range []string{FormatJSON, FormatYAML} {
				out, err := RenderMessage(b, format)
				if err != nil {
					t.Fatal(err)
				}
				if format == FormatYAML {
					if out, err = yaml.YAMLToJSON(out); err != nil {
						t.Fatal(err)
					}
				}
				// Strict decoding, as Envoy loads a bootstrap file: unknown fields are errors.
				got := &bootstrapv3.Bootstrap{}
				if err := protojson.Unmarshal(out, got); err != nil {
					t.Fatalf("%s does not decode as a Bootstrap: %v", format, err)
				}
				if err := got.ValidateAll(); err != nil {
					t.Fatalf("%s does not validate: %v", format, err)
				}
				xds := got.GetStaticResources().GetClusters()[0]
				sa := xds.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
				switch {
				case got.GetNode().GetId() != tc.opts.NodeID || got.GetNode().GetCluster() != tc.opts.NodeCluster:
					t.Errorf("node = %v", got.GetNode())
				case xds.GetName() != XDSClusterName || xds.GetType() != tc.discovery:
					t.Errorf("xDS cluster %q has type %v, want %q %v", xds.GetName(), xds.GetType(), XDSClusterName, tc.discovery)
				case sa.GetAddress() != tc.opts.XDSAddress || sa.GetPortValue() != tc.opts.XDSPort:
					t.Errorf("xDS cluster points at %s:%d", sa.GetAddress(), sa.GetPortValue())
				case xds.GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey] == nil:
					t.Error("xDS cluster does not speak HTTP/2")
				case got.GetDynamicResources().GetAdsConfig().GetApiType() != tc.apiType:
					t.Errorf("ads api type %v, want %v", got.GetDynamicResources().GetAdsConfig().GetApiType(), tc.apiType)
				case got.GetDynamicResources().GetAdsConfig().GetGrpcServices()[0].GetEnvoyGrpc().GetClusterName() != XDSClusterName:
					t.Error("ADS does not use the xDS cluster")
				case got.GetDynamicResources().GetLdsConfig().GetAds() == nil || got.GetDynamicResources().GetCdsConfig().GetAds() == nil:
					t.Error("LDS and CDS do not come over ADS")
				case got.GetAdmin().GetAddress().GetSocketAddress().GetPortValue() != DefaultAdminPort:
					t.Errorf("admin = %v", got.GetAdmin())
				}
			}
		})
	}
}

// TestBootstrapRejectsMissingNode checks that a bootstrap without node identity is an error.
func TestBootstrapRejectsMissingNode(t *testing.T) {
	if _, err := Bootstrap(BootstrapOptions{XDSAddress: "127.0.0.1", XDSPort: 18000}); err == nil {
		t.Fatal("Bootstrap accepted options without a node id")
	}
}

// TestBootstrapOverloadManager checks the process-level limits: the global downstream
// connection limit and heap-based shedding in the overload manager, rendered, decoded strictly
// (the typed configs resolve) and validated; and no overload manager when neither is asked for.
func TestBootstrapOverloadManager(t *testing.T) {
	opts := BootstrapOptions{NodeID: "envoy-1", NodeCluster: "edge", XDSAddress: "127.0.0.1", XDSPort: 18000,
		MaxDownstreamConnections: 5000, MaxHeapBytes: 1 << 30}
	b, err := Bootstrap(opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := RenderMessage(b, FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	got := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(out, got); err != nil {
		t.Fatalf("does not decode as a Bootstrap: %v", err)
	}
	if err := got.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	om := got.GetOverloadManager()
	monitors := map[string]proto.Message{}
	for _, m := range om.GetResourceMonitors() {
		msg, err := m.GetTypedConfig().UnmarshalNew()
		if err != nil {
			t.Fatalf("monitor %s: %v", m.GetName(), err)
		}
		monitors[m.GetName()] = msg
	}
	conns, _ := monitors["envoy.resource_monitors.global_downstream_max_connections"].(*connectionsv3.DownstreamConnectionsConfig)
	heap, _ := monitors["envoy.resource_monitors.fixed_heap"].(*fixedheapv3.FixedHeapConfig)
	if conns.GetMaxActiveDownstreamConnections() != 5000 || heap.GetMaxHeapSizeBytes() != 1<<30 {
		t.Errorf("resource monitors = %v", monitors)
	}
	actions := map[string]float64{}
	for _, a := range om.GetActions() {
		actions[a.GetName()] = a.GetTriggers()[0].GetThreshold().GetValue()
	}
	if actions["envoy.overload_actions.stop_accepting_requests"] != 0.98 || actions["envoy.overload_actions.shrink_heap"] != 0.95 {
		t.Errorf("overload actions = %v", actions)
	}

	opts.MaxDownstreamConnections, opts.MaxHeapBytes = 0, 0
	if b, err := Bootstrap(opts); err != nil || b.GetOverloadManager() != nil {
		t.Errorf("without limits: overload manager %v, %v", b.GetOverloadManager(), err)
	}
}
