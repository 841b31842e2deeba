package controlplane

import (
	"errors"
	"fmt"
	"net"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// XDSClusterName is the static cluster through which Envoy reaches the control plane.
const XDSClusterName = "rpcbridge-xds"

// Defaults for BootstrapOptions.
const (
	DefaultAdminAddress = "127.0.0.1"
	DefaultAdminPort    = 9901
)

// BootstrapOptions describe the Envoy that the bootstrap is for and where the control plane is.
type BootstrapOptions struct {
	// NodeID and NodeCluster identify the Envoy to the control plane; both are required.
	NodeID      string
	NodeCluster string
	// XDSAddress (an IP or a DNS name) and XDSPort locate the control plane's xDS server.
	XDSAddress string
	XDSPort    uint32
	// Delta selects incremental xDS (DELTA_GRPC) instead of state of the world.
	Delta bool
	// AdminAddress and AdminPort place Envoy's admin interface; defaults 127.0.0.1:9901.
	AdminAddress string
	AdminPort    uint32
	// MaxDownstreamConnections bounds the connections Envoy holds open from clients, over all
	// its listeners (the overload manager's global_downstream_max_connections monitor); 0 sets
	// no bound. It is the embedded gateway's dataplane.Options.MaxConnections.
	MaxDownstreamConnections int64
	// MaxHeapBytes turns on heap-based shedding: Envoy's fixed_heap monitor with this
	// max_heap_size_bytes, shrink_heap at 95 % and stop_accepting_requests (503 to new
	// requests) at 98 %, as its edge guide configures them; 0 turns it off.
	MaxHeapBytes uint64
}

// Bootstrap returns an Envoy bootstrap that takes listeners and clusters (and through them
// routes and endpoints) from the control plane over ADS. The result is validated.
func Bootstrap(opts BootstrapOptions) (*bootstrapv3.Bootstrap, error) {
	switch {
	case opts.NodeID == "" || opts.NodeCluster == "":
		return nil, errors.New("bootstrap: node id and node cluster are required")
	case opts.XDSAddress == "" || opts.XDSPort == 0 || opts.XDSPort > 65535:
		return nil, fmt.Errorf("bootstrap: invalid xDS address %q port %d", opts.XDSAddress, opts.XDSPort)
	}
	if opts.AdminAddress == "" {
		opts.AdminAddress = DefaultAdminAddress
	}
	if opts.AdminPort == 0 {
		opts.AdminPort = DefaultAdminPort
	}
	discovery := clusterv3.Cluster_STRICT_DNS
	if net.ParseIP(opts.XDSAddress) != nil {
		discovery = clusterv3.Cluster_STATIC
	}
	http2, err := http2ProtocolOptions()
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	apiType := corev3.ApiConfigSource_GRPC
	if opts.Delta {
		apiType = corev3.ApiConfigSource_DELTA_GRPC
	}
	b := &bootstrapv3.Bootstrap{
		Node: &corev3.Node{Id: opts.NodeID, Cluster: opts.NodeCluster},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Clusters: []*clusterv3.Cluster{{
				Name:                          XDSClusterName,
				ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: discovery},
				ConnectTimeout:                durationpb.New(DefaultConnectTimeout),
				TypedExtensionProtocolOptions: http2,
				LoadAssignment: &endpointv3.ClusterLoadAssignment{
					ClusterName: XDSClusterName,
					Endpoints: []*endpointv3.LocalityLbEndpoints{{
						LbEndpoints: []*endpointv3.LbEndpoint{{
							HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
								Address: socketAddress(opts.XDSAddress, opts.XDSPort),
							}},
						}},
					}},
				},
			}},
		},
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			AdsConfig: &corev3.ApiConfigSource{
				ApiType:             apiType,
				TransportApiVersion: corev3.ApiVersion_V3,
				GrpcServices: []*corev3.GrpcService{{
					TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{
						ClusterName: XDSClusterName,
					}},
				}},
			},
			LdsConfig: adsConfigSource(),
			CdsConfig: adsConfigSource(),
		},
		Admin: &bootstrapv3.Admin{Address: socketAddress(opts.AdminAddress, opts.AdminPort)},
	}
	if b.OverloadManager, err = overloadManager(opts.MaxDownstreamConnections, opts.MaxHeapBytes); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return b, nil
}

// socketAddress is a TCP address.
func socketAddress(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       host,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}
