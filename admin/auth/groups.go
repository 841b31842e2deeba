package auth

import (
	"net/http"
	"strings"
)

// Group is a set of admin endpoints that share one access rule.
type Group string

// The endpoint groups.
const (
	// GroupHealth is /healthz and /readyz: always public (probes carry no token).
	GroupHealth Group = "health"
	// GroupMetrics is /metrics and the live figures drawn from it (/api/v1/stats).
	GroupMetrics Group = "metrics"
	// GroupConsole is the web console's static files (/, /console/, /swagger-ui/): always
	// public, as they hold no data and the page must load to ask for a token.
	GroupConsole Group = "console"
	// GroupCatalog is the merged catalog (/api/v1/catalog).
	GroupCatalog Group = "catalog"
	// GroupRoutes is the computed routes and their diagnostics (/api/v1/routes, /api/v1/diagnostics).
	GroupRoutes Group = "routes"
	// GroupOpenAPI is the OpenAPI documents (/openapi.json, /api/v1/openapi...).
	GroupOpenAPI Group = "openapi"
	// GroupIDL is the IDL store (/api/v1/idl...) and the store's state (/api/v1/store): reads
	// need read, uploads, deletes and rollbacks need write.
	GroupIDL Group = "idl"
	// GroupRules is the route rules kept in the store (/api/v1/rules...) and reload
	// (/api/v1/reload): reads need read, PUT, POST and DELETE need write.
	GroupRules Group = "rules"
	// GroupAPIKeys is the API key sets kept hashed in the store (/api/v1/apikeys...): reads
	// (set names, client names and key counts, never a key or a digest) need read, PUT and
	// DELETE need write.
	GroupAPIKeys Group = "apikeys"
	// GroupGateway is the forward to the embedded gateway (/gateway/...), Swagger UI's "try it
	// out": any method needs read, since it reaches only the data plane, which answers the same
	// requests on its own listener. The Authorization header is removed before forwarding, so
	// the admin token never reaches the gateway or an upstream.
	GroupGateway Group = "gateway"
)

// Groups lists every group.
func Groups() []Group {
	return []Group{GroupHealth, GroupMetrics, GroupConsole, GroupCatalog, GroupRoutes, GroupOpenAPI, GroupIDL, GroupRules, GroupAPIKeys, GroupGateway}
}

// alwaysPublic reports the groups no configuration can close.
func alwaysPublic(g Group) bool { return g == GroupHealth || g == GroupConsole }

// endpoint is one row of the table: a path (exact, or a subtree when it ends in "/") and its
// group. A path also covers the paths below it ("/api/v1/idl" covers "/api/v1/idl/{name}").
type endpoint struct {
	path  string
	group Group
}

// table maps every admin API path to its group. TestAuthEveryEndpoint walks every pattern the
// admin handler registers and fails for one this table does not place; the middleware refuses
// (403) a request whose pattern it cannot place, so a new endpoint is closed until it is here.
var table = []endpoint{
	{"/healthz", GroupHealth},
	{"/readyz", GroupHealth},
	{"/metrics", GroupMetrics},
	{"/api/v1/stats", GroupMetrics},
	{"/{$}", GroupConsole},
	{"/console/", GroupConsole},
	{"/swagger-ui/", GroupConsole},
	{"/api/v1/catalog", GroupCatalog},
	{"/api/v1/routes", GroupRoutes},
	{"/api/v1/diagnostics", GroupRoutes},
	{"/openapi.json", GroupOpenAPI},
	{"/api/v1/openapi", GroupOpenAPI},
	{"/api/v1/idl", GroupIDL},
	{"/api/v1/store", GroupIDL},
	{"/api/v1/rules", GroupRules},
	{"/api/v1/rpcRoutes", GroupRules},
	{"/api/v1/reload", GroupRules},
	{"/api/v1/apikeys", GroupAPIKeys},
	{"/gateway/", GroupGateway},
}

// GroupOf places a path, or a ServeMux pattern ("GET /api/v1/idl/{name}"; the method and a
// host are ignored), in its group; ok is false for one the table does not know.
func GroupOf(pattern string) (g Group, ok bool) {
	p := pattern
	if _, rest, found := strings.Cut(p, " "); found {
		p = strings.TrimLeft(rest, " ")
	}
	if i := strings.IndexByte(p, '/'); i > 0 {
		p = p[i:] // a host before the path
	}
	best := -1
	for _, e := range table {
		if covers(e.path, p) && len(e.path) > best {
			g, ok, best = e.group, true, len(e.path)
		}
	}
	return g, ok
}

// covers reports whether the table path covers the path (or pattern path) p.
func covers(path, p string) bool {
	if path == "/{$}" {
		return p == "/{$}" || p == "/"
	}
	if strings.HasSuffix(path, "/") {
		return strings.HasPrefix(p, path) || p+"/" == path
	}
	return p == path || strings.HasPrefix(p, path+"/")
}

// ScopeFor is the scope a request of method to group needs.
func ScopeFor(g Group, method string) Scope {
	if g == GroupGateway || method == http.MethodGet || method == http.MethodHead {
		return ScopeRead
	}
	return ScopeWrite
}
