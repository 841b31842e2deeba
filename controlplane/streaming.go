package controlplane

// Streaming for browsers on the REST listener (issue 14 §3).
//
// gRPC-Web: the connection manager runs envoy.filters.http.grpc_web (after the edge filters, so
// CORS answers preflights and authentication runs first; before the gRPC-JSON transcoder, which
// then sees application/grpc and passes the call through, and the router). A browser's gRPC-Web
// client calls POST /<package>.<Service>/<Method>, a path no REST binding has, so every gRPC
// method with REST routes also gets a gRPC-Web route before its first one: that path exactly,
// POST, content-type starting with application/grpc-web, the route's header conditions, cluster,
// timeout, retries and edge policy, no transcoder. Its CORS policy (when the route has one) also
// allows the headers gRPC-Web clients send and exposes grpc-status and grpc-message, as Envoy's
// gRPC-Web example configures it; its preflight route is made before the content-type condition
// is added (a preflight has no content type) and matches only preflights that ask for the
// x-grpc-web header, so the preflights of a default REST route on the same path keep its policy.
//
// WebSocket: a route bound to a streaming method also takes WebSocket upgrades
// (upgrade_configs [{upgrade_type: websocket}] on the route, which Envoy honours per route
// without an HCM-level entry: "any per-route enabling/disabling automatically overrides
// HttpConnectionManager configuration", Envoy's docs/root/intro/arch_overview/http/upgrades.rst). The
// handshake is a GET: a route bound to GET takes the upgrade itself; any other gets a copy before
// it that matches GET with Upgrade: websocket. Only rpcbridge's gateways bridge a WebSocket to
// a gRPC stream (stock Envoy would forward the upgrade to the gRPC server, which cannot take it),
// so the WebSocket parts are in the resources for rpcbridge gateways only
// (Options.RPCBridgeGateway).

import (
	"fmt"
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	grpcwebv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_web/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// Names of the streaming routes and filter.
const (
	grpcWebFilter      = "envoy.filters.http.grpc_web"
	grpcWebRouteSuffix = "~grpc-web"
	webSocketSuffix    = "~websocket"
	webSocketUpgrade   = "websocket"
	grpcWebContentType = "application/grpc-web"
	// grpcWebPreflightHeaders matches an Access-Control-Request-Headers that names x-grpc-web.
	grpcWebPreflightHeaders = `(?i)(.*[ ,])?x-grpc-web([ ,].*)?`
)

// grpcWebCORSHeaders are what gRPC-Web clients send and read (Envoy's examples/grpc-web).
var (
	grpcWebAllowHeaders  = []string{"content-type", "x-grpc-web", "x-user-agent", "grpc-timeout"}
	grpcWebExposeHeaders = []string{"grpc-status", "grpc-message"}
)

// grpcWebHTTPFilter is the connection manager's gRPC-Web filter (it has no settings).
func grpcWebHTTPFilter() (*hcmv3.HttpFilter, error) {
	cfg, err := typedConfig(&grpcwebv3.GrpcWeb{})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{Name: grpcWebFilter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}}, nil
}

// grpcWebKey identifies the gRPC-Web route of a route: its method and header conditions.
func grpcWebKey(r ir.Route) string {
	return fmt.Sprintf("%s/%s %v", r.GRPC.Service, r.GRPC.Method, r.Match.Headers)
}

// grpcWebRoutes are the gRPC-Web route of gRPC route r and, when its policy has CORS, the
// preflight route before it; l collects what their policy needs of the connection manager.
func grpcWebRoutes(r ir.Route, l *edgeListener, rpcbridgeGateway bool) ([]*routev3.Route, error) {
	web := r
	web.Name = r.Name + grpcWebRouteSuffix
	web.Match = ir.Match{Path: "/" + r.GRPC.Service + "/" + r.GRPC.Method, Methods: []string{"POST"}, Headers: r.Match.Headers}
	web.GRPC = nil
	web.Policy = grpcWebPolicy(r.Policy)
	er, err := httpRoute(web)
	if err != nil {
		return nil, err
	}
	var out []*routev3.Route
	if d := applyEdge(web, er, l, rpcbridgeGateway); d == nil {
		if pf := corsPreflightRoute(er); pf != nil {
			// Only a gRPC-Web client's preflight: it asks for x-grpc-web, which gRPC-Web clients
			// always send. A method's default REST route (POST /<pkg>.<Service>/<Method>) has
			// this path too, and its own preflights keep its own CORS policy.
			pf.Match.Headers = append(pf.Match.Headers, &routev3.HeaderMatcher{Name: "access-control-request-headers",
				HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
					MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: grpcWebPreflightHeaders}}}}})
			out = append(out, pf)
		}
	}
	er.Match.Headers = append(er.Match.Headers, &routev3.HeaderMatcher{Name: "content-type",
		HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: grpcWebContentType}}}})
	return append(out, er), nil
}

// grpcWebPolicy is p with its CORS block opened to what gRPC-Web clients send and read.
func grpcWebPolicy(p *ir.EdgePolicy) *ir.EdgePolicy {
	if p == nil || p.CORS == nil {
		return p
	}
	out := *p
	cors := *p.CORS
	cors.AllowHeaders = withHeaders(cors.AllowHeaders, grpcWebAllowHeaders)
	cors.ExposeHeaders = withHeaders(cors.ExposeHeaders, grpcWebExposeHeaders)
	out.CORS = &cors
	return &out
}

// withHeaders adds the names of extra that list lacks (case-insensitively), unless list is "*".
func withHeaders(list, extra []string) []string {
	if slices.Contains(list, "*") {
		return list
	}
	out := slices.Clone(list)
	for _, h := range extra {
		if !slices.ContainsFunc(out, func(s string) bool { return strings.EqualFold(s, h) }) {
			out = append(out, h)
		}
	}
	return out
}

// webSocketRoute enables WebSocket upgrades for er, a route of r, whose method is streaming:
// on er itself when it matches GET only, else on a copy that matches the GET handshake, which it
// returns (to be placed before er).
func webSocketRoute(r ir.Route, er *routev3.Route) *routev3.Route {
	upgrade := []*routev3.RouteAction_UpgradeConfig{{UpgradeType: webSocketUpgrade}}
	if slices.Equal(r.Match.Methods, []string{"GET"}) {
		er.GetRoute().UpgradeConfigs = upgrade
		return nil
	}
	ws := proto.Clone(er).(*routev3.Route)
	ws.Name = er.GetName() + webSocketSuffix
	headers := []*routev3.HeaderMatcher{{Name: ":method", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
		StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "GET"}}}}}
	for _, h := range ws.GetMatch().GetHeaders() {
		if h.GetName() != ":method" {
			headers = append(headers, h)
		}
	}
	ws.Match.Headers = append(headers, &routev3.HeaderMatcher{Name: "upgrade", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
		StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: webSocketUpgrade}, IgnoreCase: true}}})
	ws.GetRoute().UpgradeConfigs = upgrade
	return ws
}

// streamingMethod reports whether the method of a gRPC route streams (client, server or both),
// by its descriptors.
func streamingMethod(set []byte, g *ir.GRPCRoute) (bool, error) {
	if g.ServerStreaming {
		return true, nil
	}
	var fds descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(set, &fds); err != nil {
		return false, fmt.Errorf("descriptors of %s: %w", g.Service, err)
	}
	m := findMethod(&fds, g.Service, g.Method)
	return m.GetClientStreaming() || m.GetServerStreaming(), nil
}

// hasStreamingGRPC reports whether some gRPC route of g is bound to a streaming method: then
// rpcbridge's gateways get resources of their own (the WebSocket routes).
func hasStreamingGRPC(g ir.Gateway) bool {
	sets := map[string][]byte{}
	for _, pd := range g.ProtoDescriptors {
		sets[pd.Service] = pd.FileDescriptorSet
	}
	for _, r := range g.Routes {
		if r.GRPC == nil || r.Withheld != "" {
			continue
		}
		if ok, err := streamingMethod(sets[r.GRPC.Service], r.GRPC); err == nil && ok {
			return true
		}
	}
	return false
}
