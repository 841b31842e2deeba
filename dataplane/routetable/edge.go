package routetable

// The edge filters of the connection manager: the HTTP filters that run after routing and before
// the transcoders and the router (CORS, JWT, API keys, local rate limits). The gateway executes
// their Envoy configuration, filter-level and per-route (typed_per_filter_config), with the
// semantics Envoy documents for each. A filter the gateway cannot execute fails closed: an
// unknown filter that is not is_optional withholds every route, and a route whose per-filter
// configuration does not decode is withheld.

import (
	"fmt"
	"net/http"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
)

// EdgeStep is one edge filter's work on a request of one route. Serve either answers the request
// itself and returns false, or returns the request to continue with (its headers possibly
// changed) and true; it may set response headers that every answer of the request carries.
type EdgeStep interface {
	Serve(w http.ResponseWriter, r *http.Request) (*http.Request, bool)
}

// Answering is implemented by an EdgeStep that answers some requests itself: ResponseDetails is
// Envoy's %RESPONSE_CODE_DETAILS% of those answers ("cors_response", "local_rate_limited"), for
// the access log.
type Answering interface {
	ResponseDetails() string
}

// edgeFilter is a decoded edge filter of the connection manager.
type edgeFilter interface {
	// step is the filter's step for a route, given the route's and its virtual host's
	// per-filter configuration under the filter's name (either may be nil, then the filter-level
	// configuration applies alone); a nil step means the filter does nothing for the route.
	step(route, vhost *anypb.Any) (EdgeStep, error)
}

// routeAwareFilter is an edgeFilter whose step also depends on the route itself; ref names the
// route in its table, for state that outlives a table.
type routeAwareFilter interface {
	routeStep(rt *Route, ref routeRef, route, vhost *anypb.Any) (EdgeStep, error)
}

// routeRef names a route in its table: its virtual host's name and its own (or its index when it
// has none).
type routeRef struct{ vhost, route string }

// passThroughFilters are connection-manager filters the gateway runs elsewhere: the router and
// the gRPC-JSON transcoder, configured per route (transcoders.go). (Higress's Dubbo transcoder is
// emitted is_optional; the gateway reads the contract's DubboRoute instead, dubbo.go.)
var passThroughFilters = map[string]bool{
	wellknown.Router:             true,
	wellknown.GRPCJSONTranscoder: true,
}

// namedEdgeFilter is an edge filter with its name in the connection manager.
type namedEdgeFilter struct {
	name   string
	filter edgeFilter
	// disabled: the filter runs only on routes whose (or whose virtual host's)
	// typed_per_filter_config names it, as Envoy enables a disabled filter for such a route.
	disabled bool
}

// decodeEdgeFilters decodes the connection manager's edge filters in their order. unsupported
// names the first filter the gateway cannot execute that is not is_optional (Envoy skips an
// optional filter it does not know; the gateway does the same).
func decodeEdgeFilters(m *hcmv3.HttpConnectionManager, lims *limiterSet) (filters []namedEdgeFilter, unsupported string, err error) {
	for _, f := range m.GetHttpFilters() {
		if passThroughFilters[f.GetName()] {
			continue
		}
		ef, known, err := newEdgeFilter(f, lims)
		if err != nil {
			return nil, "", fmt.Errorf("http filter %q: %w", f.GetName(), err)
		}
		if !known {
			if !f.GetIsOptional() && !f.GetDisabled() && unsupported == "" {
				unsupported = f.GetName()
			}
			if !f.GetIsOptional() && f.GetDisabled() {
				// Routes that enable it are withheld (attachEdge).
				filters = append(filters, namedEdgeFilter{name: f.GetName(), disabled: true})
			}
			continue
		}
		filters = append(filters, namedEdgeFilter{name: f.GetName(), filter: ef, disabled: f.GetDisabled()})
	}
	return filters, unsupported, nil
}

// newEdgeFilter decodes one connection-manager filter the gateway executes; known is false for a
// filter it does not.
func newEdgeFilter(f *hcmv3.HttpFilter, lims *limiterSet) (ef edgeFilter, known bool, err error) {
	switch f.GetName() {
	case headerMutationFilterName:
		ef, err = newHeaderMutation(f.GetTypedConfig())
		return ef, true, err
	case corsFilterName:
		ef, err = newCORS(f.GetTypedConfig())
		return ef, true, err
	case localRateLimitFilterName:
		ef, err = newLocalRateLimit(f.GetTypedConfig(), lims)
		return ef, true, err
	case jwtAuthnFilterName:
		ef, err = newJWTAuthn(f.GetTypedConfig())
		return ef, true, err
	case apiKeyAuthFilterName:
		ef, err = newAPIKeyAuth(f.GetTypedConfig())
		return ef, true, err
	case gatewayv1.APIKeyDigestAuthFilter:
		ef, err = newAPIKeyDigestAuth(f.GetTypedConfig())
		return ef, true, err
	case grpcWebFilterName:
		ef, err = newGRPCWeb(f.GetTypedConfig())
		return ef, true, err
	}
	return nil, false, nil
}

// attachEdge gives every route of hosts the steps of the connection manager's edge filters, or
// withholds it when they cannot be made. lims keeps the rate limiters of the table being built.
func attachEdge(hosts []*virtualHost, m *hcmv3.HttpConnectionManager, lims *limiterSet) error {
	filters, unsupported, err := decodeEdgeFilters(m, lims)
	if err != nil {
		return err
	}
	for _, vh := range hosts {
		for i, route := range vh.routes {
			if route.Withheld != "" {
				continue
			}
			if unsupported != "" {
				route.Withheld = fmt.Sprintf("the connection manager runs HTTP filter %q, which this gateway does not execute", unsupported)
				continue
			}
			for _, f := range filters {
				if f.disabled && route.perFilter[f.name] == nil && vh.perFilter[f.name] == nil {
					continue
				}
				if f.filter == nil {
					route.Withheld = fmt.Sprintf("the route enables HTTP filter %q, which this gateway does not execute", f.name)
					route.Edge = nil
					break
				}
				var s EdgeStep
				if ra, ok := f.filter.(routeAwareFilter); ok {
					s, err = ra.routeStep(route, refOf(vh, i, route), route.perFilter[f.name], vh.perFilter[f.name])
				} else {
					s, err = f.filter.step(route.perFilter[f.name], vh.perFilter[f.name])
				}
				if err != nil {
					route.Withheld = fmt.Sprintf("%s: %v", f.name, err)
					route.Edge = nil
					break
				}
				if s != nil {
					route.Edge = append(route.Edge, s)
				}
			}
		}
	}
	return nil
}

// refOf is the routeRef of route i of vh.
func refOf(vh *virtualHost, i int, r *Route) routeRef {
	if r.Name == "" {
		return routeRef{vh.name, fmt.Sprintf("#%d", i)}
	}
	return routeRef{vh.name, r.Name}
}
