package grpcjson

import (
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/rpcbridge/rpcbridge/dataplane/formdata"
)

// Uploads. A binding with a body takes, besides JSON:
//
//   - a raw body (any content type that is not JSON or multipart, formdata.KindOf) into a
//     google.api.HttpBody (its data and content_type: what grpc-gateway's HTTPBodyMarshaler and
//     Envoy's transcoder do) or into a singular bytes body field, as it is;
//   - a multipart/form-data body (unless the body fills a google.api.HttpBody, which takes
//     every body raw), read part by part within max_request_body_size: each part
//     fills the request field its form name names (a dotted field path, as query parameters
//     bind), a file part its bytes or google.api.HttpBody field (data and the part's
//     Content-Type), a plain part any field bound from text; a file part whose name is no
//     field goes into the binding's body field when that is bytes.
//
// Envoy's grpc_json_transcoder parses any body that is not for an HttpBody as JSON, so the
// multipart form and raw bytes into a bytes field are the embedded gateway's alone (Envoy
// answers them 400); docs/protocols.md ("Files") says so.

// httpBodyTarget reports whether the body fills a google.api.HttpBody: the request (body "*")
// or the body field. Such a body is always raw, a multipart one too, as in Envoy and
// grpc-gateway: the method reads the form itself.
func (b *Binding) httpBodyTarget() bool {
	if b.Body == "*" {
		return b.Method.Input().FullName() == httpBodyName
	}
	return len(b.bodyPath) > 0 && isHTTPBodyField(b.bodyPath[len(b.bodyPath)-1])
}

// isBytesField reports whether fd is a singular bytes field.
func isBytesField(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.BytesKind && !fd.IsList() && !fd.IsMap()
}

// isHTTPBodyField reports whether fd is a singular google.api.HttpBody field.
func isHTTPBodyField(fd protoreflect.FieldDescriptor) bool {
	return fd.Message() != nil && fd.Message().FullName() == httpBodyName && !fd.IsList() && !fd.IsMap()
}

// formMessage builds the request message of a multipart/form-data request: query parameters,
// path variables, then the parts on top, in their order.
func (t *Transcoder) formMessage(b *Binding, vars map[string]string, params []boundParam, r *http.Request, contentType string) ([]byte, error) {
	limit := t.MaxRequestBodySize()
	var parts []formdata.Part
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		parts, err = formdata.Read(formdata.Limit(r.Body, limit), contentType)
		switch {
		case errors.Is(err, formdata.ErrTooLarge):
			return nil, &RequestError{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("request body is larger than %d bytes", limit)}
		case errors.Is(err, formdata.ErrMalformed):
			return nil, badRequest("%v", err)
		case err != nil:
			return nil, badRequest("reading the request body: %v", err)
		}
	}
	msg, err := t.boundMessage(b, vars, params)
	if err != nil {
		return nil, err
	}
	in := b.Method.Input()
	for _, p := range parts {
		if err := t.setPart(msg, b, p); err != nil {
			return nil, err
		}
	}
	return encodeRequest(in, msg)
}

// setPart puts one form part into the request message.
func (t *Transcoder) setPart(msg *dynamicpb.Message, b *Binding, p formdata.Part) error {
	fds, err := resolvePath(b.Method.Input(), p.Name)
	switch {
	case err == nil:
	case p.Filename != "" && len(b.bodyPath) > 0 && isBytesField(b.bodyPath[len(b.bodyPath)-1]):
		fds = b.bodyPath
	default:
		return badRequest("form field %q: %v", p.Name, err)
	}
	leaf := fds[len(fds)-1]
	parent := mutableParent(msg, fds)
	switch {
	case isHTTPBodyField(leaf):
		setHTTPBody(parent.Mutable(leaf).Message(), p.Data, p.ContentType)
	case isBytesField(leaf):
		parent.Set(leaf, protoreflect.ValueOfBytes(p.Data))
	default:
		if err := setFromText(msg, fds, []string{string(p.Data)}, t.cfg.GetCaseInsensitiveEnumParsing()); err != nil {
			return badRequest("form field %q: %v", p.Name, err)
		}
	}
	return nil
}
