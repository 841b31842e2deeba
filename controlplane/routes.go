package controlplane

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/httprule"
)

// httpMethodToken is what an HTTP method may look like (RFC 9110 token, upper case by custom).
var httpMethodToken = regexp.MustCompile(`^[!#$%&'*+.^_|~0-9A-Za-z-]+$`)

// httpRoutes is the translated north-south routing: the route configuration, the HTTP filters
// its routes need before the router, the routes the flavor left out, and whether some route goes
// to the rpcbridge gateways (DubboGatewaysCluster).
type httpRoutes struct {
	config            *routev3.RouteConfiguration
	filters           []*hcmv3.HttpFilter
	diagnostics       []diag.Diagnostic
	usesDubboGateways bool
}

// httpRouteConfiguration is the route configuration of the north-south listener: one virtual
// host that matches every domain, with the IR routes in IR order. The transcoders buffer bodies
// of up to the downstream limits' BufferLimitBytes.
func httpRouteConfiguration(g ir.Gateway, opts Options) (httpRoutes, error) {
	flavor, limits := opts.Flavor, opts.downstream()
	var out httpRoutes
	descriptors, err := serviceDescriptors(g.ProtoDescriptors)
	if err != nil {
		return out, err
	}
	classes := make(map[string]ir.JavaClass, len(g.JavaClasses))
	for _, c := range g.JavaClasses {
		classes[c.Name] = c
	}
	vh := &routev3.VirtualHost{
		Name:    gatewayv1.HTTPVirtualHost,
		Domains: []string{"*"},
	}
	tools, toolDiags, err := mcpTools(g, opts)
	if err != nil {
		return out, err
	}
	out.diagnostics = append(out.diagnostics, toolDiags...)
	seen := make(map[string]bool, len(g.Routes))
	grpcWeb := map[string]bool{} // the gRPC-Web routes made (grpcWebKey)
	var usesGRPC, usesDubbo bool
	var edge edgeListener
	for _, r := range g.Routes {
		if seen[r.Name] {
			return out, fmt.Errorf("route %q: duplicate name", r.Name)
		}
		seen[r.Name] = true
		if r.Withheld != "" {
			er, err := withheldRoute(r)
			if err != nil {
				return out, fmt.Errorf("route %q: %w", r.Name, err)
			}
			vh.Routes = append(vh.Routes, er)
			continue
		}
		er, err := httpRoute(r)
		if err != nil {
			return out, fmt.Errorf("route %q: %w", r.Name, err)
		}
		streaming := false
		switch {
		case r.GRPC != nil && r.Dubbo != nil:
			return out, fmt.Errorf("route %q: both grpc and dubbo are set", r.Name)
		case r.GRPC != nil:
			set, ok := descriptors[r.GRPC.Service]
			if !ok {
				return out, fmt.Errorf("route %q: no proto descriptors for service %q", r.Name, r.GRPC.Service)
			}
			set, err := withRouteBinding(set, r)
			if err != nil {
				return out, fmt.Errorf("route %q: %w", r.Name, err)
			}
			cfg, err := grpcTranscoderPerRoute(r.GRPC, set, limits.BufferLimitBytes)
			if err != nil {
				return out, fmt.Errorf("route %q: %w", r.Name, err)
			}
			er.TypedPerFilterConfig = map[string]*anypb.Any{wellknown.GRPCJSONTranscoder: cfg}
			usesGRPC = true
			if streaming, err = streamingMethod(set, r.GRPC); err != nil {
				return out, fmt.Errorf("route %q: %w", r.Name, err)
			}
		case r.Dubbo != nil && r.Dubbo.Protocol != ir.DubboProtocolDubbo && r.Dubbo.Protocol != ir.DubboProtocolTriple:
			return out, fmt.Errorf("route %q: unknown dubbo protocol %q", r.Name, r.Dubbo.Protocol)
		case r.Dubbo != nil && flavor != FlavorHigress && opts.DubboGateways.Enabled():
			r = toDubboGateways(er, r) // dubbogateways.go
			out.usesDubboGateways = true
		case r.Dubbo != nil && r.Dubbo.Protocol == ir.DubboProtocolTriple && !opts.RPCBridgeGateway:
			out.diagnostics = append(out.diagnostics, tripleGatewayOnly(r, flavor))
			continue
		case r.Dubbo != nil && r.Dubbo.Protocol == ir.DubboProtocolTriple:
			if err := decorateTripleRoute(er, r, classes, g.DubboValues); err != nil {
				return out, fmt.Errorf("route %q: %w", r.Name, err)
			}
		case r.Dubbo != nil && flavor != FlavorHigress:
			out.diagnostics = append(out.diagnostics, diag.Diagnostic{
				Severity: diag.Info,
				Code:     diag.EnvoyGatewayOnly,
				Stage:    "controlplane",
				Subject:  r.Name,
				Message: fmt.Sprintf("HTTP-to-Dubbo route left out of the %s-flavor Envoy config "+
					"(stock Envoy has no HTTP-to-Dubbo filter); the embedded gateway serves it "+
					"(envoy.dubboGateways routes it from Envoy to rpcbridge gateways)", flavor),
			})
			continue
		case r.Dubbo != nil:
			if err := decorateDubboRoute(er, r, classes, g.DubboValues); err != nil {
				return out, fmt.Errorf("route %q: %w", r.Name, err)
			}
			usesDubbo = true
		}
		attachMCPTool(er, tools[r.Name])
		if d := applyEdge(r, er, &edge, opts.RPCBridgeGateway); d != nil {
			out.diagnostics = append(out.diagnostics, *d)
		}
		if r.GRPC != nil && !grpcWeb[grpcWebKey(r)] {
			grpcWeb[grpcWebKey(r)] = true
			web, err := grpcWebRoutes(r, &edge, opts.RPCBridgeGateway)
			if err != nil {
				return out, fmt.Errorf("route %q: gRPC-Web: %w", r.Name, err)
			}
			vh.Routes = append(vh.Routes, web...) // before er: its method's gRPC-Web calls (streaming.go)
		}
		if pf := corsPreflightRoute(er); pf != nil {
			vh.Routes = append(vh.Routes, pf) // before er: the preflight of er's requests (edge_cors.go)
		}
		if streaming && opts.RPCBridgeGateway && er.GetRoute() != nil {
			if ws := webSocketRoute(r, er); ws != nil {
				vh.Routes = append(vh.Routes, ws) // before er: its WebSocket handshakes (streaming.go)
			}
		}
		vh.Routes = append(vh.Routes, er)
	}
	edgeFilters, err := edge.httpFilters()
	if err != nil {
		return out, err
	}
	out.filters = append(out.filters, edgeFilters...)
	if usesGRPC {
		web, err := grpcWebHTTPFilter()
		if err != nil {
			return out, err
		}
		out.filters = append(out.filters, web)
		f, err := grpcTranscoderHTTPFilter()
		if err != nil {
			return out, err
		}
		out.filters = append(out.filters, f)
	}
	if usesDubbo {
		f, err := dubboTranscoderHTTPFilter()
		if err != nil {
			return out, err
		}
		out.filters = append(out.filters, f)
	}
	out.config = &routev3.RouteConfiguration{
		Name:         gatewayv1.HTTPListener,
		VirtualHosts: []*routev3.VirtualHost{vh},
	}
	return out, nil
}

// httpRoute translates the HTTP part of one IR route: match and forwarding.
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
	set := 0
	for _, s := range []string{r.Match.PathPrefix, r.Match.Path, r.Match.PathTemplate} {
		if s != "" {
			set++
		}
	}
	switch {
	case set > 1:
		return nil, errors.New("more than one of pathPrefix, path and pathTemplate is set")
	case r.Match.PathTemplate != "":
		// The embedded gateway executes the same regex, so Envoy and it select the same routes.
		tmpl, err := httprule.Parse(r.Match.PathTemplate)
		if err != nil {
			return nil, err
		}
		match.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: tmpl.Regex()}}
	case r.Match.PathPrefix != "":
		match.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: r.Match.PathPrefix}
	case r.Match.Path != "":
		match.PathSpecifier = &routev3.RouteMatch_Path{Path: r.Match.Path}
	default:
		return nil, errors.New("none of pathPrefix, path and pathTemplate is set")
	}
	if r.PrefixRewrite != "" && r.Match.PathTemplate != "" {
		return nil, errors.New("prefixRewrite cannot be combined with pathTemplate")
	}
	methods, err := methodMatcher(r.Match.Methods)
	if err != nil {
		return nil, err
	}
	if methods != nil {
		match.Headers = []*routev3.HeaderMatcher{methods}
	}
	headers, err := headerMatchers(r.Match.Headers)
	if err != nil {
		return nil, err
	}
	match.Headers = append(match.Headers, headers...)
	retry, err := retryPolicy(r.Retry)
	if err != nil {
		return nil, err
	}
	action := &routev3.RouteAction{
		PrefixRewrite: r.PrefixRewrite,
		// Always explicit: Envoy's default is 15s, the IR's zero means "no timeout".
		Timeout:     durationpb.New(r.Timeout),
		RetryPolicy: retry,
	}
	if err := setClusterSpecifier(action, r); err != nil {
		return nil, err
	}
	return &routev3.Route{Name: r.Name, Match: match, Action: &routev3.Route_Route{Route: action}}, nil
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
