package routetable

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/dataplane/dubbojson"
	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
	"github.com/rpcbridge/rpcbridge/dataplane/hcm"
)

// DefaultRouteTimeout is Envoy's route timeout when a route sets none.
const DefaultRouteTimeout = 15 * time.Second

// Route is one decoded route: how a request is matched and where it goes.
type Route struct {
	// Name is the route's name in the RouteConfiguration (may be empty).
	Name string
	// Cluster is the upstream cluster; empty for a direct response.
	Cluster string
	// PrefixRewrite replaces the matched path prefix when HasPrefixRewrite is set.
	PrefixRewrite    string
	HasPrefixRewrite bool
	// Timeout bounds the whole upstream exchange; zero means no timeout.
	Timeout time.Duration
	// HostRewrite, when non-empty, replaces the Host header sent upstream.
	HostRewrite string
	// AutoHostRewrite sends the chosen endpoint's address as the Host header.
	AutoHostRewrite bool
	// DirectStatus, when non-zero, answers the request locally with DirectBody.
	DirectStatus int
	DirectBody   string
	// DirectContentType is the content-type the route's response_headers_to_add give a direct
	// response (a withheld route's JSON error body), if any.
	DirectContentType string
	// Transcoder, when set, transcodes the route's HTTP/JSON requests to gRPC calls (the
	// route's per-filter envoy.filters.http.grpc_json_transcoder config, or its virtual host's).
	Transcoder *grpcjson.Transcoder
	// Dubbo, when set, runs the route's requests as Dubbo generic calls (the route carries
	// the contract's gatewayv1.DubboRoute); the cluster's endpoints are Dubbo providers.
	Dubbo *dubbojson.Route
	// Withheld, when non-empty, says why the gateway does not run this route: its
	// gatewayv1.DubboRoute is of a contract this gateway does not read. Requests it matches are
	// answered 503 rather than left to a later route.
	Withheld string
	// Retry is the route's retry_policy, else its virtual host's; nil means no retries.
	Retry *RetryPolicy
	// Split, when set, is the route's weighted_clusters: each request goes to one of them,
	// picked by ForRequest (Cluster is then the first one).
	Split *WeightedClusters
	// Edge are the steps of the connection manager's edge filters for this route, in filter
	// order (edge.go); the request passes them before it is transcoded or proxied.
	Edge []EdgeStep
	// Upgrades are the route's upgrade_configs (see AllowsUpgrade).
	Upgrades hcm.Upgrades
	// GRPCWeb: the connection manager's envoy.filters.http.grpc_web runs on this route
	// (streaming.go): gRPC-Web requests go upstream as gRPC.
	GRPCWeb bool

	// perFilter is the route's typed_per_filter_config, for the edge filters.
	perFilter map[string]*anypb.Any
	// tool is the route's MCP tool (tools.go), or toolProblem why it has none to offer.
	tool        *gatewayv1.MCPTool
	toolProblem string

	path    pathMatcher
	headers []headerMatcher
	queries []queryMatcher
	grpc    bool
}

// pathKind is the path specifier of a route match.
type pathKind int

const (
	pathPrefix pathKind = iota
	pathExact
	pathRegex
	pathSeparatedPrefix
)

// pathMatcher is a compiled Envoy path specifier.
type pathMatcher struct {
	kind       pathKind
	value      string
	regex      *regexp.Regexp
	ignoreCase bool
}

// matchedLen returns how many leading bytes of path the specifier consumed, or -1.
func (p pathMatcher) matchedLen(path string) int {
	cmp, value := path, p.value
	if p.ignoreCase {
		cmp, value = strings.ToLower(path), strings.ToLower(p.value)
	}
	switch p.kind {
	case pathPrefix:
		if strings.HasPrefix(cmp, value) {
			return len(value)
		}
	case pathExact:
		if cmp == value {
			return len(value)
		}
	case pathSeparatedPrefix:
		if cmp == value || strings.HasPrefix(cmp, value+"/") {
			return len(value)
		}
	case pathRegex:
		if p.regex.MatchString(path) {
			return len(path)
		}
	}
	return -1
}

// matches reports whether r satisfies every condition of the route.
func (rt *Route) matches(r *http.Request, path string) bool {
	if rt.path.matchedLen(path) < 0 {
		return false
	}
	if rt.grpc && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
		return false
	}
	for _, h := range rt.headers {
		if !h.matches(r) {
			return false
		}
	}
	for _, q := range rt.queries {
		if !q.matches(r) {
			return false
		}
	}
	return true
}

// RewritePath applies the route's prefix_rewrite to an escaped path (no query string).
func (rt *Route) RewritePath(path string) string {
	if !rt.HasPrefixRewrite {
		return path
	}
	n := rt.path.matchedLen(path)
	if n < 0 {
		return path
	}
	return rt.PrefixRewrite + path[n:]
}

// virtualHost is a decoded Envoy VirtualHost.
type virtualHost struct {
	name    string
	domains []string
	routes  []*Route
	// perFilter is the virtual host's typed_per_filter_config, for the edge filters.
	perFilter map[string]*anypb.Any
}

// decodeRouteConfig decodes a RouteConfiguration into its virtual hosts.
func decodeRouteConfig(rc *routev3.RouteConfiguration, tcs *transcoders) ([]*virtualHost, error) {
	hosts := make([]*virtualHost, 0, len(rc.GetVirtualHosts()))
	seen := map[string]string{}
	for _, vh := range rc.GetVirtualHosts() {
		out := &virtualHost{name: vh.GetName(), perFilter: vh.GetTypedPerFilterConfig()}
		for _, domain := range vh.GetDomains() {
			domain = strings.ToLower(domain)
			if other, dup := seen[domain]; dup {
				return nil, fmt.Errorf("virtual host %q: domain %q already used by virtual host %q", vh.GetName(), domain, other)
			}
			seen[domain] = vh.GetName()
			out.domains = append(out.domains, domain)
		}
		for i, r := range vh.GetRoutes() {
			route, err := decodeRoute(r)
			if err == nil && route.Cluster != "" {
				route.Transcoder, err = tcs.forRoute(r.GetTypedPerFilterConfig(), vh.GetTypedPerFilterConfig())
			}
			if err == nil && route.Cluster != "" {
				if route.Dubbo, err = dubboRoute(r); err != nil {
					route.Withheld, err = withheld(err)
				}
			}
			if err != nil {
				return nil, fmt.Errorf("virtual host %q route %d (%q): %w", vh.GetName(), i, r.GetName(), err)
			}
			route.perFilter = r.GetTypedPerFilterConfig()
			if route.Cluster != "" {
				route.tool, route.toolProblem = mcpTool(r)
			}
			if route.Cluster != "" && route.Retry == nil {
				if route.Retry, err = decodeRetryPolicy(vh.GetRetryPolicy()); err != nil {
					return nil, fmt.Errorf("virtual host %q: %w", vh.GetName(), err)
				}
			}
			out.routes = append(out.routes, route)
		}
		hosts = append(hosts, out)
	}
	return hosts, nil
}

// decodeRoute decodes one route's match and action.
func decodeRoute(r *routev3.Route) (*Route, error) {
	out := &Route{Name: r.GetName()}
	if err := decodeMatch(r.GetMatch(), out); err != nil {
		return nil, err
	}
	switch a := r.GetAction().(type) {
	case *routev3.Route_Route:
		if err := decodeAction(a.Route, out); err != nil {
			return nil, err
		}
	case *routev3.Route_DirectResponse:
		out.DirectStatus = int(a.DirectResponse.GetStatus())
		out.DirectBody = a.DirectResponse.GetBody().GetInlineString()
		for _, h := range r.GetResponseHeadersToAdd() {
			if strings.EqualFold(h.GetHeader().GetKey(), "content-type") {
				out.DirectContentType = h.GetHeader().GetValue()
			}
		}
	default:
		return nil, fmt.Errorf("unsupported route action %T", a)
	}
	return out, nil
}

// decodeMatch fills the matching part of a route.
func decodeMatch(m *routev3.RouteMatch, out *Route) error {
	out.path.ignoreCase = m.GetCaseSensitive() != nil && !m.GetCaseSensitive().GetValue()
	switch p := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		out.path.kind, out.path.value = pathPrefix, p.Prefix
	case *routev3.RouteMatch_Path:
		out.path.kind, out.path.value = pathExact, p.Path
	case *routev3.RouteMatch_PathSeparatedPrefix:
		out.path.kind, out.path.value = pathSeparatedPrefix, p.PathSeparatedPrefix
	case *routev3.RouteMatch_SafeRegex:
		re, err := compileRegex(p.SafeRegex)
		if err != nil {
			return err
		}
		out.path.kind, out.path.regex = pathRegex, re
	default:
		return fmt.Errorf("unsupported path specifier %T", p)
	}
	if m.GetRuntimeFraction() != nil || len(m.GetCookies()) > 0 || m.GetTlsContext() != nil ||
		len(m.GetDynamicMetadata()) > 0 || len(m.GetFilterState()) > 0 {
		return fmt.Errorf("route match uses a condition the gateway cannot evaluate")
	}
	out.grpc = m.GetGrpc() != nil
	for _, h := range m.GetHeaders() {
		hm, err := compileHeaderMatcher(h)
		if err != nil {
			return err
		}
		out.headers = append(out.headers, hm)
	}
	for _, q := range m.GetQueryParameters() {
		qm, err := compileQueryMatcher(q)
		if err != nil {
			return err
		}
		out.queries = append(out.queries, qm)
	}
	return nil
}

// decodeAction fills the forwarding part of a route.
func decodeAction(a *routev3.RouteAction, out *Route) error {
	switch c := a.GetClusterSpecifier().(type) {
	case *routev3.RouteAction_Cluster:
		out.Cluster = c.Cluster
	case *routev3.RouteAction_WeightedClusters:
		if err := decodeWeightedClusters(c.WeightedClusters, out); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unsupported cluster specifier %T (only cluster and weighted_clusters are supported)", a.GetClusterSpecifier())
	}
	if a.GetRegexRewrite() != nil || a.GetPathRewritePolicy() != nil || a.GetPathRewrite() != "" {
		return fmt.Errorf("only prefix_rewrite is supported as a path rewrite")
	}
	out.PrefixRewrite = a.GetPrefixRewrite()
	out.HasPrefixRewrite = out.PrefixRewrite != ""
	switch h := a.GetHostRewriteSpecifier().(type) {
	case *routev3.RouteAction_HostRewriteLiteral:
		out.HostRewrite = h.HostRewriteLiteral
	case *routev3.RouteAction_AutoHostRewrite:
		out.AutoHostRewrite = h.AutoHostRewrite.GetValue()
	case nil:
	default:
		return fmt.Errorf("unsupported host rewrite %T", h)
	}
	out.Upgrades = hcm.RouteUpgrades(a)
	out.Timeout = DefaultRouteTimeout
	if a.GetTimeout() != nil {
		out.Timeout = a.GetTimeout().AsDuration()
	}
	var err error
	out.Retry, err = decodeRetryPolicy(a.GetRetryPolicy())
	return err
}
