package routetable

// Streaming for browsers at the connection manager: WebSocket upgrades allowed by
// upgrade_configs, and envoy.filters.http.grpc_web. The gRPC-Web filter has no settings (its
// config, envoy.extensions.filters.http.grpc_web.v3.GrpcWeb, is empty) and no per-route
// configuration beyond being enabled: a route it runs on is marked GRPCWeb, and the gateway
// converts that route's gRPC-Web requests (package dataplane/grpcweb) after the edge steps,
// where rpcbridge's control plane places the filter (after CORS and authentication, before the
// transcoder and the router).

import (
	"errors"
	"fmt"

	grpcwebv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_web/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/dataplane/hcm"
)

// grpcWebFilterName is the gRPC-Web filter's name in the connection manager.
const grpcWebFilterName = "envoy.filters.http.grpc_web"

// AllowsUpgrade reports whether the route takes an upgrade of that type (lower-cased, as
// hcm.Downstream.Upgrade): its upgrade_configs, else the connection manager's (policy).
func (rt *Route) AllowsUpgrade(policy *hcm.Policy, upgrade string) bool {
	var listener hcm.Upgrades
	if policy != nil {
		listener = policy.Upgrades
	}
	return hcm.Allows(listener, rt.Upgrades, upgrade)
}

// grpcWebFilter is the decoded gRPC-Web filter.
type grpcWebFilter struct{}

// newGRPCWeb decodes the filter-level configuration.
func newGRPCWeb(cfg *anypb.Any) (grpcWebFilter, error) {
	if cfg != nil {
		if err := cfg.UnmarshalTo(&grpcwebv3.GrpcWeb{}); err != nil {
			return grpcWebFilter{}, fmt.Errorf("decode GrpcWeb: %w", err)
		}
	}
	return grpcWebFilter{}, nil
}

// step implements edgeFilter; attachEdge calls routeStep instead.
func (grpcWebFilter) step(_, _ *anypb.Any) (EdgeStep, error) {
	return nil, errors.New("the gRPC-Web filter needs its route")
}

// routeStep implements routeAwareFilter: it marks the route and adds no step.
func (grpcWebFilter) routeStep(rt *Route, _ routeRef, _, _ *anypb.Any) (EdgeStep, error) {
	if rt.Cluster != "" {
		rt.GRPCWeb = true
	}
	return nil, nil
}
