package controlplane

import (
	"context"
	"errors"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
)

// sotwStream and deltaStream are the server sides of every xDS service's streams.
type (
	sotwStream  = grpc.BidiStreamingServer[discoveryv3.DiscoveryRequest, discoveryv3.DiscoveryResponse]
	deltaStream = grpc.BidiStreamingServer[discoveryv3.DeltaDiscoveryRequest, discoveryv3.DeltaDiscoveryResponse]
)

// errNoFetch answers the REST-style Fetch calls, which rpcbridge does not serve.
var errNoFetch = errors.New("controlplane: fetching over REST is not supported")

// The per-type services (LDS, RDS, CDS, EDS outside ADS) serve one type each on the same
// collections as ADS; their requests may leave the type out.
type (
	listenerService struct{ a *adsServer }
	routeService    struct{ a *adsServer }
	clusterService  struct{ a *adsServer }
	endpointService struct{ a *adsServer }
)

// register registers ADS and the per-type services on gs.
func (a *adsServer) register(gs *grpc.Server) {
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(gs, a)
	listenerservice.RegisterListenerDiscoveryServiceServer(gs, listenerService{a})
	routeservice.RegisterRouteDiscoveryServiceServer(gs, routeService{a})
	clusterservice.RegisterClusterDiscoveryServiceServer(gs, clusterService{a})
	endpointservice.RegisterEndpointDiscoveryServiceServer(gs, endpointService{a})
}

// StreamListeners serves a state-of-the-world stream of the service's type.
func (s listenerService) StreamListeners(st sotwStream) error {
	return s.a.serveSotW(st, resource.ListenerType)
}

// DeltaListeners serves a delta stream of the service's type.
func (s listenerService) DeltaListeners(st deltaStream) error {
	return s.a.serveDelta(st, resource.ListenerType)
}

// FetchListeners answers that REST is not served.
func (listenerService) FetchListeners(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errNoFetch
}

// StreamRoutes serves a state-of-the-world stream of the service's type.
func (s routeService) StreamRoutes(st sotwStream) error { return s.a.serveSotW(st, resource.RouteType) }

// DeltaRoutes serves a delta stream of the service's type.
func (s routeService) DeltaRoutes(st deltaStream) error {
	return s.a.serveDelta(st, resource.RouteType)
}

// FetchRoutes answers that REST is not served.
func (routeService) FetchRoutes(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errNoFetch
}

// StreamClusters serves a state-of-the-world stream of the service's type.
func (s clusterService) StreamClusters(st sotwStream) error {
	return s.a.serveSotW(st, resource.ClusterType)
}

// DeltaClusters serves a delta stream of the service's type.
func (s clusterService) DeltaClusters(st deltaStream) error {
	return s.a.serveDelta(st, resource.ClusterType)
}

// FetchClusters answers that REST is not served.
func (clusterService) FetchClusters(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errNoFetch
}

// StreamEndpoints serves a state-of-the-world stream of the service's type.
func (s endpointService) StreamEndpoints(st sotwStream) error {
	return s.a.serveSotW(st, resource.EndpointType)
}

// DeltaEndpoints serves a delta stream of the service's type.
func (s endpointService) DeltaEndpoints(st deltaStream) error {
	return s.a.serveDelta(st, resource.EndpointType)
}

// FetchEndpoints answers that REST is not served.
func (endpointService) FetchEndpoints(context.Context, *discoveryv3.DiscoveryRequest) (*discoveryv3.DiscoveryResponse, error) {
	return nil, errNoFetch
}
