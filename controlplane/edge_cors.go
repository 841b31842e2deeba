package controlplane

// The CORS block of an edge policy. Envoy: envoy.filters.http.cors in the connection manager, a
// per-route envoy.extensions.filters.http.cors.v3.CorsPolicy, and, for every route that matches
// on :method, a preflight route before it. rpcbridge's routes match on :method, so a browser's
// OPTIONS preflight would not match a GET or POST route and would be answered 404 (or go to a
// later route) before any CORS filter could answer it; and a preflight must never reach a
// transcoder (Envoy issue #6608: the gRPC-JSON transcoder answers an OPTIONS it has no binding
// for). The preflight route has the route's path match, :method OPTIONS, a non-empty Origin and
// an Access-Control-Request-Method among the route's methods, so a preflight finds the same
// route (and policy) its actual request will; it carries the same CorsPolicy, with
// forward_not_matching_preflights false, so Envoy's CORS filter answers every request it matches
// (cors_filter.cc decodeHeaders) and its route action, to the route's cluster without any
// transcoder, is never run.

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// corsFilter is the HTTP filter that executes CORS policies.
const corsFilter = "envoy.filters.http.cors"

// corsPreflightSuffix names a route's preflight route after it.
const corsPreflightSuffix = "~cors-preflight"

// corsPolicy is the per-route CorsPolicy of p's CORS block; nil when it has none.
func corsPolicy(p *ir.EdgePolicy) (*corsv3.CorsPolicy, error) {
	c := p.CORS
	if c == nil {
		return nil, nil
	}
	if len(c.AllowOrigins) == 0 {
		return nil, fmt.Errorf("cors: no allowed origin")
	}
	out := &corsv3.CorsPolicy{
		AllowMethods:              strings.Join(c.AllowMethods, ","),
		AllowHeaders:              strings.Join(c.AllowHeaders, ","),
		ExposeHeaders:             strings.Join(c.ExposeHeaders, ","),
		AllowCredentials:          wrapperspb.Bool(c.AllowCredentials),
		AllowPrivateNetworkAccess: wrapperspb.Bool(c.AllowPrivateNetworkAccess),
		// Envoy's default (true) would send a preflight from a disallowed origin to the
		// upstream: an RPC provider behind a transcoder, which cannot answer it (#6608).
		ForwardNotMatchingPreflights: wrapperspb.Bool(false),
	}
	if c.MaxAge < 0 || c.MaxAge%time.Second != 0 {
		return nil, fmt.Errorf("cors: max age %s is not a whole number of seconds", c.MaxAge)
	}
	if c.MaxAge > 0 {
		out.MaxAge = strconv.FormatInt(int64(c.MaxAge/time.Second), 10)
	}
	for i, o := range c.AllowOrigins {
		m, err := stringMatcher(o)
		if err != nil {
			return nil, fmt.Errorf("cors: allowed origin %d: %w", i, err)
		}
		out.AllowOriginStringMatch = append(out.AllowOriginStringMatch, m)
	}
	return out, nil
}

// stringMatcher is the Envoy StringMatcher of m.
func stringMatcher(m ir.StringMatch) (*matcherv3.StringMatcher, error) {
	out := &matcherv3.StringMatcher{IgnoreCase: m.IgnoreCase}
	set := 0
	if m.Exact != "" {
		set++
		out.MatchPattern = &matcherv3.StringMatcher_Exact{Exact: m.Exact}
	}
	if m.Prefix != "" {
		set++
		out.MatchPattern = &matcherv3.StringMatcher_Prefix{Prefix: m.Prefix}
	}
	if m.Suffix != "" {
		set++
		out.MatchPattern = &matcherv3.StringMatcher_Suffix{Suffix: m.Suffix}
	}
	if m.Regex != "" {
		set++
		if _, err := regexp.Compile(m.Regex); err != nil {
			return nil, err
		}
		out.MatchPattern = &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: m.Regex}}
		if m.IgnoreCase {
			return nil, fmt.Errorf("ignore case does not apply to a regex")
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("exactly one of exact, prefix, suffix and regex must be set")
	}
	return out, nil
}

// corsHTTPFilter is the connection manager's CORS filter: it does nothing by itself; the
// routes' CorsPolicy configs say what it allows.
func corsHTTPFilter() (*hcmv3.HttpFilter, error) {
	cfg, err := typedConfig(&corsv3.Cors{})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{Name: corsFilter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}}, nil
}

// corsPreflightRoute is the preflight route of er, to be placed right before it; nil when er has
// no CorsPolicy or does not match on :method (then er matches the preflight itself).
func corsPreflightRoute(er *routev3.Route) *routev3.Route {
	cfg, ok := er.GetTypedPerFilterConfig()[corsFilter]
	if !ok {
		return nil
	}
	var method *routev3.HeaderMatcher
	var others []*routev3.HeaderMatcher
	for _, h := range er.GetMatch().GetHeaders() {
		if h.GetName() == ":method" {
			method = h
			continue
		}
		others = append(others, h)
	}
	if method == nil {
		return nil
	}
	match := proto.Clone(er.GetMatch()).(*routev3.RouteMatch)
	requested := proto.Clone(method).(*routev3.HeaderMatcher)
	requested.Name = "access-control-request-method"
	match.Headers = append([]*routev3.HeaderMatcher{
		{Name: ":method", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Exact{Exact: http.MethodOptions}}}},
		{Name: "origin", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: ".+"}}}}},
		requested,
	}, cloneHeaders(others)...)
	action, ok := er.GetAction().(*routev3.Route_Route)
	if !ok {
		return nil
	}
	src := proto.Clone(action.Route).(*routev3.RouteAction)
	return &routev3.Route{
		Name:  er.GetName() + corsPreflightSuffix,
		Match: match,
		// A route action, not a direct response: Envoy's CORS filter passes over routes without a
		// route entry (cors_filter.cc decodeHeaders; a direct response has none, #6608). The
		// filter answers every request this route matches, so the action is never run.
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: src.GetClusterSpecifier(),
			Timeout:          src.GetTimeout(),
		}},
		TypedPerFilterConfig: map[string]*anypb.Any{corsFilter: proto.Clone(cfg).(*anypb.Any)},
	}
}

// cloneHeaders deep-copies header matchers.
func cloneHeaders(hs []*routev3.HeaderMatcher) []*routev3.HeaderMatcher {
	out := make([]*routev3.HeaderMatcher, len(hs))
	for i, h := range hs {
		out[i] = proto.Clone(h).(*routev3.HeaderMatcher)
	}
	return out
}
