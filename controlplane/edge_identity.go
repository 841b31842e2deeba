package controlplane

// The identity headers of an edge policy: removed from the client's request before
// authentication, so that only the authentication filters can set them, and the client-address
// header set from the connection. Envoy: envoy.filters.http.header_mutation with a per-route
// HeaderMutationPerRoute, whose append values take the router's header formatters
// (source/common/http/header_mutation.cc: AppendMutation is a Router::HeadersToAddEntry).

import (
	"fmt"
	"slices"

	mutationv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// clientAddressFormatter is the header value Envoy replaces by the trusted client address
// without its port; the gateway executes the same operator (dataplane/routetable).
const clientAddressFormatter = "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"

// headerMutationFilter is the HTTP filter that removes the identity headers.
const headerMutationFilter = "envoy.filters.http.header_mutation"

// identityRemoval is the per-route header_mutation config that removes p's identity headers
// and then sets its client-address header; nil when it has none.
func identityRemoval(p *ir.EdgePolicy) (*headermutationv3.HeaderMutationPerRoute, error) {
	if len(p.IdentityHeaders) == 0 {
		return nil, nil
	}
	m := &headermutationv3.Mutations{}
	for _, h := range p.IdentityHeaders {
		if !httpMethodToken.MatchString(h) {
			return nil, fmt.Errorf("identity header %q is not a header name", h)
		}
		m.RequestMutations = append(m.RequestMutations, &mutationv3.HeaderMutation{
			Action: &mutationv3.HeaderMutation_Remove{Remove: h},
		})
	}
	if h := p.ClientAddressHeader; h != "" {
		if !slices.Contains(p.IdentityHeaders, h) {
			return nil, fmt.Errorf("client address header %q is not one of the identity headers", h)
		}
		m.RequestMutations = append(m.RequestMutations, &mutationv3.HeaderMutation{
			Action: &mutationv3.HeaderMutation_Append{Append: &corev3.HeaderValueOption{
				Header:       &corev3.HeaderValue{Key: h, Value: clientAddressFormatter},
				AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
			}},
		})
	}
	return &headermutationv3.HeaderMutationPerRoute{Mutations: m}, nil
}

// headerMutationHTTPFilter is the connection manager's header_mutation filter: it does nothing
// by itself; the routes' per-route configs say what it removes.
func headerMutationHTTPFilter() (*hcmv3.HttpFilter, error) {
	cfg, err := typedConfig(&headermutationv3.HeaderMutation{})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{Name: headerMutationFilter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}}, nil
}
