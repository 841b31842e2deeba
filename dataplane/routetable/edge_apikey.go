package routetable

// envoy.filters.http.api_key_auth: the filter-level ApiKeyAuth and, per route, the most
// specific ApiKeyAuthPerRoute (the route's, else its virtual host's: Envoy's
// resolveMostSpecificPerFilterConfig), executed by dataplane/apikeyauth.

import (
	"fmt"

	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/dataplane/apikeyauth"
)

// apiKeyAuthFilterName is the filter's name in the connection manager.
const apiKeyAuthFilterName = "envoy.filters.http.api_key_auth"

// apiKeyAuth is the decoded filter.
type apiKeyAuth struct {
	filter *apikeyauth.Filter
}

// newAPIKeyAuth decodes the filter-level configuration.
func newAPIKeyAuth(cfg *anypb.Any) (*apiKeyAuth, error) {
	m := &apikeyv3.ApiKeyAuth{}
	if cfg != nil {
		if err := cfg.UnmarshalTo(m); err != nil {
			return nil, fmt.Errorf("decode ApiKeyAuth: %w", err)
		}
	}
	f, err := apikeyauth.New(m)
	if err != nil {
		return nil, err
	}
	return &apiKeyAuth{filter: f}, nil
}

// step implements edgeFilter.
func (a *apiKeyAuth) step(route, vhost *anypb.Any) (EdgeStep, error) {
	cfg := route
	if cfg == nil {
		cfg = vhost
	}
	var per *apikeyv3.ApiKeyAuthPerRoute
	if cfg != nil {
		per = &apikeyv3.ApiKeyAuthPerRoute{}
		if err := cfg.UnmarshalTo(per); err != nil {
			return nil, fmt.Errorf("decode ApiKeyAuthPerRoute: %w", err)
		}
	}
	return a.filter.Step(per)
}
