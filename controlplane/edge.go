package controlplane

// Edge policies in Envoy terms. Each block of an ir.EdgePolicy becomes the per-route
// typed_per_filter_config of the Envoy HTTP filter that has its semantics, plus what that filter
// needs at the connection manager (JWT providers, ...). The filters run in edgeFilterOrder,
// before the transcoders and the router. A policy that cannot be translated withholds its route:
// the route becomes a direct 503 answer (fail closed), never a route without its policy.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
)

// edgeRoute is what one route's policy adds: its per-filter configs and the connection manager
// filters they rely on. It is merged into the listener's edgeListener only when the whole policy
// translated, so a failed policy leaves nothing behind.
type edgeRoute struct {
	// perFilter are the route's typed_per_filter_config entries, by filter name.
	perFilter map[string]*anypb.Any
	// jwt is what the route's JWT block needs of the jwt_authn filter; nil without one.
	jwt *jwtRoute
}

// edgeListener accumulates, over every route, what the connection manager's edge filters need.
type edgeListener struct {
	// headerMutation: some route removes identity headers.
	headerMutation bool
	// cors, localRateLimit: some route has a CORS policy, a local rate limit.
	cors, localRateLimit bool
	// jwt: every route's JWT providers and requirements.
	jwt jwtListener
	// apiKey: some route authenticates API keys; apiKeyDigest: some route authenticates
	// hashed API keys (rpcbridge gateways only).
	apiKey, apiKeyDigest bool
}

// translateEdge translates a route's policy for an Envoy or, when rpcbridgeGateway, for
// rpcbridge's own gateways (Options.RPCBridgeGateway); nil policy gives an empty edgeRoute.
func translateEdge(p *ir.EdgePolicy, rpcbridgeGateway bool) (edgeRoute, error) {
	out := edgeRoute{perFilter: map[string]*anypb.Any{}}
	if p == nil {
		return out, nil
	}
	removal, err := identityRemoval(p)
	if err != nil {
		return out, err
	}
	if err := out.set(headerMutationFilter, removal); err != nil {
		return out, err
	}
	cors, err := corsPolicy(p)
	if err != nil {
		return out, err
	}
	if err := out.set(corsFilter, cors); err != nil {
		return out, err
	}
	limit, err := localRateLimit(p)
	if err != nil {
		return out, err
	}
	if err := out.set(localRateLimitFilter, limit); err != nil {
		return out, err
	}
	perJWT, jr, err := translateJWT(p)
	if err != nil {
		return out, err
	}
	if err := out.set(jwtAuthnFilter, perJWT); err != nil {
		return out, err
	}
	out.jwt = jr
	apiKeyFilter, apiKey, err := apiKeyPerRoute(p, rpcbridgeGateway)
	if err != nil {
		return out, err
	}
	if err := out.set(apiKeyFilter, apiKey); err != nil {
		return out, err
	}
	return out, nil
}

// set adds a filter's per-route config; a nil cfg adds nothing.
func (e edgeRoute) set(filter string, cfg proto.Message) error {
	if cfg == nil || reflect.ValueOf(cfg).IsNil() {
		return nil
	}
	a, err := typedConfig(cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", filter, err)
	}
	e.perFilter[filter] = a
	return nil
}

// add merges one route's translated policy.
func (l *edgeListener) add(r edgeRoute) {
	_, mutates := r.perFilter[headerMutationFilter]
	l.headerMutation = l.headerMutation || mutates
	_, cors := r.perFilter[corsFilter]
	l.cors = l.cors || cors
	_, limits := r.perFilter[localRateLimitFilter]
	l.localRateLimit = l.localRateLimit || limits
	l.jwt.add(r.jwt)
	_, apiKey := r.perFilter[apiKeyAuthFilter]
	l.apiKey = l.apiKey || apiKey
	_, apiKeyDigest := r.perFilter[gatewayv1.APIKeyDigestAuthFilter]
	l.apiKeyDigest = l.apiKeyDigest || apiKeyDigest
}

// httpFilters are the connection manager's edge filters, in the order Envoy must run them:
// CORS first (a preflight is answered before authentication can refuse it), then header removal
// of client-set identity headers, JWT, API keys (plain, then hashed: a route runs one of the
// two), and the local rate limit last (so that it can key on the identity the authentication
// established).
func (l *edgeListener) httpFilters() ([]*hcmv3.HttpFilter, error) {
	var out []*hcmv3.HttpFilter
	if l.cors {
		f, err := corsHTTPFilter()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if l.headerMutation {
		f, err := headerMutationHTTPFilter()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	jwt, err := l.jwt.httpFilter()
	if err != nil {
		return nil, err
	}
	if jwt != nil {
		out = append(out, jwt)
	}
	if l.apiKey {
		f, err := apiKeyHTTPFilter()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if l.apiKeyDigest {
		f, err := apiKeyDigestHTTPFilter()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if l.localRateLimit {
		f, err := localRateLimitHTTPFilter()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// applyEdge sets the route's per-filter configuration of its policy on er, or, when the policy
// cannot be translated, turns er into the withheld answer and reports it.
func applyEdge(r ir.Route, er *routev3.Route, l *edgeListener, rpcbridgeGateway bool) *diag.Diagnostic {
	tr, err := translateEdge(r.Policy, rpcbridgeGateway)
	if err != nil {
		withholdRoute(er, fmt.Sprintf("policy %q cannot be translated: %v", r.Policy.Name, err))
		return &diag.Diagnostic{Severity: diag.Error, Code: diag.EnvoyPolicyWithheld, Stage: "controlplane", Subject: r.Name,
			Message: fmt.Sprintf("policy %q cannot be translated (%v); the route answers 503", r.Policy.Name, err)}
	}
	if len(tr.perFilter) > 0 {
		if er.TypedPerFilterConfig == nil {
			er.TypedPerFilterConfig = map[string]*anypb.Any{}
		}
		for name, cfg := range tr.perFilter {
			er.TypedPerFilterConfig[name] = cfg
		}
	}
	l.add(tr)
	return nil
}

// withheldRoute is the Envoy form of a withheld route (ir.Route.Withheld): its match, answered
// 503 with the gateway's JSON error body, so no request reaches the upstream or a later route.
func withheldRoute(r ir.Route) (*routev3.Route, error) {
	er, err := httpRoute(ir.Route{Name: r.Name, Match: r.Match, Cluster: r.Cluster})
	if err != nil {
		return nil, err
	}
	withholdRoute(er, r.Withheld)
	return er, nil
}

// withholdRoute replaces er's action by the 503 answer of a withheld route.
func withholdRoute(er *routev3.Route, reason string) {
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": http.StatusServiceUnavailable, "status": "route_unavailable",
		"message": fmt.Sprintf("route %q is withheld: %s", er.GetName(), reason),
	}})
	er.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
		Status: http.StatusServiceUnavailable,
		Body:   &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: string(body)}},
	}}
	er.TypedPerFilterConfig = nil
	er.ResponseHeadersToAdd = []*corev3.HeaderValueOption{{
		Header:       &corev3.HeaderValue{Key: "content-type", Value: "application/json"},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}}
}
