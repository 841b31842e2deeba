// Package xdsfixture builds Envoy resources in exactly the shapes rpcbridge's control plane
// emits, for the embedded gateway's tests.
package xdsfixture

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// mustAny packs a message; the messages here are always packable.
func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}

// Listener is an HTTP listener whose HCM takes its routes over RDS (ADS) from routeConfig.
func Listener(name, routeConfig string) *listenerv3.Listener {
	return ListenerWithHCM(name, &hcmv3.HttpConnectionManager{
		StatPrefix:       name,
		UseRemoteAddress: wrapperspb.Bool(true),
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource: &corev3.ConfigSource{
				ResourceApiVersion:    corev3.ApiVersion_V3,
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			},
			RouteConfigName: routeConfig,
		}},
		HttpFilters: []*hcmv3.HttpFilter{{
			Name:       "envoy.filters.http.router",
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&routerv3.Router{})},
		}},
	})
}

// ListenerWithHCM is a listener with one filter chain holding the given HCM.
func ListenerWithHCM(name string, hcm *hcmv3.HttpConnectionManager) *listenerv3.Listener {
	return &listenerv3.Listener{
		Name: name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 10080},
		}}},
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{{
				Name:       "envoy.filters.network.http_connection_manager",
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(hcm)},
			}},
		}},
	}
}

// APIListener is a proxyless gRPC listener, which the gateway must ignore.
func APIListener(name, routeConfig string) *listenerv3.Listener {
	hcm := Listener(name, routeConfig).GetFilterChains()[0].GetFilters()[0].GetTypedConfig()
	return &listenerv3.Listener{Name: name, ApiListener: &listenerv3.ApiListener{ApiListener: hcm}}
}

// RouteConfig is a route configuration with the given virtual hosts.
func RouteConfig(name string, hosts ...*routev3.VirtualHost) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{Name: name, VirtualHosts: hosts}
}

// VirtualHost is a virtual host serving domains with routes in order.
func VirtualHost(name string, domains []string, routes ...*routev3.Route) *routev3.VirtualHost {
	return &routev3.VirtualHost{Name: name, Domains: domains, Routes: routes}
}

// RouteOption adjusts a route built by PrefixRoute or PathRoute.
type RouteOption func(*routev3.Route)

// PrefixRoute forwards requests whose path starts with prefix to cluster.
func PrefixRoute(prefix, cluster string, opts ...RouteOption) *routev3.Route {
	return route(&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}}, cluster, opts)
}

// PathRoute forwards requests whose path is exactly path to cluster.
func PathRoute(path, cluster string, opts ...RouteOption) *routev3.Route {
	return route(&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: path}}, cluster, opts)
}

func route(match *routev3.RouteMatch, cluster string, opts []RouteOption) *routev3.Route {
	r := &routev3.Route{
		Match:  match,
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster}}},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Method requires the :method header to equal method exactly.
func Method(method string) RouteOption {
	return func(r *routev3.Route) {
		r.Match.Headers = append(r.Match.Headers, &routev3.HeaderMatcher{
			Name: ":method",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_Exact{Exact: method},
			}},
		})
	}
}

// MethodRegex requires the :method header to match a safe_regex such as ^(GET|POST)$.
func MethodRegex(regex string) RouteOption {
	return func(r *routev3.Route) {
		r.Match.Headers = append(r.Match.Headers, &routev3.HeaderMatcher{
			Name: ":method",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: regex}},
			}},
		})
	}
}

// PrefixRewrite sets the route's prefix_rewrite.
func PrefixRewrite(prefix string) RouteOption {
	return func(r *routev3.Route) { r.GetRoute().PrefixRewrite = prefix }
}

// Timeout sets the route's timeout (0 disables it).
func Timeout(d time.Duration) RouteOption {
	return func(r *routev3.Route) { r.GetRoute().Timeout = durationpb.New(d) }
}

// TypedMetadata sets metadata.typed_filter_metadata[key] on the route.
func TypedMetadata(key string, value *anypb.Any) RouteOption {
	return func(r *routev3.Route) {
		if r.Metadata == nil {
			r.Metadata = &corev3.Metadata{}
		}
		if r.Metadata.TypedFilterMetadata == nil {
			r.Metadata.TypedFilterMetadata = map[string]*anypb.Any{}
		}
		r.Metadata.TypedFilterMetadata[key] = value
	}
}

// FilterMetadata sets metadata.filter_metadata[key] on the route.
func FilterMetadata(key string, value *structpb.Struct) RouteOption {
	return func(r *routev3.Route) {
		if r.Metadata == nil {
			r.Metadata = &corev3.Metadata{}
		}
		if r.Metadata.FilterMetadata == nil {
			r.Metadata.FilterMetadata = map[string]*structpb.Struct{}
		}
		r.Metadata.FilterMetadata[key] = value
	}
}

// NeverSentRetry is the retry policy rpcbridge gives its routes: try another endpoint (never one
// tried) when a request did not reach its endpoint, up to twice.
func NeverSentRetry() *routev3.RetryPolicy {
	return &routev3.RetryPolicy{
		RetryOn:            "connect-failure,refused-stream,reset-before-request",
		NumRetries:         wrapperspb.UInt32(2),
		RetryHostPredicate: []*routev3.RetryPolicy_RetryHostPredicate{{Name: "envoy.retry_host_predicates.previous_hosts"}},
	}
}

// Retry sets the route's retry policy.
func Retry(p *routev3.RetryPolicy) RouteOption {
	return func(r *routev3.Route) { r.GetRoute().RetryPolicy = p }
}

// Cluster is an EDS cluster over ADS; http2 adds explicit HTTP/2 protocol options.
func Cluster(name, edsServiceName string, http2 bool) *clusterv3.Cluster {
	c := &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{
			EdsConfig: &corev3.ConfigSource{
				ResourceApiVersion:    corev3.ApiVersion_V3,
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			},
			ServiceName: edsServiceName,
		},
		ConnectTimeout: durationpb.New(2 * time.Second),
		LbPolicy:       clusterv3.Cluster_ROUND_ROBIN,
	}
	if http2 {
		c.TypedExtensionProtocolOptions = map[string]*anypb.Any{
			"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": mustAny(&upstreamhttpv3.HttpProtocolOptions{
				UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{
					ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
						ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
							Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
						},
					},
				},
			}),
		}
	}
	return c
}

// Endpoint is one endpoint of a load assignment.
type Endpoint struct {
	Host   string
	Port   uint32
	Weight uint32 // 0 leaves load_balancing_weight unset
	Health corev3.HealthStatus
}

// Assignment is a ClusterLoadAssignment with all endpoints in one locality.
func Assignment(name string, endpoints ...Endpoint) *endpointv3.ClusterLoadAssignment {
	locality := &endpointv3.LocalityLbEndpoints{Locality: &corev3.Locality{Zone: "local"}}
	for _, e := range endpoints {
		lb := &endpointv3.LbEndpoint{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
					Address: e.Host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: e.Port},
				}}},
			}},
			HealthStatus: e.Health,
		}
		if e.Weight > 0 {
			lb.LoadBalancingWeight = wrapperspb.UInt32(e.Weight)
		}
		locality.LbEndpoints = append(locality.LbEndpoints, lb)
	}
	return &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{locality}}
}
