// Package grpcjson is the embedded gateway's REST-to-gRPC transcoder: it does what Envoy's
// envoy.filters.http.grpc_json_transcoder does, driven by the same GrpcJsonTranscoder
// configuration. It matches HTTP requests against the google.api.http bindings of the configured
// services, builds the request message from path variables, query parameters and the JSON body,
// calls the method over any grpc.ClientConnInterface, and renders the response (or the gRPC
// status) as JSON.
//
// A Transcoder is immutable and safe for concurrent use: build it once per configuration with
// New, then call Prepare and Execute per request. Prepare and the rendering functions are pure.
package grpcjson

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

	grpcjsonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/rpcbridge/rpcbridge/dataplane/protojsonwire"
	"github.com/rpcbridge/rpcbridge/httprule"

	"github.com/rpcbridge/rpcbridge/httprule/annotation"
)

// httpBodyName is google.api.HttpBody, whose messages pass raw bodies through.
const httpBodyName protoreflect.FullName = "google.api.HttpBody"

// Transcoder transcodes HTTP/JSON requests for the services of one GrpcJsonTranscoder config.
type Transcoder struct {
	cfg      *grpcjsonv3.GrpcJsonTranscoder
	types    *dynamicpb.Types
	bindings map[string][]*Binding // by HTTP method
	verbs    map[string]bool
	ignored  map[string]bool
	marshal  protojson.MarshalOptions
	parse    protojson.UnmarshalOptions
	codecs   codecs
	bodies   *bodyPool
	// wktCodecs are the codecs of the well-known types bound from text, by full name.
	wktCodecs *sync.Map
}

// Binding is one HTTP binding of a gRPC method: a google.api.http rule (primary or additional)
// or, with auto_mapping, the default POST /<package>.<Service>/<Method>.
type Binding struct {
	// Method is the gRPC method the binding calls.
	Method protoreflect.MethodDescriptor
	// FullMethod is the gRPC method path, "/<package>.<Service>/<Method>".
	FullMethod string
	// HTTPMethod and Pattern are the rule's verb and path template.
	HTTPMethod string
	Pattern    string
	// Body is "", "*" or the request field path the body fills.
	Body string
	// ResponseBody is "" or the response field rendered as the body.
	ResponseBody string

	// reqCodec and respCodec transcode straight between JSON and the wire (nil: protojson).
	reqCodec, respCodec *protojsonwire.Codec
	// bodyCodec transcodes the message holding the body field (nil: protojson).
	bodyCodec *protojsonwire.Codec
	// respCheck, with a response_body message field, is the whole response's codec, which
	// checks the response; respCodec is then the field's message's.
	respCheck *protojsonwire.Codec

	template  *httprule.Template
	bodyPath  []protoreflect.FieldDescriptor
	respField protoreflect.FieldDescriptor
	varPaths  map[string][]protoreflect.FieldDescriptor
	// topFields are the request's fields as one-field paths, by proto and JSON name.
	topFields map[string][]protoreflect.FieldDescriptor
}

// resolveQuery resolves a query parameter's field path in the request message.
func (b *Binding) resolveQuery(path string) ([]protoreflect.FieldDescriptor, error) {
	if fds, ok := b.topFields[path]; ok {
		return fds, nil
	}
	return resolvePath(b.Method.Input(), path)
}

// New builds a transcoder from a GrpcJsonTranscoder config. It fails, as Envoy does, when the
// descriptor set does not link, a listed service is missing, or a binding is malformed (a bad
// template, or a variable, body or response_body naming no field). Only proto_descriptor_bin
// is supported: the gateway cannot read Envoy's local descriptor files.
func New(cfg *grpcjsonv3.GrpcJsonTranscoder) (*Transcoder, error) {
	if cfg.GetProtoDescriptor() != "" {
		return nil, fmt.Errorf("proto_descriptor (a file name) is not supported; use proto_descriptor_bin")
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(cfg.GetProtoDescriptorBin(), set); err != nil {
		return nil, fmt.Errorf("proto_descriptor_bin: %w", err)
	}
	if len(set.GetFile()) == 0 {
		return nil, fmt.Errorf("proto_descriptor_bin holds no files")
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, fmt.Errorf("proto_descriptor_bin does not link: %w", err)
	}
	po := cfg.GetPrintOptions()
	t := &Transcoder{
		cfg:       cfg,
		types:     dynamicpb.NewTypes(files),
		bindings:  map[string][]*Binding{},
		verbs:     map[string]bool{},
		ignored:   map[string]bool{},
		bodies:    &bodyPool{},
		wktCodecs: &sync.Map{},
	}
	t.marshal = protojson.MarshalOptions{
		Multiline:         po.GetAddWhitespace(),
		EmitDefaultValues: po.GetAlwaysPrintPrimitiveFields(),
		UseEnumNumbers:    po.GetAlwaysPrintEnumsAsInts(),
		UseProtoNames:     po.GetPreserveProtoFieldNames(),
		Resolver:          t.types,
	}
	if po.GetAddWhitespace() {
		t.marshal.Indent = "  "
	}
	t.parse = protojson.UnmarshalOptions{Resolver: t.types}
	// Multiline output keeps protojson: its whitespace is its own.
	t.codecs = codecs{enabled: !po.GetAddWhitespace(), byName: map[protoreflect.FullName]*protojsonwire.Codec{},
		opts: protojsonwire.Options{EmitDefaultValues: t.marshal.EmitDefaultValues,
			UseEnumNumbers: t.marshal.UseEnumNumbers, UseProtoNames: t.marshal.UseProtoNames}}
	for _, q := range cfg.GetIgnoredQueryParameters() {
		t.ignored[q] = true
	}
	for _, name := range cfg.GetServices() {
		d, err := files.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			return nil, fmt.Errorf("service %q is not in proto_descriptor_bin", name)
		}
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			return nil, fmt.Errorf("%q is not a service", name)
		}
		if err := t.addService(sd); err != nil {
			return nil, err
		}
	}
	for _, bs := range t.bindings {
		slices.SortStableFunc(bs, func(a, b *Binding) int { return cmp.Compare(a.Pattern, b.Pattern) })
	}
	return t, nil
}

// addService indexes every binding of every method of a service.
func (t *Transcoder) addService(sd protoreflect.ServiceDescriptor) error {
	methods := sd.Methods()
	for i := 0; i < methods.Len(); i++ {
		md := methods.Get(i)
		full := "/" + string(sd.FullName()) + "/" + string(md.Name())
		opts, _ := md.Options().(*descriptorpb.MethodOptions)
		rule := annotation.FromOptions(opts)
		rules := annotation.Bindings(rule)
		if t.cfg.GetAutoMapping() && rule == nil {
			rules = []*annotations.HttpRule{{Pattern: &annotations.HttpRule_Post{Post: full}, Body: "*"}}
		}
		for j, r := range rules {
			b, err := newBinding(md, full, r)
			if err != nil {
				return fmt.Errorf("method %s binding %d: %w", md.FullName(), j, err)
			}
			t.codecs.attach(b)
			t.bindings[b.HTTPMethod] = append(t.bindings[b.HTTPMethod], b)
			if b.template.Verb != "" {
				t.verbs[b.template.Verb] = true
			}
		}
	}
	return nil
}

// newBinding compiles one rule and resolves its fields against the method's messages.
func newBinding(md protoreflect.MethodDescriptor, full string, r *annotations.HttpRule) (*Binding, error) {
	b := &Binding{Method: md, FullMethod: full, Body: r.GetBody(), ResponseBody: r.GetResponseBody()}
	verb, pattern, _ := annotation.VerbPath(r)
	if verb == "" {
		return nil, fmt.Errorf("no HTTP method and path")
	}
	b.HTTPMethod, b.Pattern = strings.ToUpper(verb), pattern
	tmpl, err := httprule.Parse(b.Pattern)
	if err != nil {
		return nil, err
	}
	b.template = tmpl
	in, out := md.Input(), md.Output()
	b.varPaths = map[string][]protoreflect.FieldDescriptor{}
	b.topFields = topFields(in)
	for _, v := range tmpl.Variables {
		fds, err := resolvePath(in, v.FieldPath)
		if err != nil {
			return nil, fmt.Errorf("path variable {%s}: %w", v.FieldPath, err)
		}
		b.varPaths[v.FieldPath] = fds
	}
	if b.Body != "" && b.Body != "*" {
		if b.bodyPath, err = resolvePath(in, b.Body); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
	}
	if b.ResponseBody != "" {
		if b.respField = findField(out, b.ResponseBody); b.respField == nil {
			return nil, fmt.Errorf("response_body: message %s has no field %q", out.FullName(), b.ResponseBody)
		}
	}
	return b, nil
}

// topFields maps each field of md by JSON name, then by proto name (which findField prefers),
// to the one-field path of it.
func topFields(md protoreflect.MessageDescriptor) map[string][]protoreflect.FieldDescriptor {
	fields := md.Fields()
	out := make(map[string][]protoreflect.FieldDescriptor, 2*fields.Len())
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		out[fd.JSONName()] = []protoreflect.FieldDescriptor{fd}
	}
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		out[string(fd.Name())] = []protoreflect.FieldDescriptor{fd}
	}
	return out
}

// Match finds the binding for an HTTP method and escaped request path (no query string) and
// returns it with its path variables (field path → unescaped value). Among matching templates
// the most specific wins, segment by segment: a literal before "*" before "**".
func (t *Transcoder) Match(method, path string) (*Binding, map[string]string, bool) {
	parts, verb, ok := httprule.SplitPath(path, t.verbs, t.cfg.GetMatchUnregisteredCustomVerb())
	if !ok {
		return nil, nil, false
	}
	var best *Binding
	var bestRank []httprule.SegmentKind
	// Ranks go to two buffers on the stack: one holds the best so far, the other the next try.
	var bufA, bufB [16]httprule.SegmentKind
	scratch, spare := bufA[:0], bufB[:0]
	for _, b := range t.bindings[method] {
		rank, ok := b.template.AppendMatch(scratch[:0], parts, verb)
		if ok && (best == nil || slices.Compare(rank, bestRank) < 0) {
			best, bestRank = b, rank
			scratch, spare = spare, rank
		}
	}
	if best == nil {
		return nil, nil, false
	}
	return best, best.template.Bind(parts, unescapeMode(t.cfg.GetUrlUnescapeSpec())), true
}

// MatchIncomingRequestRoute reports whether the route matched by the incoming HTTP request
// keeps serving the call; when false, Envoy matches the routes again with the gRPC request
// (POST /<package>.<Service>/<Method>) and takes that route's cluster.
func (t *Transcoder) MatchIncomingRequestRoute() bool { return t.cfg.GetMatchIncomingRequestRoute() }

// unescapeMode maps Envoy's url_unescape_spec to httprule's; anything unknown keeps reserved
// characters encoded, like the default.
func unescapeMode(spec grpcjsonv3.GrpcJsonTranscoder_UrlUnescapeSpec) httprule.Unescape {
	switch spec {
	case grpcjsonv3.GrpcJsonTranscoder_ALL_CHARACTERS:
		return httprule.UnescapeAll
	case grpcjsonv3.GrpcJsonTranscoder_ALL_CHARACTERS_EXCEPT_SLASH:
		return httprule.UnescapeAllExceptSlash
	default:
		return httprule.UnescapeAllExceptReserved
	}
}
