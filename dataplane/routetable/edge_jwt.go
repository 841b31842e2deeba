package routetable

// envoy.filters.http.jwt_authn: the filter-level JwtAuthentication and each route's
// PerRouteConfig (the route's, else its virtual host's: the most specific wins, as Envoy's
// resolveMostSpecificPerFilterConfig does), executed by dataplane/jwtauthn.

import (
	"fmt"

	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/dataplane/jwtauthn"
)

// jwtAuthnFilterName is the filter's name in the connection manager.
const jwtAuthnFilterName = "envoy.filters.http.jwt_authn"

// jwtAuthn is the decoded filter.
type jwtAuthn struct {
	f *jwtauthn.Filter
}

// newJWTAuthn decodes the filter-level configuration.
func newJWTAuthn(cfg *anypb.Any) (*jwtAuthn, error) {
	m := &jwtv3.JwtAuthentication{}
	if cfg != nil {
		if err := cfg.UnmarshalTo(m); err != nil {
			return nil, fmt.Errorf("decode JwtAuthentication: %w", err)
		}
	}
	f, err := jwtauthn.New(m, nil)
	if err != nil {
		return nil, err
	}
	return &jwtAuthn{f: f}, nil
}

// step implements edgeFilter.
func (j *jwtAuthn) step(route, vhost *anypb.Any) (EdgeStep, error) {
	cfg := route
	if cfg == nil {
		cfg = vhost
	}
	if cfg == nil {
		return nil, nil
	}
	per := &jwtv3.PerRouteConfig{}
	if err := cfg.UnmarshalTo(per); err != nil {
		return nil, fmt.Errorf("decode PerRouteConfig: %w", err)
	}
	s, err := j.f.ForRoute(per)
	if err != nil || s == nil {
		return nil, err
	}
	return s, nil
}
