package controlplane

// The jwt block of an edge policy in Envoy terms: envoy.filters.http.jwt_authn. Every policy's
// providers go into the one JwtAuthentication of the connection manager, named
// "<policy>/<provider>", with a requirement_map entry named after the policy; each route of the
// policy selects it with a per-route PerRouteConfig.requirement_name. Routes without a JWT
// policy carry no per-route config and, since no rules are emitted, are not checked. The keys
// are inline (local_jwks), as the stage that read or fetched them gave them, so that Envoy and
// the embedded gateway verify with the same keys and neither fetches anything.

import (
	"fmt"
	"maps"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// jwtAuthnFilter is the HTTP filter that verifies tokens.
const jwtAuthnFilter = "envoy.filters.http.jwt_authn"

// jwtRoute is what a route's JWT block adds to the connection manager's filter.
type jwtRoute struct {
	requirementName string
	requirement     *jwtv3.JwtRequirement
	providers       map[string]*jwtv3.JwtProvider
}

// translateJWT translates p's JWT block: the per-route config and what the filter needs; nil
// when the policy has none.
func translateJWT(p *ir.EdgePolicy) (*jwtv3.PerRouteConfig, *jwtRoute, error) {
	if p.JWT == nil {
		return nil, nil, nil
	}
	if len(p.JWT.Providers) == 0 {
		return nil, nil, fmt.Errorf("jwt: no providers")
	}
	jr := &jwtRoute{requirementName: p.Name, providers: map[string]*jwtv3.JwtProvider{}}
	var reqs []*jwtv3.JwtRequirement
	for _, pr := range p.JWT.Providers {
		if pr.JWKS == "" {
			return nil, nil, fmt.Errorf("jwt provider %q has no key set", pr.Name)
		}
		name := p.Name + "/" + pr.Name
		if _, dup := jr.providers[name]; dup {
			return nil, nil, fmt.Errorf("jwt provider %q is defined twice", pr.Name)
		}
		jp, err := jwtProvider(pr)
		if err != nil {
			return nil, nil, fmt.Errorf("jwt provider %q: %w", pr.Name, err)
		}
		jr.providers[name] = jp
		reqs = append(reqs, &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: name}})
	}
	if p.JWT.AllowMissing {
		// Envoy's verifier.cc: an allow_missing inside requires_any checks the tokens of the
		// list's providers, passes a request without any and fails one with a bad token.
		reqs = append(reqs, &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_AllowMissing{AllowMissing: &emptypb.Empty{}}})
	}
	if len(reqs) == 1 {
		jr.requirement = reqs[0]
	} else {
		jr.requirement = &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_RequiresAny{
			RequiresAny: &jwtv3.JwtRequirementOrList{Requirements: reqs}}}
	}
	per := &jwtv3.PerRouteConfig{RequirementSpecifier: &jwtv3.PerRouteConfig_RequirementName{RequirementName: p.Name}}
	return per, jr, nil
}

// jwtCacheSize is how many verified tokens each provider keeps (Envoy's default is 100; a
// gateway serves many clients).
const jwtCacheSize = 1000

// jwtProvider is the Envoy provider of pr.
func jwtProvider(pr ir.JWTProvider) (*jwtv3.JwtProvider, error) {
	jp := &jwtv3.JwtProvider{
		Issuer:    pr.Issuer,
		Audiences: slices.Clone(pr.Audiences),
		JwksSourceSpecifier: &jwtv3.JwtProvider_LocalJwks{LocalJwks: &corev3.DataSource{
			Specifier: &corev3.DataSource_InlineString{InlineString: pr.JWKS}}},
		Forward:          pr.Forward,
		FromParams:       slices.Clone(pr.FromParams),
		FromCookies:      slices.Clone(pr.FromCookies),
		ClockSkewSeconds: pr.ClockSkewSeconds,
		// Envoy's jwt_cache.cc: verified tokens are kept (up to jwtCacheSize, each at most
		// 4 KiB), so a client's next requests skip parsing and the signature check; the
		// issuer, time and audience checks run on every request. The gateway does the same.
		JwtCacheConfig: &jwtv3.JwtCacheConfig{JwtCacheSize: jwtCacheSize},
	}
	for _, h := range pr.FromHeaders {
		if !httpMethodToken.MatchString(h.Name) {
			return nil, fmt.Errorf("%q is not a header name", h.Name)
		}
		jp.FromHeaders = append(jp.FromHeaders, &jwtv3.JwtHeader{Name: h.Name, ValuePrefix: h.ValuePrefix})
	}
	for _, c := range pr.ClaimHeaders {
		if !httpMethodToken.MatchString(c.Header) || c.Claim == "" {
			return nil, fmt.Errorf("claim %q to header %q is not a claim header", c.Claim, c.Header)
		}
		jp.ClaimToHeaders = append(jp.ClaimToHeaders, &jwtv3.JwtClaimToHeader{HeaderName: c.Header, ClaimName: c.Claim})
	}
	return jp, nil
}

// jwtListener accumulates every route's providers and requirements.
type jwtListener struct {
	providers    map[string]*jwtv3.JwtProvider
	requirements map[string]*jwtv3.JwtRequirement
}

// add merges one route's JWT block.
func (l *jwtListener) add(r *jwtRoute) {
	if r == nil {
		return
	}
	if l.providers == nil {
		l.providers, l.requirements = map[string]*jwtv3.JwtProvider{}, map[string]*jwtv3.JwtRequirement{}
	}
	maps.Copy(l.providers, r.providers)
	l.requirements[r.requirementName] = r.requirement
}

// httpFilter is the connection manager's jwt_authn filter; nil when no route uses one. CORS
// preflights bypass it (bypass_cors_preflight): they carry no credentials, and the CORS filter
// before it answers them.
func (l *jwtListener) httpFilter() (*hcmv3.HttpFilter, error) {
	if len(l.providers) == 0 {
		return nil, nil
	}
	cfg, err := typedConfig(&jwtv3.JwtAuthentication{
		Providers: l.providers, RequirementMap: l.requirements, BypassCorsPreflight: true,
	})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{Name: jwtAuthnFilter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}}, nil
}
