package ir

import "time"

// The RPC half of the IR: how a matched HTTP request becomes a gRPC or Dubbo call. A Route with
// neither GRPC nor Dubbo set is plain HTTP proxying.
//
// gRPC routes follow grpc_json_transcoder: the google.api.http binding of the method selects the
// request (Match.PathTemplate + Match.Methods), the request message is built from path variables,
// query parameters and the body as Body says, and the response (or its ResponseBody field) is
// rendered as JSON. Envoy needs the descriptors; the embedded gateway needs the same.
//
// Dubbo routes follow the Higress http_dubbo_transcoder: every argument of the Java method comes
// from one place of the HTTP request (DubboParam.From), is converted to its Java type, and the
// call goes out as a generic invocation with the exact parameter types.

// GRPCRoute makes a route call a gRPC (or Triple) method.
type GRPCRoute struct {
	// Service is the fully qualified service name ("pkg.Greeter").
	Service string `json:"service" yaml:"service"`
	// Method is the simple method name ("SayHello").
	Method string `json:"method" yaml:"method"`
	// Body is "" (no request body), "*" (the body is the whole request message) or the request
	// field path the body fills.
	Body string `json:"body,omitempty" yaml:"body,omitempty"`
	// ResponseBody is "" (the whole response message) or the response field rendered as the body.
	ResponseBody string `json:"responseBody,omitempty" yaml:"responseBody,omitempty"`
	// ServerStreaming marks a method whose responses are streamed.
	ServerStreaming bool `json:"serverStreaming,omitempty" yaml:"serverStreaming,omitempty"`
	// Upload marks a route that takes a file: its body fills a google.api.HttpBody or a bytes
	// field (the whole request, the body field, or a top-level field of a body "*" request,
	// which a multipart/form-data part fills). Its body is bounded by the upload limit rather
	// than the listener's buffer limit.
	Upload bool `json:"upload,omitempty" yaml:"upload,omitempty"`
	// Triple, when set, says that the service is Dubbo 3 Triple with a protobuf IDL (gRPC on the
	// wire) and names the version and group its providers registered it with, which every call
	// must carry in Triple's service headers: a Triple server looks the implementation up by
	// them.
	Triple *TripleService `json:"triple,omitempty" yaml:"triple,omitempty"`
}

// TripleService is the identity of a Triple service beyond its name.
type TripleService struct {
	// Version and Group are the service's version and group; empty for none.
	Version string `json:"version,omitempty" yaml:"version,omitempty"`
	Group   string `json:"group,omitempty" yaml:"group,omitempty"`
}

// ProtoDescriptors is the descriptor set one gRPC service needs, shared by its routes.
type ProtoDescriptors struct {
	// Service is the fully qualified service name.
	Service string `json:"service" yaml:"service"`
	// FileDescriptorSet is a serialized google.protobuf.FileDescriptorSet holding the service's
	// file and everything it imports, deterministic for equal input.
	FileDescriptorSet []byte `json:"fileDescriptorSet" yaml:"fileDescriptorSet"`
	// Docs are the comments of the set's elements by full name (idl.Schema.ProtoDocs), for the
	// OpenAPI document and MCP tools; the set itself carries no SourceCodeInfo.
	Docs map[string]string `json:"docs,omitempty" yaml:"docs,omitempty"`
}

// DubboRoute makes a route call a Dubbo method.
type DubboRoute struct {
	// Interface, Version and Group identify the Dubbo service.
	Interface string `json:"interface" yaml:"interface"`
	Version   string `json:"version,omitempty" yaml:"version,omitempty"`
	Group     string `json:"group,omitempty" yaml:"group,omitempty"`
	// Method is the Java method name.
	Method string `json:"method" yaml:"method"`
	// Doc and ReturnsDoc are the method's Javadoc description and @return text, when the IDL
	// carries them (Java sources, declarative YAML), for the OpenAPI document and MCP tools.
	Doc        string `json:"doc,omitempty" yaml:"doc,omitempty"`
	ReturnsDoc string `json:"returnsDoc,omitempty" yaml:"returnsDoc,omitempty"`
	// Params are the method's parameters in call order.
	Params []DubboParam `json:"params" yaml:"params"`
	// Returns is the Java return type, for rendering the result.
	Returns string `json:"returns" yaml:"returns"`
	// Attachments lists request headers forwarded as Dubbo attachments; "*" forwards all.
	Attachments []string `json:"attachments,omitempty" yaml:"attachments,omitempty"`
	// AttachmentNames are the attachment keys of forwarded headers whose key is not the
	// header's name, by header name (lower case): x-dubbo-tag → dubbo.tag.
	AttachmentNames map[string]string `json:"attachmentNames,omitempty" yaml:"attachmentNames,omitempty"`
	// Timeout is the Dubbo call timeout (from the provider's URL params or a rule); 0 means the
	// route's timeout.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// PayloadLimit is the largest Dubbo request body, in bytes after the 16-byte header, that
	// the service's providers accept (Dubbo's payload limit, the smallest among the providers):
	// a provider closes the connection on a larger one. 0 means Dubbo's default, 8 MiB.
	PayloadLimit int `json:"payloadLimit,omitempty" yaml:"payloadLimit,omitempty"`
	// Protocol is what the providers speak: Dubbo (the default) or Dubbo 3 Triple in non-IDL
	// mode (the Java interface's arguments hessian2-encoded inside Triple's wrapper messages,
	// over HTTP/2; its cluster is UpstreamHTTP2).
	Protocol DubboProtocol `json:"protocol,omitempty" yaml:"protocol,omitempty"`
	// Upload marks a route that takes a file: a byte[] parameter from the body (a body field
	// or the whole body). It also accepts multipart/form-data (parts bind the body arguments by
	// name) and a raw body (into its one byte[] body argument), bounded by the upload limit
	// rather than the listener's buffer limit.
	Upload bool `json:"upload,omitempty" yaml:"upload,omitempty"`
	// Download, when set, is how a byte[] result is answered: its content type and file
	// name. A byte[] result without it is application/octet-stream without a file name.
	Download *Download `json:"download,omitempty" yaml:"download,omitempty"`
}

// Download is how a route answers a byte[] result: as the body itself, not JSON.
type Download struct {
	// ContentType is the answer's Content-Type; "" means application/octet-stream.
	ContentType string `json:"contentType,omitempty" yaml:"contentType,omitempty"`
	// Filename, when set, makes the answer an attachment of that name (Content-Disposition:
	// attachment; filename=...). "{var}" in it is replaced by the route's path variable var.
	Filename string `json:"filename,omitempty" yaml:"filename,omitempty"`
}

// DubboProtocol is the wire protocol of a Dubbo route's calls.
type DubboProtocol string

// The protocols a Dubbo route's calls can take.
const (
	// DubboProtocolDubbo is the Dubbo 2 TCP protocol (the zero value).
	DubboProtocolDubbo DubboProtocol = ""
	// DubboProtocolTriple is Dubbo 3 Triple in non-IDL mode, hessian2 serialization.
	DubboProtocolTriple DubboProtocol = "triple"
)

// ParamSource says where in the HTTP request an argument comes from.
type ParamSource string

// The argument sources, named after the Higress extract_key_spec values.
const (
	FromQuery  ParamSource = "query"
	FromHeader ParamSource = "header"
	FromPath   ParamSource = "path"
	// FromBody takes the body's top-level JSON field Key.
	FromBody ParamSource = "body"
	// FromWholeBody takes the whole JSON body as the argument.
	FromWholeBody ParamSource = "wholeBody"
)

// DubboParam is one argument of a Dubbo call.
type DubboParam struct {
	// Name is the parameter's name (source name when known, else "arg0", "arg1", ...).
	Name string `json:"name" yaml:"name"`
	// Type is the Java type in source syntax with generics ("java.util.List<com.foo.User>");
	// its erasure is the $invoke parameter type.
	Type string `json:"type" yaml:"type"`
	// From and Key locate the value: the query parameter, header, path variable or body field
	// called Key; Key is empty for FromWholeBody.
	From ParamSource `json:"from" yaml:"from"`
	Key  string      `json:"key,omitempty" yaml:"key,omitempty"`
	// Doc is the parameter's @param text, when the IDL carries it.
	Doc string `json:"doc,omitempty" yaml:"doc,omitempty"`
}

// JavaClass is a DTO or enum that Dubbo arguments and results use, so that JSON can be encoded
// as typed hessian2 objects with the IDL's class and field names.
type JavaClass struct {
	// Name is the fully qualified class name ("com.foo.Outer$Inner").
	Name string `json:"name" yaml:"name"`
	// Doc is the class's Javadoc description, when the IDL carries it.
	Doc string `json:"doc,omitempty" yaml:"doc,omitempty"`
	// Enum is true for enums, whose values are Constants.
	Enum      bool     `json:"enum,omitempty" yaml:"enum,omitempty"`
	Constants []string `json:"constants,omitempty" yaml:"constants,omitempty"`
	// TypeParams are the generic parameters ("T") that field types may use.
	TypeParams []string `json:"typeParams,omitempty" yaml:"typeParams,omitempty"`
	// Fields are the serialized fields, superclass fields first.
	Fields []JavaField `json:"fields,omitempty" yaml:"fields,omitempty"`
}

// JavaField is one field of a JavaClass.
type JavaField struct {
	Name string `json:"name" yaml:"name"`
	Type string `json:"type" yaml:"type"`
	// Doc is the field's Javadoc description, when the IDL carries it.
	Doc string `json:"doc,omitempty" yaml:"doc,omitempty"`
}
