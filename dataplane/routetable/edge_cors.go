package routetable

// envoy.filters.http.cors: the filter-level config (envoy.extensions.filters.http.cors.v3.Cors)
// has no settings; the route's and its virtual host's CorsPolicy say what it does, executed by
// package cors. As in Envoy's filter, a route without a route entry (a direct response) is
// passed over (cors_filter.cc decodeHeaders).

import (
	"errors"
	"fmt"

	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/dataplane/cors"
)

// corsFilterName is the filter's name in the connection manager.
const corsFilterName = "envoy.filters.http.cors"

// corsFilter is the decoded filter.
type corsFilter struct{}

// newCORS decodes the filter-level configuration.
func newCORS(cfg *anypb.Any) (corsFilter, error) {
	if cfg != nil {
		if err := cfg.UnmarshalTo(&corsv3.Cors{}); err != nil {
			return corsFilter{}, fmt.Errorf("decode Cors: %w", err)
		}
	}
	return corsFilter{}, nil
}

// step implements edgeFilter; attachEdge calls routeStep instead.
func (corsFilter) step(_, _ *anypb.Any) (EdgeStep, error) {
	return nil, errors.New("the CORS filter needs its route")
}

// routeStep implements routeAwareFilter.
func (corsFilter) routeStep(rt *Route, _ routeRef, route, vhost *anypb.Any) (EdgeStep, error) {
	if rt.Cluster == "" {
		return nil, nil
	}
	var policies []*corsv3.CorsPolicy
	for _, cfg := range []*anypb.Any{route, vhost} {
		if cfg == nil {
			continue
		}
		p := &corsv3.CorsPolicy{}
		if err := cfg.UnmarshalTo(p); err != nil {
			return nil, fmt.Errorf("decode CorsPolicy: %w", err)
		}
		policies = append(policies, p)
	}
	f, err := cors.New(func(m *matcherv3.StringMatcher) (func(string) bool, error) { return compileStringMatcher(m) }, policies...)
	if err != nil || f == nil {
		return nil, err
	}
	return f, nil
}
