package transcoding

import (
	"errors"
	"fmt"
	"mime"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/httprule"
	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// Rules are the user's routing rules and defaults. The rule types are what users write: the
// configuration file embeds them as they are (config.Config's routes and rpcRoutes), and each
// rule validates itself.
type Rules struct {
	// HTTP are rules that expose services under HTTP paths.
	HTTP []HTTPRule `yaml:"http,omitempty"`
	// RPC are rules that expose single gRPC or Dubbo methods under chosen HTTP paths.
	RPC []RPCRule `yaml:"rpc,omitempty"`
	// DefaultTimeout bounds every route without a timeout of its own; 0 means none.
	DefaultTimeout yamltime.Duration `yaml:"defaultTimeout,omitempty"`
	// ConnectTimeout bounds connecting to one endpoint; 0 means 5s.
	ConnectTimeout yamltime.Duration `yaml:"connectTimeout,omitempty"`
	// Forwarding is the HTTP listener's forwarding-header policy, copied into the gateway; nil
	// means ir.DefaultForwarding.
	Forwarding *ir.Forwarding `yaml:"forwarding,omitempty"`
	// Upstreams override the upstream policy defaults (upstreamrules.go).
	Upstreams UpstreamRules `yaml:"upstreams,omitempty"`
	// DubboValues bound the BigDecimal and BigInteger values of Dubbo routes, copied into the
	// gateway; nil means the defaults.
	DubboValues *ir.DubboValueLimits `yaml:"dubboValues,omitempty"`
	// Policies are the edge policies that rules reference by name (policies.go).
	Policies []Policy `yaml:"policies,omitempty"`
	// KeySets are the latest key sets of the policies' JWKS sources, by JWKSSource.Key: input
	// from the stage that reads and fetches them, never written in YAML.
	KeySets map[string]KeySet `yaml:"-"`
	// APIKeySets are the last good API key sets held in the shared store, by name, each the
	// text of a key file of digests only: input from the stage that follows the store, never
	// written in YAML.
	APIKeySets map[string]string `yaml:"-"`
}

// HTTPRule exposes one service under a path or path prefix.
type HTTPRule struct {
	// Origin names where the rule was written ("rpcbridge.yaml routes[2]"), for diagnostics. It
	// is set by whoever read the rule (config.Parse), never written in YAML.
	Origin string `yaml:"-"`
	// Service is a service ID ("http:hello") or a service name ("hello").
	Service string `yaml:"service,omitempty"`
	// PathPrefix and Path select requests; exactly one is set.
	PathPrefix string `yaml:"pathPrefix,omitempty"`
	Path       string `yaml:"path,omitempty"`
	// Methods restricts HTTP methods; empty means all.
	Methods []string `yaml:"methods,omitempty"`
	// RewritePrefix, when set, replaces PathPrefix before the request goes upstream.
	RewritePrefix *string `yaml:"rewritePrefix,omitempty"`
	// Timeout, when set, bounds the request instead of DefaultTimeout; 0s disables the timeout.
	Timeout *yamltime.Duration `yaml:"timeout,omitempty"`
	// Policy names the edge policy (policies[].name) the route's requests must pass; empty
	// means its service's, if a policy attaches to it.
	Policy string `yaml:"policy,omitempty"`
}

// DefaultConnectTimeout is used when Rules.ConnectTimeout is 0.
const DefaultConnectTimeout = 5 * time.Second

// RPCRule exposes one RPC method under an HTTP method and path template, replacing the default
// routes of that method (the google.api.http bindings of a gRPC method, the /dubbo/... routes of
// a Dubbo method).
type RPCRule struct {
	// Origin names where the rule was written ("rpcbridge.yaml rpcRoutes[0]"), for diagnostics.
	// It is set by whoever read the rule (config.Parse), never written in YAML.
	Origin string `yaml:"-"`
	// Service is a service ID ("dubbo:com.foo.Users:1.0.0:", "grpc:pkg.Greeter"), a service name,
	// or a Dubbo interface that exactly one catalog service has.
	Service string `yaml:"service"`
	// Method is the method name.
	Method string `yaml:"method"`
	// ParamTypes picks one overload of an overloaded Dubbo method by the erasures of its
	// parameter types in order ("long", "java.lang.String[]"); nil means the method must not be
	// overloaded. An empty list ([]) picks the overload without parameters.
	ParamTypes []string `yaml:"paramTypes,omitempty"`
	// HTTP is the request that calls the method.
	HTTP HTTPBinding `yaml:"http"`
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
	// Download applies to Dubbo methods that return byte[], which are answered with the bytes
	// themselves: their content type (default application/octet-stream) and file name.
	Download *DownloadRule `yaml:"download,omitempty"`
	// Timeout, when set, overrides the route timeout and the Dubbo call timeout (which, left
	// out, are the provider's <method>.timeout or timeout URL parameter).
	Timeout *yamltime.Duration `yaml:"timeout,omitempty"`
	// Policy names the edge policy (policies[].name) the route's requests must pass; empty
	// means its service's, if a policy attaches to it.
	Policy string `yaml:"policy,omitempty"`
}

// DownloadRule is how a Dubbo method's byte[] result is answered.
type DownloadRule struct {
	// ContentType is the answer's Content-Type; empty means application/octet-stream.
	ContentType string `yaml:"contentType,omitempty"`
	// Filename, when set, makes the answer an attachment of that name (Content-Disposition:
	// attachment; filename=...); "{var}" in it is replaced by the path variable var.
	Filename string `yaml:"filename,omitempty"`
}

// Validate reports the rule's problems, each a field.Error at its key, joined; nil means none.
// Whether the filename's variables are the path's is for Build to tell.
func (d DownloadRule) Validate() error {
	var errs []error
	if d.ContentType != "" {
		if _, _, err := mime.ParseMediaType(d.ContentType); err != nil {
			errs = append(errs, field.Errorf("contentType", "%q is not a media type: %v", d.ContentType, err))
		}
	}
	if strings.ContainsAny(d.Filename, "/\\\"\x00\r\n") {
		errs = append(errs, field.Errorf("filename", "%q holds a path separator, a quote or a control character", d.Filename))
	}
	return errors.Join(errs...)
}

// HTTPBinding is the HTTP side of an RPC rule.
type HTTPBinding struct {
	// Method is the HTTP verb (GET, POST, ...).
	Method string `yaml:"method"`
	// Path is a google.api.http path template ("/users/{id}", "/v1/{name=shelves/*}:publish").
	Path string `yaml:"path"`
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

// httpMethodRE is what a rule accepts as an HTTP method. Methods are case-sensitive (RFC 9110
// section 9.1) and the standard ones upper-case, so "get" is a mistake, not GET.
var httpMethodRE = regexp.MustCompile(`^[A-Z]+$`)

// paramSources are the values of ArgRule.From.
var paramSources = []ir.ParamSource{ir.FromPath, ir.FromQuery, ir.FromHeader, ir.FromBody, ir.FromWholeBody}

// Validate reports every problem of the rule that shows without a catalog or schemas, each a
// field.Error at its key ("methods[1]"), joined; nil means none.
func (r HTTPRule) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) { errs = append(errs, field.Errorf(path, format, args...)) }
	if strings.TrimSpace(r.Service) == "" {
		add("service", "route names no service")
	}
	switch {
	case r.PathPrefix == "" && r.Path == "":
		add("", "route needs pathPrefix or path")
	case r.PathPrefix != "" && r.Path != "":
		add("path", "pathPrefix and path are exclusive")
	case r.PathPrefix != "" && !strings.HasPrefix(r.PathPrefix, "/"):
		add("pathPrefix", "%q must start with /", r.PathPrefix)
	case r.Path != "" && !strings.HasPrefix(r.Path, "/"):
		add("path", "%q must start with /", r.Path)
	}
	if r.RewritePrefix != nil && r.PathPrefix == "" {
		add("rewritePrefix", "rewritePrefix needs pathPrefix")
	}
	for j, m := range r.Methods {
		if !httpMethodRE.MatchString(m) {
			add(fmt.Sprintf("methods[%d]", j), "%q is not an upper-case HTTP method", m)
		}
	}
	return errors.Join(errs...)
}

// Validate reports every problem of the rule that shows without a catalog or schemas, each a
// field.Error at its key ("http.path", "params[0].from"), joined; nil means none. Whether the
// service, the method and its arguments exist is for Build to tell.
func (r RPCRule) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) { errs = append(errs, field.Errorf(path, format, args...)) }
	if strings.TrimSpace(r.Service) == "" {
		add("service", "rpc route names no service")
	}
	if strings.TrimSpace(r.Method) == "" {
		add("method", "rpc route names no method")
	}
	if !httpMethodRE.MatchString(r.HTTP.Method) {
		add("http.method", "%q is not an upper-case HTTP method", r.HTTP.Method)
	}
	if _, err := httprule.Parse(r.HTTP.Path); err != nil {
		add("http.path", "%v", err)
	}
	for j, p := range r.Params {
		errs = append(errs, field.Under(fmt.Sprintf("params[%d]", j), p.Validate()))
	}
	if r.Download != nil {
		errs = append(errs, field.Under("download", r.Download.Validate()))
	}
	return errors.Join(errs...)
}

// Validate reports the rule's problems, each a field.Error at its key, joined; nil means none.
func (a ArgRule) Validate() error {
	var errs []error
	if !slices.Contains(paramSources, a.From) {
		names := make([]string, len(paramSources))
		for i, s := range paramSources {
			names[i] = string(s)
		}
		errs = append(errs, field.Errorf("from", "%q is not one of %s", a.From, strings.Join(names, ", ")))
	}
	if a.Arg == "" {
		errs = append(errs, field.Errorf("arg", "the argument is not named"))
	}
	return errors.Join(errs...)
}

// valid returns the rules that pass Validate and an error diagnostic for every problem of the
// others, which are skipped. Rules read by config.Parse have passed already.
func (r Rules) valid() (Rules, []diag.Diagnostic) {
	var ds []diag.Diagnostic
	skip := func(origin string, err error) bool {
		for _, p := range field.List(err) {
			ds = append(ds, diagnostic(diag.RuleInvalid, diag.Error, origin, p.Error()+"; the rule is skipped"))
		}
		return err != nil
	}
	out := r
	out.HTTP, out.RPC = nil, nil
	for _, h := range r.HTTP {
		if !skip(h.Origin, h.Validate()) {
			out.HTTP = append(out.HTTP, h)
		}
	}
	for _, p := range r.RPC {
		if !skip(p.Origin, p.Validate()) {
			out.RPC = append(out.RPC, p)
		}
	}
	return out, ds
}
