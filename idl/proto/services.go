package proto

import (
	"sort"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/rpcbridge/rpcbridge/httprule/annotation"
)

// ServiceInfo is one protobuf service.
type ServiceInfo struct {
	// Name is the fully qualified service name ("pkg.Greeter").
	Name string `json:"name" yaml:"name"`
	// File is the .proto file that declares the service.
	File string `json:"file" yaml:"file"`
	// Methods are in declaration order.
	Methods []MethodInfo `json:"methods" yaml:"methods"`
}

// MethodInfo is one RPC method.
type MethodInfo struct {
	// Name is the simple method name ("SayHello").
	Name string `json:"name" yaml:"name"`
	// Path is the gRPC request path ("/pkg.Greeter/SayHello").
	Path string `json:"path" yaml:"path"`
	// Input and Output are fully qualified message names without a leading dot.
	Input  string `json:"input" yaml:"input"`
	Output string `json:"output" yaml:"output"`
	// ClientStreaming and ServerStreaming are the streaming flags.
	ClientStreaming bool `json:"clientStreaming,omitempty" yaml:"clientStreaming,omitempty"`
	ServerStreaming bool `json:"serverStreaming,omitempty" yaml:"serverStreaming,omitempty"`
	// HTTP holds the method's google.api.http bindings: the primary rule first, then its
	// additional_bindings in order. Empty when the method has no annotation.
	HTTP []HTTPRule `json:"http,omitempty" yaml:"http,omitempty"`
}

// HTTPRule is one google.api.http binding of a method.
type HTTPRule struct {
	// Method is the HTTP verb: GET, PUT, POST, DELETE or PATCH, or for a custom rule its kind as
	// written (for example "HEAD" or "OPTIONS").
	Method string `json:"method" yaml:"method"`
	// Custom is true when the rule used the `custom` form.
	Custom bool `json:"custom,omitempty" yaml:"custom,omitempty"`
	// Pattern is the URL template ("/v1/{name=shelves/*}/books").
	Pattern string `json:"pattern" yaml:"pattern"`
	// Body is "" (no body), "*" (the whole request) or a request field path.
	Body string `json:"body,omitempty" yaml:"body,omitempty"`
	// ResponseBody is "" (the whole response) or a response field path.
	ResponseBody string `json:"responseBody,omitempty" yaml:"responseBody,omitempty"`
	// Additional is true for an entry from additional_bindings.
	Additional bool `json:"additional,omitempty" yaml:"additional,omitempty"`
}

// Services lists the services declared in fds, sorted by name, with their methods and HTTP
// rules. It reads method options whether they were decoded into extensions (compiled sources) or
// kept as unknown fields (descriptor sets and reflection).
func Services(fds *descriptorpb.FileDescriptorSet) []ServiceInfo {
	var out []ServiceInfo
	for _, file := range fds.GetFile() {
		pkg := file.GetPackage()
		for _, svc := range file.GetService() {
			name := svc.GetName()
			if pkg != "" {
				name = pkg + "." + name
			}
			info := ServiceInfo{Name: name, File: file.GetName(), Methods: []MethodInfo{}}
			for _, m := range svc.GetMethod() {
				info.Methods = append(info.Methods, MethodInfo{
					Name:            m.GetName(),
					Path:            "/" + name + "/" + m.GetName(),
					Input:           strings.TrimPrefix(m.GetInputType(), "."),
					Output:          strings.TrimPrefix(m.GetOutputType(), "."),
					ClientStreaming: m.GetClientStreaming(),
					ServerStreaming: m.GetServerStreaming(),
					HTTP:            httpRules(m.GetOptions()),
				})
			}
			out = append(out, info)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// httpRules extracts the google.api.http option of a method.
func httpRules(opts *descriptorpb.MethodOptions) []HTTPRule {
	if opts == nil {
		return nil
	}
	rule := annotation.FromOptions(opts)
	if rule == nil {
		return nil
	}
	rules := []HTTPRule{toHTTPRule(rule, false)}
	for _, extra := range rule.GetAdditionalBindings() {
		rules = append(rules, toHTTPRule(extra, true))
	}
	return rules
}

// toHTTPRule flattens one HttpRule.
func toHTTPRule(r *annotations.HttpRule, additional bool) HTTPRule {
	out := HTTPRule{Body: r.GetBody(), ResponseBody: r.GetResponseBody(), Additional: additional}
	out.Method, out.Pattern, out.Custom = annotation.VerbPath(r)
	return out
}
