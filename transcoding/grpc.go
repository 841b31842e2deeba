package transcoding

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/httprule"
	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries"
)

// binding is one HTTP binding of an RPC method, from an annotation or a rule.
type binding struct {
	// subject is the rule's origin for rules, "" for annotations (the service ID is used).
	subject      string
	origin       string
	httpMethod   string
	pattern      string
	body         string
	responseBody string
	timeout      *yamltime.Duration
	// policy is the rule's policy reference ("" for none and for annotations).
	policy string
}

// scalarMessages are the message types that stand for one scalar in JSON and may therefore be
// bound from a path variable or query parameter.
var scalarMessages = map[protoreflect.FullName]bool{
	"google.protobuf.Timestamp": true, "google.protobuf.Duration": true, "google.protobuf.FieldMask": true,
	"google.protobuf.DoubleValue": true, "google.protobuf.FloatValue": true, "google.protobuf.Int64Value": true,
	"google.protobuf.UInt64Value": true, "google.protobuf.Int32Value": true, "google.protobuf.UInt32Value": true,
	"google.protobuf.BoolValue": true, "google.protobuf.StringValue": true, "google.protobuf.BytesValue": true,
}

// grpcRoutes builds the candidate routes of one gRPC or Triple service: every google.api.http
// binding of every method (or, for a method a rule names, the rule's bindings instead), and
// POST /<service>/<method> for methods without a binding.
func grpcRoutes(svc bridge.Service, ps protoService, rules []RPCRule, defaultTimeout time.Duration) ([]candidate, []diag.Diagnostic) {
	var ds []diag.Diagnostic
	files, err := protodesc.NewFiles(ps.closure)
	if err != nil {
		return nil, []diag.Diagnostic{diagnostic(diag.GRPCDescriptorsUnlinked, diag.Error, svc.ID, fmt.Sprintf(
			"descriptors of %s in schema %q do not link: %v; no routes are built", ps.info.Name, ps.schema, err))}
	}
	byMethod := map[string][]RPCRule{}
	for _, r := range rules {
		if !hasGRPCMethod(ps.info, r.Method) {
			ds = append(ds, diagnostic(diag.RuleUnresolved, diag.Error, r.Origin, fmt.Sprintf(
				"service %s has no method %q; the rule is skipped", ps.info.Name, r.Method)))
			continue
		}
		if len(r.Params) > 0 || r.ParamTypes != nil || len(r.Attachments) > 0 || r.Download != nil {
			ds = append(ds, diagnostic(diag.RuleIgnoredFields, diag.Warning, r.Origin,
				"params, paramTypes, attachments and download apply to Dubbo methods only; they are ignored for gRPC "+
					"(a google.api.HttpBody response carries its own content type, and the server's content-disposition "+
					"response metadata becomes the header)"))
		}
		byMethod[r.Method] = append(byMethod[r.Method], r)
	}
	var out []candidate
	for _, m := range ps.info.Methods {
		full := ps.info.Name + "." + m.Name
		// A client stream of google.api.HttpBody is an upload: Envoy's transcoder sends the
		// body as it arrives, one message per piece (dataplane/grpcjson upload.go).
		if m.ClientStreaming && (m.ServerStreaming || m.Input != string(httpBodyMessage)) {
			ds = append(ds, diagnostic(diag.GRPCClientStreaming, diag.Info, svc.ID, fmt.Sprintf(
				"method %s streams requests from the client, which HTTP/JSON transcoding cannot carry; it gets no route", full)))
			for _, r := range byMethod[m.Name] {
				ds = append(ds, diagnostic(diag.GRPCClientStreaming, diag.Error, r.Origin, fmt.Sprintf(
					"method %s is client-streaming and cannot be transcoded; the rule is skipped", full)))
			}
			continue
		}
		var ruled []binding
		for _, r := range byMethod[m.Name] {
			ruled = append(ruled, binding{subject: r.Origin, origin: r.Origin, httpMethod: r.HTTP.Method,
				pattern: r.HTTP.Path, body: r.Body, responseBody: r.ResponseBody, timeout: r.Timeout, policy: r.Policy})
		}
		cs, bds := grpcCandidates(svc, ps.info.Name, m, files, ruled, defaultTimeout)
		ds = append(ds, bds...)
		if len(cs) == 0 { // a skipped rule replaces nothing
			cs, bds = grpcCandidates(svc, ps.info.Name, m, files, annotationBindings(full, m), defaultTimeout)
			ds = append(ds, bds...)
		}
		out = append(out, cs...)
	}
	return out, ds
}

// grpcCandidates builds the routes of valid bindings and reports the others.
func grpcCandidates(svc bridge.Service, service string, m protoidl.MethodInfo, files *protoregistry.Files, bs []binding, defaultTimeout time.Duration) ([]candidate, []diag.Diagnostic) {
	var out []candidate
	var ds []diag.Diagnostic
	for _, b := range bs {
		c, err := grpcCandidate(svc, service, m, files, b, defaultTimeout)
		if err == nil {
			out = append(out, c)
			continue
		}
		if b.subject != "" {
			ds = append(ds, diagnostic(diag.RuleUnresolved, diag.Error, b.subject, err.Error()+"; the rule is skipped"))
		} else {
			ds = append(ds, diagnostic(diag.GRPCBindingInvalid, diag.Error, svc.ID, fmt.Sprintf("%s: %v; the binding is skipped", b.origin, err)))
		}
	}
	return out, ds
}

func hasGRPCMethod(info protoidl.ServiceInfo, name string) bool {
	for _, m := range info.Methods {
		if m.Name == name {
			return true
		}
	}
	return false
}

// annotationBindings lists a method's google.api.http bindings, or the default binding.
func annotationBindings(full string, m protoidl.MethodInfo) []binding {
	if len(m.HTTP) == 0 {
		return []binding{{origin: "default route of " + full, httpMethod: "POST", pattern: m.Path, body: "*"}}
	}
	var out []binding
	extra := 0
	for _, h := range m.HTTP {
		origin := "google.api.http of " + full
		if h.Additional {
			extra++
			origin = fmt.Sprintf("google.api.http additional_bindings[%d] of %s", extra-1, full)
		}
		out = append(out, binding{origin: origin, httpMethod: strings.ToUpper(h.Method), pattern: h.Pattern,
			body: h.Body, responseBody: h.ResponseBody})
	}
	return out
}

// grpcCandidate validates one binding against the method's messages and builds its route.
func grpcCandidate(svc bridge.Service, service string, m protoidl.MethodInfo, files *protoregistry.Files, b binding, defaultTimeout time.Duration) (candidate, error) {
	if b.httpMethod == "" {
		return candidate{}, fmt.Errorf("no HTTP method")
	}
	tmpl, err := httprule.Parse(b.pattern)
	if err != nil {
		return candidate{}, err
	}
	in, err := findMessage(files, m.Input)
	if err != nil {
		return candidate{}, err
	}
	out, err := findMessage(files, m.Output)
	if err != nil {
		return candidate{}, err
	}
	for _, v := range tmpl.Variables {
		fds, err := httprule.FieldPath(in, v.FieldPath)
		if err != nil {
			return candidate{}, fmt.Errorf("path variable {%s}: %w", v.FieldPath, err)
		}
		if fd := fds[len(fds)-1]; !scalarField(fd) {
			return candidate{}, fmt.Errorf("path variable {%s}: field %s is %s, not a single scalar value", v.FieldPath, fd.FullName(), httprule.FieldKind(fd))
		}
	}
	if b.body != "" && b.body != "*" {
		if in.Fields().ByName(protoreflect.Name(b.body)) == nil {
			return candidate{}, fmt.Errorf("body: request message %s has no top-level field %q", in.FullName(), b.body)
		}
	}
	if b.responseBody != "" && out.Fields().ByName(protoreflect.Name(b.responseBody)) == nil {
		return candidate{}, fmt.Errorf("response_body: response message %s has no top-level field %q", out.FullName(), b.responseBody)
	}
	route := ir.Route{
		Match:   ir.Match{Methods: []string{b.httpMethod}},
		Cluster: svc.ID,
		Timeout: defaultTimeout,
		GRPC: &ir.GRPCRoute{Service: service, Method: m.Name, Body: b.body, ResponseBody: b.responseBody,
			ServerStreaming: m.ServerStreaming, Upload: grpcUpload(in, b.body)},
	}
	if svc.Protocol == registries.ProtocolTriple {
		// Triple with a protobuf IDL: every call names the service's version and group.
		for _, f := range [][2]string{{"version", svc.Version}, {"group", svc.Group}} {
			if !headerValue(f[1]) {
				return candidate{}, fmt.Errorf("the Triple service's %s %q cannot be sent as a header value", f[0], f[1])
			}
		}
		route.GRPC.Triple = &ir.TripleService{Version: svc.Version, Group: svc.Group}
	}
	setMatchPath(&route.Match, b.pattern, tmpl)
	if b.timeout != nil {
		route.Timeout = b.timeout.Std()
	}
	route.Policy = policyReference(b.policy)
	return candidate{origin: b.origin, route: route, tmpl: *tmpl}, nil
}

// setMatchPath matches a template without variables or wildcards as an exact path.
func setMatchPath(m *ir.Match, pattern string, tmpl *httprule.Template) {
	if tmpl.Literal() {
		m.Path = tmpl.Normalized()
		return
	}
	m.PathTemplate = pattern
}

func findMessage(files *protoregistry.Files, name string) (protoreflect.MessageDescriptor, error) {
	d, err := files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil, fmt.Errorf("message %s: %w", name, err)
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is not a message", name)
	}
	return md, nil
}

func scalarField(fd protoreflect.FieldDescriptor) bool {
	if fd.IsList() || fd.IsMap() {
		return false
	}
	return fd.Message() == nil || scalarMessages[fd.Message().FullName()]
}

// grpcUpload reports whether a binding takes a file: its body fills a google.api.HttpBody or
// a bytes field, the whole request or the body field, or (body "*") a top-level field that a
// multipart/form-data part fills. Such routes read their bodies within the upload limit.
func grpcUpload(in protoreflect.MessageDescriptor, body string) bool {
	fileField := func(fd protoreflect.FieldDescriptor) bool {
		if fd == nil || fd.IsList() || fd.IsMap() {
			return false
		}
		return fd.Kind() == protoreflect.BytesKind || fd.Message() != nil && fd.Message().FullName() == httpBodyMessage
	}
	switch body {
	case "":
		return false
	case "*":
		if in.FullName() == httpBodyMessage {
			return true
		}
		fields := in.Fields()
		for i := 0; i < fields.Len(); i++ {
			if fileField(fields.Get(i)) {
				return true
			}
		}
		return false
	}
	return fileField(in.Fields().ByName(protoreflect.Name(body)))
}

// httpBodyMessage is google.api.HttpBody, whose messages carry raw bodies.
const httpBodyMessage protoreflect.FullName = "google.api.HttpBody"

// headerValue reports whether v can be an HTTP header value: no control characters other than
// tab, no leading or trailing whitespace (RFC 9110 field-value).
func headerValue(v string) bool {
	if strings.TrimSpace(v) != v {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
