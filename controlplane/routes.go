package controlplane

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// httpMethodToken is what an HTTP method may look like (RFC 9110 token, upper case by custom).
var httpMethodToken = regexp.MustCompile(`^[!#$%&'*+.^_|~0-9A-Za-z-]+$`)

// httpRouteConfiguration is the route configuration of the north-south listener: one virtual
// host that matches every domain, with the IR routes in IR order.
func httpRouteConfiguration(routes []ir.Route) (*routev3.RouteConfiguration, error) {
	vh := &routev3.VirtualHost{
		Name:    HTTPVirtualHostName,
		Domains: []string{"*"},
	}
	seen := make(map[string]bool, len(routes))
	for _, r := range routes {
		if seen[r.Name] {
			return nil, fmt.Errorf("route %q: duplicate name", r.Name)
		}
		seen[r.Name] = true
		er, err := httpRoute(r)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", r.Name, err)
		}
		vh.Routes = append(vh.Routes, er)
	}
	return &routev3.RouteConfiguration{
		Name:         HTTPListenerName,
		VirtualHosts: []*routev3.VirtualHost{vh},
	}, nil
}

// httpRoute translates one IR route.
func httpRoute(r ir.Route) (*routev3.Route, error) {
	if r.Name == "" {
		return nil, errors.New("empty name")
	}
	if r.Cluster == "" {
		return nil, errors.New("empty cluster")
	}
	if r.Timeout < 0 {
		return nil, fmt.Errorf("negative timeout %s", r.Timeout)
	}
	match := &routev3.RouteMatch{}
	switch {
	case r.Match.PathTemplate != "":
		return nil, errors.New("pathTemplate routes are not translated for Envoy yet")
	case r.Match.PathPrefix != "" && r.Match.Path != "":
		return nil, errors.New("both pathPrefix and path are set")
	case r.Match.PathPrefix != "":
		match.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: r.Match.PathPrefix}
	case r.Match.Path != "":
		match.PathSpecifier = &routev3.RouteMatch_Path{Path: r.Match.Path}
	default:
		return nil, errors.New("neither pathPrefix nor path is set")
	}
	methods, err := methodMatcher(r.Match.Methods)
	if err != nil {
		return nil, err
	}
	if methods != nil {
		match.Headers = []*routev3.HeaderMatcher{methods}
	}
	return &routev3.Route{
		Name:  r.Name,
		Match: match,
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: r.Cluster},
			PrefixRewrite:    r.PrefixRewrite,
			// Always explicit: Envoy's default is 15s, the IR's zero means "no timeout".
			Timeout: durationpb.New(r.Timeout),
		}},
	}, nil
}

// methodMatcher matches the ":method" pseudo-header against methods; nil when methods is empty.
func methodMatcher(methods []string) (*routev3.HeaderMatcher, error) {
	if len(methods) == 0 {
		return nil, nil
	}
	sorted := slices.Clone(methods)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	for _, m := range sorted {
		if !httpMethodToken.MatchString(m) {
			return nil, fmt.Errorf("invalid HTTP method %q", m)
		}
	}
	sm := &matcherv3.StringMatcher{}
	if len(sorted) == 1 {
		sm.MatchPattern = &matcherv3.StringMatcher_Exact{Exact: sorted[0]}
	} else {
		quoted := make([]string, len(sorted))
		for i, m := range sorted {
			quoted[i] = regexp.QuoteMeta(m)
		}
		sm.MatchPattern = &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{
			Regex: "^(" + strings.Join(quoted, "|") + ")$",
		}}
	}
	return &routev3.HeaderMatcher{
		Name:                 ":method",
		HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: sm},
	}, nil
}
