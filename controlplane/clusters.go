package controlplane

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// httpProtocolOptionsKey is the typed_extension_protocol_options key for upstream HTTP options:
// Envoy keys them by the options' type name.
var httpProtocolOptionsKey = string((&httpv3.HttpProtocolOptions{}).ProtoReflect().Descriptor().FullName())

// cluster translates one IR cluster into an EDS cluster fed over ADS.
// Dubbo clusters of FlavorHigress get the Dubbo TCP upstream that the HTTP-to-Dubbo transcoder
// needs.
func cluster(c ir.Cluster, flavor Flavor) (*clusterv3.Cluster, error) {
	if c.Name == "" {
		return nil, errors.New("empty name")
	}
	timeout := c.ConnectTimeout
	switch {
	case timeout < 0:
		return nil, fmt.Errorf("negative connect timeout %s", timeout)
	case timeout == 0:
		timeout = DefaultConnectTimeout
	}
	out := &clusterv3.Cluster{
		Name:                 c.Name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{
			EdsConfig:   adsConfigSource(),
			ServiceName: c.Name,
		},
		ConnectTimeout: durationpb.New(timeout),
	}
	if err := upstreamPolicy(out, c); err != nil {
		return nil, err
	}
	switch c.Protocol {
	case ir.UpstreamHTTP2:
		opts, err := http2ProtocolOptions(perEndpointHTTP2Streams(c))
		if err != nil {
			return nil, err
		}
		out.TypedExtensionProtocolOptions = opts
	case ir.UpstreamDubbo:
		if flavor == FlavorHigress {
			up, err := dubboTCPUpstream()
			if err != nil {
				return nil, err
			}
			out.UpstreamConfig = up
		}
	case ir.UpstreamHTTP1, "":
		// Plain clusters.
	default:
		return nil, fmt.Errorf("unknown upstream protocol %q", c.Protocol)
	}
	return out, nil
}

// http2ProtocolOptions are the typed_extension_protocol_options that make a cluster speak HTTP/2,
// with at most maxStreams concurrent streams per connection when it is not 0.
func http2ProtocolOptions(maxStreams uint32) (map[string]*anypb.Any, error) {
	h2 := &corev3.Http2ProtocolOptions{}
	if maxStreams > 0 {
		h2.MaxConcurrentStreams = wrapperspb.UInt32(maxStreams)
	}
	a, err := typedConfig(&httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: h2,
				},
			},
		},
	})
	if err != nil {
		return nil, err
	}
	return map[string]*anypb.Any{httpProtocolOptionsKey: a}, nil
}

// localityKey groups endpoints.
type localityKey struct{ region, zone string }

// loadAssignment is the EDS resource of cluster c; it exists even when c has no endpoints.
func loadAssignment(c ir.Cluster) (*endpointv3.ClusterLoadAssignment, error) {
	groups := map[localityKey][]*endpointv3.LbEndpoint{}
	weights := map[localityKey]uint64{}
	seen := map[string]bool{}
	for _, e := range c.Endpoints {
		addr := e.Address + ":" + strconv.FormatUint(uint64(e.Port), 10)
		if e.Address == "" || e.Port == 0 || e.Port > math.MaxUint16 {
			return nil, fmt.Errorf("endpoint %q: invalid address or port", addr)
		}
		if seen[addr] {
			continue
		}
		seen[addr] = true
		lb, err := lbEndpoint(e)
		if err != nil {
			return nil, fmt.Errorf("endpoint %q: %w", addr, err)
		}
		k := localityKey{e.Region, e.Zone}
		groups[k] = append(groups[k], lb)
		weights[k] += uint64(lb.GetLoadBalancingWeight().GetValue())
	}
	keys := make([]localityKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b localityKey) int {
		return cmp.Or(cmp.Compare(a.region, b.region), cmp.Compare(a.zone, b.zone))
	})
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: c.Name}
	var total uint64
	for _, k := range keys {
		total += weights[k]
		if total > math.MaxUint32 {
			return nil, errors.New("the sum of endpoint weights exceeds 2^32-1")
		}
		eps := groups[k]
		slices.SortStableFunc(eps, func(a, b *endpointv3.LbEndpoint) int {
			sa, sb := a.GetEndpoint().GetAddress().GetSocketAddress(), b.GetEndpoint().GetAddress().GetSocketAddress()
			return cmp.Or(cmp.Compare(sa.GetAddress(), sb.GetAddress()), cmp.Compare(sa.GetPortValue(), sb.GetPortValue()))
		})
		cla.Endpoints = append(cla.Endpoints, &endpointv3.LocalityLbEndpoints{
			// Always present, also when empty: grpc-go rejects a locality without one.
			Locality:            &corev3.Locality{Region: k.region, Zone: k.zone},
			LbEndpoints:         eps,
			LoadBalancingWeight: wrapperspb.UInt32(uint32(weights[k])),
		})
	}
	return cla, nil
}

// lbEndpoint translates one IR endpoint.
func lbEndpoint(e ir.Endpoint) (*endpointv3.LbEndpoint, error) {
	weight := max(e.Weight, 1)
	health := corev3.HealthStatus_UNHEALTHY
	if e.Healthy {
		health = corev3.HealthStatus_HEALTHY
	}
	lb := &endpointv3.LbEndpoint{
		HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
			Address: socketAddress(e.Address, e.Port),
		}},
		HealthStatus:        health,
		LoadBalancingWeight: wrapperspb.UInt32(weight),
	}
	if len(e.Labels) > 0 {
		fields := make(map[string]any, len(e.Labels))
		for k, v := range e.Labels {
			fields[k] = v
		}
		labels, err := structpb.NewStruct(fields)
		if err != nil {
			return nil, fmt.Errorf("labels: %w", err)
		}
		lb.Metadata = &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{gatewayv1.EndpointLabelsKey: labels}}
	}
	return lb, nil
}
