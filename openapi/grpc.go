package openapi

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/httprule"
)

// maxQueryDepth bounds how deep query parameters reach into nested messages.
const maxQueryDepth = 4

// grpcOperation describes a transcoded gRPC method: path variables and query parameters fill
// request fields, the body fills the whole request or one field, and the response (or its
// response_body field) is the JSON body; a server-streaming method answers with a JSON array.
func (d *document) grpcOperation(r ir.Route, method string, p openAPIPath, names []string) (obj, error) {
	g := r.GRPC
	md, err := d.protos.method(g.Service, g.Method)
	if err != nil {
		return nil, err
	}
	in, out := md.Input(), md.Output()
	op := obj{
		"operationId": d.operationID(g.Service + "." + g.Method),
		"summary":     "Calls " + g.Service + "/" + g.Method,
		"tags":        []any{g.Service},
	}
	if summary, description := splitDoc(d.protos.doc(md.FullName())); summary != "" {
		op["summary"] = summary
		if description != "" {
			op["description"] = description
		}
	}
	bound := map[string]bool{}
	params := d.pathParams(p, names, func(field string) (obj, string) {
		fds, err := httprule.FieldPath(in, field)
		if err != nil {
			return obj{"type": "string"}, ""
		}
		bound[field] = true
		last := fds[len(fds)-1]
		return d.protos.fieldSchema(last), or(d.protos.doc(last.FullName()), "Request field "+field+".")
	})
	if g.Body != "*" {
		params = append(params, d.queryParams(in, "", g.Body, bound, 0, map[protoreflect.FullName]bool{})...)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	switch g.Body {
	case "":
	case "*":
		op["requestBody"] = jsonContent(d.protos.messageRef(in), "The request message "+string(in.FullName())+".")
	default:
		if fd := in.Fields().ByName(protoreflect.Name(g.Body)); fd != nil {
			op["requestBody"] = jsonContent(d.protos.fieldSchema(fd), or(d.protos.doc(fd.FullName()), "Request field "+g.Body+"."))
		}
	}
	if g.Upload {
		d.addGRPCUpload(op, g, in)
	}
	op["responses"] = obj{"200": d.grpcResponse(g, out), "default": obj{"description": "An error (google.rpc.Status as JSON)."}}
	return op, nil
}

func (d *document) grpcResponse(g *ir.GRPCRoute, out protoreflect.MessageDescriptor) obj {
	if out.FullName() == "google.api.HttpBody" && g.ResponseBody == "" {
		desc := "The body the method returns (google.api.HttpBody), with its own content type."
		if g.ServerStreaming {
			desc = "The bodies the method streams (google.api.HttpBody), written as they arrive, with the first one's content type."
		}
		return obj{"description": desc, "content": obj{"*/*": obj{"schema": binarySchema()}}}
	}
	schema, desc := d.protos.messageRef(out), "The response message "+string(out.FullName())+"."
	if g.ResponseBody != "" {
		if fd := out.Fields().ByName(protoreflect.Name(g.ResponseBody)); fd != nil {
			schema, desc = d.protos.fieldSchema(fd), or(d.protos.doc(fd.FullName()), "Response field "+g.ResponseBody+".")
		}
	}
	if g.ServerStreaming {
		schema, desc = obj{"type": "array", "items": schema}, "The streamed responses, as one JSON array. "+desc
	}
	r := jsonContent(schema, desc)
	return r
}

// queryParams lists the scalar (and repeated scalar) request fields not bound by the path or the
// body, by dotted proto field path.
func (d *document) queryParams(md protoreflect.MessageDescriptor, prefix, body string, bound map[string]bool, depth int, seen map[protoreflect.FullName]bool) []any {
	if depth > maxQueryDepth || seen[md.FullName()] {
		return nil
	}
	seen[md.FullName()] = true
	defer delete(seen, md.FullName())
	var out []any
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		path := prefix + string(fd.Name())
		if bound[path] || (depth == 0 && path == body) || fd.IsMap() {
			continue
		}
		msg := fd.Message()
		if msg != nil && !queryScalar(msg.FullName()) {
			if !fd.IsList() {
				out = append(out, d.queryParams(msg, path+".", body, bound, depth+1, seen)...)
			}
			continue
		}
		param := obj{"name": path, "in": "query", "schema": d.protos.fieldSchema(fd)}
		if doc := d.protos.doc(fd.FullName()); doc != "" {
			param["description"] = doc
		}
		if fd.IsList() {
			param["explode"] = true
			param["style"] = "form"
		}
		out = append(out, param)
	}
	return out
}

// queryScalar reports whether a message type is one query value (a well-known scalar).
func queryScalar(name protoreflect.FullName) bool {
	switch name {
	case "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue", "google.protobuf.Any", "google.protobuf.Empty":
		return false
	}
	return strings.HasPrefix(string(name), "google.protobuf.") && wellKnown[name] != nil
}

// jsonContent is a request body or response with one JSON schema.
func jsonContent(schema obj, desc string) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": schema}}}
}

// addGRPCUpload describes the upload forms of a route that takes a file: the raw body into a
// google.api.HttpBody (any content type) or a bytes body field (application/octet-stream),
// and, for body "*", a multipart/form-data form of the request's top-level fields, whose bytes
// and HttpBody fields are files.
func (d *document) addGRPCUpload(op obj, g *ir.GRPCRoute, in protoreflect.MessageDescriptor) {
	isFile := func(fd protoreflect.FieldDescriptor) bool {
		return !fd.IsList() && !fd.IsMap() && (fd.Kind() == protoreflect.BytesKind ||
			fd.Message() != nil && fd.Message().FullName() == "google.api.HttpBody")
	}
	if target := in.Fields().ByName(protoreflect.Name(g.Body)); g.Body == "*" && in.FullName() == "google.api.HttpBody" ||
		target != nil && target.Message() != nil && target.Message().FullName() == "google.api.HttpBody" {
		// A google.api.HttpBody takes every body as it is, with its content type.
		op["requestBody"] = obj{"required": true, "description": "The raw body, with its content type (google.api.HttpBody).",
			"content": obj{"*/*": obj{"schema": binarySchema()}}}
		return
	}
	body, _ := op["requestBody"].(obj)
	if body == nil {
		return
	}
	content, _ := body["content"].(obj)
	props := obj{}
	fields := in.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if g.Body != "*" && string(fd.Name()) != g.Body && !isFile(fd) {
			continue
		}
		if isFile(fd) {
			props[fd.JSONName()] = binarySchema()
		} else {
			props[fd.JSONName()] = d.protos.fieldSchema(fd)
		}
	}
	if g.Body != "*" {
		if fd := fields.ByName(protoreflect.Name(g.Body)); fd != nil && isFile(fd) {
			content["application/octet-stream"] = obj{"schema": binarySchema()}
		}
	}
	content["multipart/form-data"] = obj{"schema": obj{"type": "object", "properties": props}}
	body["description"] = "The body: JSON, a multipart/form-data form (files as parts), or the raw bytes of the file field."
}
