package routetable

// envoy.filters.http.api_key_auth: the filter-level ApiKeyAuth and, per route, the most
// specific ApiKeyAuthPerRoute (the route's, else its virtual host's: Envoy's
// resolveMostSpecificPerFilterConfig), executed by dataplane/apikeyauth. Also the contract's
// filter of hashed keys (gatewayv1.APIKeyDigestAuthFilter): the same per-route config whose keys
// are SHA-256 digests; its filter-level config is the contract's APIKeyDigestAuth, and one of an
// algorithm or version this gateway does not read withholds the routes that enable the filter.

import (
	"errors"
	"fmt"

	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"google.golang.org/protobuf/types/known/anypb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/dataplane/apikeyauth"
)

// apiKeyAuthFilterName is the filter's name in the connection manager.
const apiKeyAuthFilterName = "envoy.filters.http.api_key_auth"

// apiKeyAuth is the decoded filter.
type apiKeyAuth struct {
	filter *apikeyauth.Filter
	// unsupported, when set, is why every route enabling the filter is withheld.
	unsupported string
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

// newAPIKeyDigestAuth decodes the filter-level configuration of the digest filter.
func newAPIKeyDigestAuth(cfg *anypb.Any) (*apiKeyAuth, error) {
	if _, err := gatewayv1.UnmarshalAPIKeyDigestAuth(cfg); err != nil {
		var unsupported *gatewayv1.UnsupportedError
		if errors.As(err, &unsupported) {
			return &apiKeyAuth{unsupported: unsupported.Reason}, nil
		}
		return nil, err
	}
	f, err := apikeyauth.NewDigest(nil)
	if err != nil {
		return nil, err
	}
	return &apiKeyAuth{filter: f}, nil
}

// step implements edgeFilter.
func (a *apiKeyAuth) step(route, vhost *anypb.Any) (EdgeStep, error) {
	if a.unsupported != "" {
		return nil, errors.New(a.unsupported)
	}
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
