// Package transcoding decides which HTTP request reaches which RPC target and how: Build turns
// the catalog, the IDL schemas and the user's rules into the gateway IR plus diagnostics. It is a
// pure function; runners call it whenever an input changes.
package transcoding

import "time"

// Rules are the user's routing rules and defaults.
type Rules struct {
	// HTTP are rules that expose services under HTTP paths.
	HTTP []HTTPRule `yaml:"http,omitempty"`
	// DefaultTimeout bounds every route without a timeout of its own; 0 means none.
	DefaultTimeout time.Duration `yaml:"defaultTimeout,omitempty"`
	// ConnectTimeout bounds connecting to one endpoint; 0 means 5s.
	ConnectTimeout time.Duration `yaml:"connectTimeout,omitempty"`
}

// HTTPRule exposes one service under a path or path prefix.
type HTTPRule struct {
	// Origin names where the rule was written ("rpcbridge.yaml routes[2]"), for diagnostics.
	Origin string `yaml:"origin,omitempty"`
	// Service is a service ID ("http:hello") or a service name ("hello").
	Service string `yaml:"service,omitempty"`
	// PathPrefix and Path select requests; exactly one is set.
	PathPrefix string `yaml:"pathPrefix,omitempty"`
	Path       string `yaml:"path,omitempty"`
	// Methods restricts HTTP methods; empty means all.
	Methods []string `yaml:"methods,omitempty"`
	// RewritePrefix, when not nil, replaces PathPrefix before the request goes upstream.
	RewritePrefix *string `yaml:"rewritePrefix,omitempty"`
	// Timeout, when not nil, overrides DefaultTimeout.
	Timeout *time.Duration `yaml:"timeout,omitempty"`
}

// DefaultConnectTimeout is used when Rules.ConnectTimeout is 0.
const DefaultConnectTimeout = 5 * time.Second
