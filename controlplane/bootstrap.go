package controlplane

import (
	"errors"
	"fmt"
	"net"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// XDSClusterName is the static cluster through which Envoy reaches the control plane.
const XDSClusterName = "rpcbridge-xds"

// Defaults for BootstrapOptions.
const (
	DefaultAdminAddress = "127.0.0.1"
	DefaultAdminPort    = 9901
)

// How Envoy watches the xDS connection and the replicas behind it.
const (
	// xdsKeepaliveInterval and xdsKeepaliveTimeout: HTTP/2 PINGs on the xDS connection, which
	// Envoy's docs recommend ("Management Server Unreachability": a connection to a vanished
	// control plane is otherwise noticed only by the kernel, if ever). Server.Serve permits
	// pings down to every 15 s.
	xdsKeepaliveInterval = 30 * time.Second
	xdsKeepaliveTimeout  = 5 * time.Second
	// xdsHealthInterval and xdsHealthTimeout: the gRPC health checks of the replicas.
	xdsHealthInterval = 5 * time.Second
	xdsHealthTimeout  = 2 * time.Second
)

// XDSServer is one control-plane replica as Envoy reaches it.
type XDSServer struct {
	// Host is an IP address or a DNS name. Envoy resolves a name again and again and makes every
	// address it returns an endpoint, so one name can stand for all replicas (a Kubernetes
	// headless Service).
	Host string
	// Port is the replica's xDS port.
	Port uint32
}

// BootstrapOptions describe the Envoy that the bootstrap is for and where the control plane is.
type BootstrapOptions struct {
	// NodeID and NodeCluster identify the Envoy to the control plane; both are required.
	NodeID      string
	NodeCluster string
	// XDSServers are the control-plane replicas; at least one.
	XDSServers []XDSServer
	// Delta selects incremental xDS (DELTA_GRPC) instead of state of the world.
	Delta bool
	// XDSTLS puts the xDS cluster on TLS (an UpstreamTlsContext transport socket, its health
	// checks included); the zero value is plaintext.
	XDSTLS BootstrapTLS
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
	// XDSToken, when set, is sent as "authorization: Bearer <token>" initial metadata on the
	// ADS stream (the control plane's xds.auth). It is then written into the bootstrap file.
	XDSToken string
}

// Bootstrap returns an Envoy bootstrap that takes listeners and clusters (and through them
// routes and endpoints) from the control plane over ADS. The result is validated.
//
// Every replica is an endpoint of the one static cluster XDSClusterName, which ADS names in its
// only grpc_services entry. Envoy opens the ADS stream to one endpoint the cluster's load
// balancer picks and, when the stream fails, opens a new one (with backoff), which the load
// balancer may place on another replica. Where there can be several replicas (several servers,
// or a DNS name), Envoy checks each with grpc.health.v1 on the xDS port (Server.Serve answers
// SERVING once it has a configuration) and, with the panic threshold at 0, never picks one that
// fails the check, even when all do. This is the right shape for rpcbridge's replicas, which are
// peers with identical content. The alternative, a second ApiConfigSource.grpc_services entry
// (Envoy's xDS failover, behind the restart feature envoy.restart_features.xds_failover_support),
// is for a primary and a lesser fallback: it takes two sources at most and, once the primary
// ever answered, Envoy retries only the primary (source/extensions/config_subscription/grpc/
// grpc_mux_failover.h), so it would not move off a replica that dies later.
func Bootstrap(opts BootstrapOptions) (*bootstrapv3.Bootstrap, error) {
	if opts.NodeID == "" || opts.NodeCluster == "" {
		return nil, errors.New("bootstrap: node id and node cluster are required")
	}
	if len(opts.XDSServers) == 0 {
		return nil, errors.New("bootstrap: no xDS server")
	}
	if opts.AdminAddress == "" {
		opts.AdminAddress = DefaultAdminAddress
	}
	if opts.AdminPort == 0 {
		opts.AdminPort = DefaultAdminPort
	}
	xds, err := xdsCluster(opts.XDSServers)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if xds.TransportSocket, err = xdsTransportSocket(opts.XDSTLS); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	apiType := corev3.ApiConfigSource_GRPC
	if opts.Delta {
		apiType = corev3.ApiConfigSource_DELTA_GRPC
	}
	b := &bootstrapv3.Bootstrap{
		Node:            &corev3.Node{Id: opts.NodeID, Cluster: opts.NodeCluster},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{xds}},
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
	if opts.XDSToken != "" {
		for _, g := range b.DynamicResources.AdsConfig.GrpcServices {
			g.InitialMetadata = append(g.InitialMetadata, &corev3.HeaderValue{Key: "authorization", Value: "Bearer " + opts.XDSToken})
		}
	}
	if b.OverloadManager, err = overloadManager(opts.MaxDownstreamConnections, opts.MaxHeapBytes); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return b, nil
}

// xdsCluster is the static cluster of the replicas: STATIC when every host is an IP address,
// STRICT_DNS otherwise; health-checked when it may hold more than one endpoint.
func xdsCluster(servers []XDSServer) (*clusterv3.Cluster, error) {
	discovery := clusterv3.Cluster_STATIC
	endpoints := make([]*endpointv3.LbEndpoint, 0, len(servers))
	seen := map[XDSServer]bool{}
	for _, s := range servers {
		if s.Host == "" || s.Port == 0 || s.Port > 65535 {
			return nil, fmt.Errorf("invalid xDS address %q port %d", s.Host, s.Port)
		}
		if seen[s] {
			return nil, fmt.Errorf("xDS address %s is listed twice", net.JoinHostPort(s.Host, fmt.Sprint(s.Port)))
		}
		seen[s] = true
		if net.ParseIP(s.Host) == nil {
			discovery = clusterv3.Cluster_STRICT_DNS
		}
		endpoints = append(endpoints, &endpointv3.LbEndpoint{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socketAddress(s.Host, s.Port)}},
		})
	}
	protocol, err := xdsProtocolOptions()
	if err != nil {
		return nil, err
	}
	c := &clusterv3.Cluster{
		Name:                          XDSClusterName,
		ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: discovery},
		ConnectTimeout:                durationpb.New(DefaultConnectTimeout),
		TypedExtensionProtocolOptions: protocol,
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: XDSClusterName,
			Endpoints:   []*endpointv3.LocalityLbEndpoints{{LbEndpoints: endpoints}},
		},
	}
	if len(servers) > 1 || discovery == clusterv3.Cluster_STRICT_DNS {
		c.HealthChecks = []*corev3.HealthCheck{{
			Timeout:            durationpb.New(xdsHealthTimeout),
			Interval:           durationpb.New(xdsHealthInterval),
			NoTrafficInterval:  durationpb.New(xdsHealthInterval),
			UnhealthyThreshold: wrapperspb.UInt32(1),
			HealthyThreshold:   wrapperspb.UInt32(1),
			HealthChecker:      &corev3.HealthCheck_GrpcHealthCheck_{GrpcHealthCheck: &corev3.HealthCheck_GrpcHealthCheck{}},
		}}
		// No panic routing: with every replica failing its check, Envoy retries the stream
		// later instead of sending it to a replica known to have nothing.
		c.CommonLbConfig = &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{Value: 0}}
	}
	return c, nil
}

// xdsProtocolOptions are the xDS cluster's upstream options: HTTP/2 with keepalive PINGs.
func xdsProtocolOptions() (map[string]*anypb.Any, error) {
	a, err := typedConfig(&httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{ConnectionKeepalive: &corev3.KeepaliveSettings{
						Interval: durationpb.New(xdsKeepaliveInterval),
						Timeout:  durationpb.New(xdsKeepaliveTimeout),
					}},
				},
			},
		},
	})
	if err != nil {
		return nil, err
	}
	return map[string]*anypb.Any{httpProtocolOptionsKey: a}, nil
}

// socketAddress is a TCP address.
func socketAddress(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       host,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}
