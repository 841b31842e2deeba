package config

import (
	"fmt"
	"path"
	"strings"
)

// MCPConfig exposes RPC routes to AI agents as Model Context Protocol tools (docs/protocols.md,
// "MCP"): the gateway serves them on Path, each tool call running as its route's REST request
// with the route's policies.
type MCPConfig struct {
	// Path is the path of the gateway listener that serves MCP (streamable HTTP), such as
	// "/mcp"; requests to it are not routed. Empty (the default) serves no MCP.
	Path string `yaml:"path"`
	// Services are globs (path.Match syntax) on the service IDs of the routes offered as tools
	// ("grpc:bookstore.v1.*", "dubbo:org.example.*"): the gRPC and Dubbo routes of a matching
	// service become tools (one per route). None is exposed unless a glob names it.
	Services []string `yaml:"services"`
}

// validate reports a path that is not absolute and bad globs.
func (m MCPConfig) validate(add func(key, format string, args ...any)) {
	if m.Path != "" && (!strings.HasPrefix(m.Path, "/") || strings.ContainsAny(m.Path, "?#")) {
		add("gateway.mcp.path", "%q is not an absolute path without query", m.Path)
	}
	for i, g := range m.Services {
		if _, err := path.Match(g, ""); err != nil {
			add(fmt.Sprintf("gateway.mcp.services[%d]", i), "bad glob %q: %v", g, err)
		}
	}
}
