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
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// The stable names of the resources Translate emits.
const (
	// HTTPListenerName is the listener (and its route configuration) for north-south REST.
	HTTPListenerName = "rpcbridge-http"
	// HTTPVirtualHostName is the one virtual host of the HTTP route configuration.
	HTTPVirtualHostName = "rpcbridge"
	// GRPCRoutePrefix prefixes the route configuration name of each proxyless gRPC service.
	GRPCRoutePrefix = "rpcbridge-grpc/"
	// EndpointMetadataKey is the filter_metadata key under which endpoint labels are stored.
	EndpointMetadataKey = "rpcbridge"
)

// Defaults used when Options or the IR leave a value unset.
const (
	DefaultHTTPAddress    = "0.0.0.0"
	DefaultHTTPPort       = 10080
	DefaultConnectTimeout = 5 * time.Second
)

// Options tune Translate.
type Options struct {
	// HTTPAddress is the address the HTTP listener binds; empty means DefaultHTTPAddress.
	HTTPAddress string
	// HTTPPort is the port of the HTTP listener; 0 means DefaultHTTPPort.
	HTTPPort uint32
}

// Resources are the Envoy resources for one gateway state, each list sorted by name.
type Resources struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
}

// Translate turns g into Envoy resources. It is pure: equal inputs give equal outputs. The
// result is validated (ValidateAll on every resource, and cross-references); any problem is
// returned as an error.
func Translate(g ir.Gateway, opts Options) (*Resources, error) {
	if opts.HTTPAddress == "" {
		opts.HTTPAddress = DefaultHTTPAddress
	}
	if opts.HTTPPort == 0 {
		opts.HTTPPort = DefaultHTTPPort
	}
	r := &Resources{}

	httpListener, err := httpListener(opts)
	if err != nil {
		return nil, err
	}
	r.Listeners = append(r.Listeners, httpListener)
	httpRoutes, err := httpRouteConfiguration(g.Routes)
	if err != nil {
		return nil, err
	}
	r.Routes = append(r.Routes, httpRoutes)

	for _, svc := range g.GRPCServices {
		lis, rc, err := proxylessGRPC(svc)
		if err != nil {
			return nil, fmt.Errorf("grpc service %q: %w", svc.Name, err)
		}
		r.Listeners = append(r.Listeners, lis)
		r.Routes = append(r.Routes, rc)
	}

	for _, c := range g.Clusters {
		cl, err := cluster(c)
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

	sortByName(r.Listeners, (*listenerv3.Listener).GetName)
	sortByName(r.Routes, (*routev3.RouteConfiguration).GetName)
	sortByName(r.Clusters, (*clusterv3.Cluster).GetName)
	sortByName(r.Endpoints, (*endpointv3.ClusterLoadAssignment).GetClusterName)

	if err := Validate(r); err != nil {
		return nil, err
	}
	return r, nil
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
