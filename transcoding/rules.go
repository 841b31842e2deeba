package transcoding

import (
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// Rules are the user's routing rules and defaults.
type Rules struct {
	// HTTP are rules that expose services under HTTP paths.
	HTTP []HTTPRule `yaml:"http,omitempty"`
	// RPC are rules that expose single gRPC or Dubbo methods under chosen HTTP paths.
	RPC []RPCRule `yaml:"rpc,omitempty"`
	// DefaultTimeout bounds every route without a timeout of its own; 0 means none.
	DefaultTimeout time.Duration `yaml:"defaultTimeout,omitempty"`
	// ConnectTimeout bounds connecting to one endpoint; 0 means 5s.
	ConnectTimeout time.Duration `yaml:"connectTimeout,omitempty"`
	// Upstreams override the upstream policy defaults (upstreamrules.go).
	Upstreams UpstreamRules `yaml:"upstreams,omitempty"`
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

// RPCRule exposes one RPC method under an HTTP method and path template, replacing the default
// routes of that method (the google.api.http bindings of a gRPC method, the /dubbo/... routes of
// a Dubbo method).
type RPCRule struct {
	// Origin names where the rule was written ("rpcbridge.yaml rpc[0]"), for diagnostics.
	Origin string `yaml:"origin,omitempty"`
	// Service is a service ID ("dubbo:com.foo.Users:1.0.0:", "grpc:pkg.Greeter"), a service name,
	// or a Dubbo interface that exactly one catalog service has.
	Service string `yaml:"service"`
	// Method is the method name.
	Method string `yaml:"method"`
	// ParamTypes picks one overload of an overloaded Dubbo method by the erasures of its
	// parameter types in order ("long", "java.lang.String[]"); nil means the method must not be
	// overloaded. An empty, non-nil list picks the overload without parameters.
	ParamTypes []string `yaml:"paramTypes,omitempty"`
	// HTTPMethod is the HTTP verb (GET, POST, ...).
	HTTPMethod string `yaml:"httpMethod"`
	// Path is a google.api.http path template ("/users/{id}", "/v1/{name=shelves/*}:publish").
	Path string `yaml:"path"`
	// Params say where Dubbo arguments come from. An argument without an entry is taken from the
	// path variable of its name when there is one, else from the query parameter of its name for
	// GET, HEAD and DELETE, else from the body field of its name.
	Params []ArgRule `yaml:"params,omitempty"`
	// Body and ResponseBody apply to gRPC methods, as in google.api.http: "" (no body), "*" (the
	// whole request message) or a top-level request field; the response field rendered as the
	// body.
	Body         string `yaml:"body,omitempty"`
	ResponseBody string `yaml:"responseBody,omitempty"`
	// Attachments are request headers forwarded as Dubbo attachments; "*" forwards all.
	Attachments []string `yaml:"attachments,omitempty"`
	// Timeout, when not nil, overrides the route timeout and the Dubbo call timeout.
	Timeout *time.Duration `yaml:"timeout,omitempty"`
}

// ArgRule binds one Dubbo method argument to a place in the HTTP request.
type ArgRule struct {
	// Arg is the parameter's name, or "arg0", "arg1", ... by position.
	Arg string `yaml:"arg"`
	// From is path, query, header, body or wholeBody.
	From ir.ParamSource `yaml:"from"`
	// Key is the path variable, query parameter, header or body field; empty means the
	// argument's name. It is ignored for wholeBody.
	Key string `yaml:"key,omitempty"`
}
