package controlplane

import (
	"path/filepath"
	"slices"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	connectionsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	fixedheapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/rpcbridge/rpcbridge/internal/golden"
)

// bootstrapInput is the format of testdata/bootstrap/*.in.yaml: BootstrapOptions.
type bootstrapInput struct {
	NodeID      string `yaml:"nodeId"`
	NodeCluster string `yaml:"nodeCluster"`
	XDSServers  []struct {
		Host string `yaml:"host"`
		Port uint32 `yaml:"port"`
	} `yaml:"xdsServers"`
	Delta        bool   `yaml:"delta"`
	AdminAddress string `yaml:"adminAddress"`
	AdminPort    uint32 `yaml:"adminPort"`
	XDSTLS       struct {
		CAFile     string `yaml:"caFile"`
		CertFile   string `yaml:"certFile"`
		KeyFile    string `yaml:"keyFile"`
		ServerName string `yaml:"serverName"`
	} `yaml:"xdsTls"`
}

// TestBootstrapGolden renders the bootstrap of each testdata/bootstrap/<case>.in.yaml (or
// "error: ..." when Bootstrap refuses the options) and compares it with <case>.out.yaml.
func TestBootstrapGolden(t *testing.T) {
	golden.Run(t, filepath.Join("testdata", "bootstrap"), *update, func(t *testing.T, raw []byte) []byte {
		var in bootstrapInput
		golden.DecodeStrict(t, raw, &in)
		opts := BootstrapOptions{NodeID: in.NodeID, NodeCluster: in.NodeCluster, Delta: in.Delta,
			AdminAddress: in.AdminAddress, AdminPort: in.AdminPort, XDSTLS: BootstrapTLS(in.XDSTLS)}
		for _, s := range in.XDSServers {
			opts.XDSServers = append(opts.XDSServers, XDSServer{Host: s.Host, Port: s.Port})
		}
		b, err := Bootstrap(opts)
		if err != nil {
			return []byte("error: " + err.Error() + "\n")
		}
		out, err := RenderMessage(b, FormatYAML)
		if err != nil {
			t.Fatal(err)
		}
		return out
	})
}

// TestBootstrapDecodesAndValidates renders bootstraps in both formats, decodes them back as
// envoy.config.bootstrap.v3.Bootstrap and validates them and their key fields: every replica is
// an endpoint of the xDS cluster, which is health-checked over gRPC when it may hold several.
func TestBootstrapDecodesAndValidates(t *testing.T) {
	cases := []struct {
		name          string
		opts          BootstrapOptions
		discovery     clusterv3.Cluster_DiscoveryType
		apiType       corev3.ApiConfigSource_ApiType
		healthChecked bool
	}{
		{"ip", BootstrapOptions{NodeID: "envoy-1", NodeCluster: "edge", XDSServers: []XDSServer{{"127.0.0.1", 18000}}},
			clusterv3.Cluster_STATIC, corev3.ApiConfigSource_GRPC, false},
		{"dns-delta", BootstrapOptions{NodeID: "envoy-2", NodeCluster: "edge", XDSServers: []XDSServer{{"rpcbridge.internal", 18000}}, Delta: true},
			clusterv3.Cluster_STRICT_DNS, corev3.ApiConfigSource_DELTA_GRPC, true},
		{"replicas", BootstrapOptions{NodeID: "envoy-3", NodeCluster: "edge",
			XDSServers: []XDSServer{{"10.0.0.1", 18000}, {"10.0.0.2", 18000}, {"10.0.0.3", 18001}}},
			clusterv3.Cluster_STATIC, corev3.ApiConfigSource_GRPC, true},
		{"replicas-mixed", BootstrapOptions{NodeID: "envoy-4", NodeCluster: "edge", Delta: true,
			XDSServers: []XDSServer{{"10.0.0.1", 18000}, {"cp-2.internal", 18000}}},
			clusterv3.Cluster_STRICT_DNS, corev3.ApiConfigSource_DELTA_GRPC, true},
		{"mtls", BootstrapOptions{NodeID: "envoy-5", NodeCluster: "edge", XDSServers: []XDSServer{{"10.0.0.1", 18000}, {"10.0.0.2", 18000}},
			XDSTLS: BootstrapTLS{CAFile: "/etc/envoy/ca.crt", CertFile: "/etc/envoy/envoy.crt", KeyFile: "/etc/envoy/envoy.key", ServerName: "xds.internal"}},
			clusterv3.Cluster_STATIC, corev3.ApiConfigSource_GRPC, true},
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
				var endpoints []XDSServer
				for _, lb := range xds.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints() {
					sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
					endpoints = append(endpoints, XDSServer{sa.GetAddress(), sa.GetPortValue()})
				}
				hc := xds.GetHealthChecks()
				switch {
				case got.GetNode().GetId() != tc.opts.NodeID || got.GetNode().GetCluster() != tc.opts.NodeCluster:
					t.Errorf("node = %v", got.GetNode())
				case xds.GetName() != XDSClusterName || xds.GetType() != tc.discovery:
					t.Errorf("xDS cluster %q has type %v, want %q %v", xds.GetName(), xds.GetType(), XDSClusterName, tc.discovery)
				case !slices.Equal(endpoints, tc.opts.XDSServers):
					t.Errorf("xDS cluster endpoints %v, want %v", endpoints, tc.opts.XDSServers)
				case tc.healthChecked && (len(hc) != 1 || hc[0].GetGrpcHealthCheck() == nil ||
					xds.GetCommonLbConfig().GetHealthyPanicThreshold().GetValue() != 0 || xds.GetCommonLbConfig().GetHealthyPanicThreshold() == nil):
					t.Errorf("xDS cluster is not gRPC-health-checked without panic routing: %v %v", hc, xds.GetCommonLbConfig())
				case !tc.healthChecked && len(hc) != 0:
					t.Errorf("a single IP replica is health-checked: %v", hc)
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
				checkXDSTLS(t, xds, tc.opts.XDSTLS)
			}
		})
	}
}

// TestBootstrapRejectsMissingNode checks that a bootstrap without node identity is an error.
func TestBootstrapRejectsMissingNode(t *testing.T) {
	if _, err := Bootstrap(BootstrapOptions{XDSServers: []XDSServer{{"127.0.0.1", 18000}}}); err == nil {
		t.Fatal("Bootstrap accepted options without a node id")
	}
}

// TestBootstrapOverloadManager checks the process-level limits: the global downstream
// connection limit and heap-based shedding in the overload manager, rendered, decoded strictly
// (the typed configs resolve) and validated; and no overload manager when neither is asked for.
func TestBootstrapOverloadManager(t *testing.T) {
	opts := BootstrapOptions{NodeID: "envoy-1", NodeCluster: "edge", XDSServers: []XDSServer{{Host: "127.0.0.1", Port: 18000}},
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

// checkXDSTLS checks the xDS cluster's transport socket against the options: none for
// plaintext, else an UpstreamTlsContext with the files, SNI, SAN match and h2 by ALPN.
func checkXDSTLS(t *testing.T, xds *clusterv3.Cluster, want BootstrapTLS) {
	t.Helper()
	ts := xds.GetTransportSocket()
	if want.IsZero() {
		if ts != nil {
			t.Errorf("plaintext xDS has a transport socket: %v", ts)
		}
		return
	}
	if ts.GetName() != TLSTransportSocket {
		t.Fatalf("xDS transport socket %q, want %q", ts.GetName(), TLSTransportSocket)
	}
	msg, err := ts.GetTypedConfig().UnmarshalNew()
	if err != nil {
		t.Fatal(err)
	}
	up, ok := msg.(*tlsv3.UpstreamTlsContext)
	if !ok {
		t.Fatalf("transport socket config is %T", msg)
	}
	common := up.GetCommonTlsContext()
	certs := common.GetTlsCertificates()
	switch {
	case common.GetValidationContext().GetTrustedCa().GetFilename() != want.CAFile:
		t.Errorf("trusted_ca %v, want %s", common.GetValidationContext().GetTrustedCa(), want.CAFile)
	case len(certs) != 1 || certs[0].GetCertificateChain().GetFilename() != want.CertFile || certs[0].GetPrivateKey().GetFilename() != want.KeyFile:
		t.Errorf("tls_certificates %v, want %s + %s", certs, want.CertFile, want.KeyFile)
	case up.GetSni() != want.ServerName:
		t.Errorf("sni %q, want %q", up.GetSni(), want.ServerName)
	case len(common.GetValidationContext().GetMatchTypedSubjectAltNames()) != 1 ||
		common.GetValidationContext().GetMatchTypedSubjectAltNames()[0].GetMatcher().GetExact() != want.ServerName:
		t.Errorf("SAN match %v, want %s", common.GetValidationContext().GetMatchTypedSubjectAltNames(), want.ServerName)
	case !slices.Equal(common.GetAlpnProtocols(), []string{"h2"}):
		t.Errorf("alpn %v, want h2", common.GetAlpnProtocols())
	}
}

// TestBootstrapTLSRefusesHalfConfigurations: TLS needs its CA, a certificate its key.
func TestBootstrapTLSRefusesHalfConfigurations(t *testing.T) {
	for _, bad := range []BootstrapTLS{{CertFile: "c", KeyFile: "k"}, {CAFile: "ca", CertFile: "c"}, {CAFile: "ca", KeyFile: "k"}} {
		if _, err := Bootstrap(BootstrapOptions{NodeID: "e", NodeCluster: "c", XDSServers: []XDSServer{{"10.0.0.1", 18000}}, XDSTLS: bad}); err == nil {
			t.Errorf("%+v: accepted", bad)
		}
	}
}
