package controlplane

import (
	"fmt"
	"sort"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	dubbov3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/dubbo_proxy/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
)

// Defaults used when Options or the IR leave a value unset.
const (
	DefaultHTTPAddress    = "0.0.0.0"
	DefaultHTTPPort       = 10080
	DefaultConnectTimeout = 5 * time.Second
	DefaultDubboAddress   = "0.0.0.0"
	DefaultDubboPort      = 20880
)

// Options tune Translate.
type Options struct {
	// HTTPAddress is the address the HTTP listener binds; empty means DefaultHTTPAddress.
	HTTPAddress string
	// HTTPPort is the port of the HTTP listener; 0 means DefaultHTTPPort.
	HTTPPort uint32
	// Flavor is the Envoy build the resources are for; "" means FlavorEnvoy.
	Flavor Flavor
	// DubboAddress and DubboPort place the Dubbo ingress listener (only emitted when the gateway
	// has Dubbo clusters); defaults DefaultDubboAddress and DefaultDubboPort.
	DubboAddress string
	DubboPort    uint32
	// Downstream bounds what clients can make the HTTP listener hold (timeouts, buffer limit,
	// HTTP/2 settings); nil means DefaultDownstreamLimits.
	Downstream *DownstreamLimits
	// RPCBridgeGateway makes the resources for rpcbridge's own gateways (the embedded one and
	// `rpcbridge gateway`), not for an Envoy: a route whose API keys include hashed ones then
	// authenticates them with the contract's gatewayv1.APIKeyDigestAuthFilter instead of being
	// withheld, and routes bound to streaming gRPC methods take WebSocket upgrades (streaming.go).
	// It changes nothing else, so without either the output is the flavor's.
	RPCBridgeGateway bool
	// DubboGateways, when enabled, makes FlavorEnvoy route HTTP-to-Dubbo routes to a cluster of
	// rpcbridge gateways instead of leaving them out (dubbogateways.go); other flavors ignore it.
	DubboGateways *DubboGateways
	// MCPServices are globs (path.Match syntax) on the service IDs of routes ("grpc:pkg.Service",
	// "dubbo:iface:version:group") whose gRPC and Dubbo routes rpcbridge's gateways also offer as
	// Model Context Protocol tools: each such route carries a gatewayv1.MCPTool. Empty offers
	// none; resources for an Envoy (RPCBridgeGateway false) never carry tools.
	MCPServices []string
}

// downstream returns the downstream limits in effect.
func (o Options) downstream() DownstreamLimits {
	if o.Downstream == nil {
		return DefaultDownstreamLimits()
	}
	return *o.Downstream
}

// Resources are the Envoy resources for one gateway state, each list sorted by name.
type Resources struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	// DubboRoutes is the DRDS resource of the Dubbo ingress listener; nil without Dubbo clusters.
	DubboRoutes *dubbov3.MultipleRouteConfiguration
	// Diagnostics report what the flavor cannot express (routes left out), sorted.
	Diagnostics []diag.Diagnostic
}

// Translate turns g into Envoy resources of opts.Flavor. It is pure: equal inputs give equal
// outputs. The result is validated (ValidateAll on every resource, and cross-references); any
// problem is returned as an error. What the flavor cannot express is left out and reported in
// Resources.Diagnostics.
func Translate(g ir.Gateway, opts Options) (*Resources, error) {
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	r := &Resources{}
	routes, err := httpRouteConfiguration(g, opts)
	if err != nil {
		return nil, err
	}
	forwarding := g.ForwardingOrDefault()
	if err := applyInternalOnlyHeaders(routes.config, forwarding); err != nil {
		return nil, err
	}
	r.Routes = append(r.Routes, routes.config)
	r.Diagnostics = routes.diagnostics
	httpListener, err := httpListener(opts, routes.filters, forwarding)
	if err != nil {
		return nil, err
	}
	r.Listeners = append(r.Listeners, httpListener)

	for _, svc := range g.GRPCServices {
		lis, rc, err := proxylessGRPC(svc)
		if err != nil {
			return nil, fmt.Errorf("grpc service %q: %w", svc.Name, err)
		}
		r.Listeners = append(r.Listeners, lis)
		r.Routes = append(r.Routes, rc)
	}

	if routes.usesDubboGateways {
		cl, err := dubboGatewaysCluster(*opts.DubboGateways)
		if err != nil {
			return nil, err
		}
		r.Clusters = append(r.Clusters, cl)
	}
	for _, c := range g.Clusters {
		cl, err := cluster(c, opts.Flavor)
		if err != nil {
			return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
		}
		cla, err := loadAssignment(c)
		if err != nil {
			return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
		}
		r.Clusters = append(r.Clusters, cl)
		r.Endpoints = append(r.Endpoints, cla)
	}

	dubbo, err := dubboServices(g.Clusters)
	if err != nil {
		return nil, err
	}
	if len(dubbo) > 0 {
		lis, err := dubboListener(opts)
		if err != nil {
			return nil, err
		}
		r.Listeners = append(r.Listeners, lis)
		r.DubboRoutes = dubboRoutes(dubbo)
	}

	sortByName(r.Listeners, (*listenerv3.Listener).GetName)
	sortByName(r.Routes, (*routev3.RouteConfiguration).GetName)
	sortByName(r.Clusters, (*clusterv3.Cluster).GetName)
	sortByName(r.Endpoints, (*endpointv3.ClusterLoadAssignment).GetClusterName)
	diag.Sort(r.Diagnostics)

	if err := Validate(r); err != nil {
		return nil, err
	}
	return r, nil
}

// withDefaults fills unset options and checks the flavor.
func withDefaults(opts Options) (Options, error) {
	flavor, err := ParseFlavor(string(opts.Flavor))
	if err != nil {
		return opts, err
	}
	opts.Flavor = flavor
	if opts.HTTPAddress == "" {
		opts.HTTPAddress = DefaultHTTPAddress
	}
	if opts.HTTPPort == 0 {
		opts.HTTPPort = DefaultHTTPPort
	}
	if opts.DubboAddress == "" {
		opts.DubboAddress = DefaultDubboAddress
	}
	if opts.DubboPort == 0 {
		opts.DubboPort = DefaultDubboPort
	}
	if err := opts.downstream().validate(); err != nil {
		return opts, err
	}
	return opts, nil
}

// sortByName sorts items by the name name returns, keeping equal names in input order.
func sortByName[T any](items []T, name func(T) string) {
	sort.SliceStable(items, func(i, j int) bool { return name(items[i]) < name(items[j]) })
}

// adsConfigSource is the config source that says "over the same ADS stream, xDS v3".
func adsConfigSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

// typedConfig packs m into an Any with deterministic bytes, so that equal resources marshal to
// equal bytes (and so get equal versions).
func typedConfig(m proto.Message) (*anypb.Any, error) {
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		return nil, fmt.Errorf("packing %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return a, nil
}
