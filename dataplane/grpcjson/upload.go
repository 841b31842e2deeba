package grpcjson

import (
	"errors"
	"fmt"
	"io"
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

// A client-streaming method whose body fills a google.api.HttpBody (the request, or the body
// field) takes the body as it arrives, unbuffered, as Envoy's transcoder does
// (json_transcoder_filter.cc, decodeData and maybeSendHttpBodyRequestMessage): every read of
// the body, in pieces of at most 1 MiB (Envoy's MaxStreamedPieceSize, below grpc-go's 4 MiB
// message limit), becomes one request message; the first one also holds the fields the path
// and query bind and the content type, the others only data. Envoy bounds neither the number
// nor the total size of the pieces (max_request_body_size applies to buffered bodies), and
// neither does this: the route's timeouts bound the upload.

// streamedPieceSize is the largest piece of a streamed body sent as one message.
const streamedPieceSize = 1 << 20

// streamedBody is a request body sent as it arrives.
type streamedBody struct {
	// first is the first message, with the bound fields.
	first *dynamicpb.Message
	// req is the request whose body is read when the call runs: the data plane may give the
	// request its unbounded body back first (StreamsBody).
	req         *http.Request
	contentType string
}

// StreamsBody reports whether Execute sends the request body as it arrives, reading it from
// the request then, rather than having read it in Prepare: such a body is not buffered, so a
// data plane need not bound it by its buffer limits.
func (c *Call) StreamsBody() bool { return c.streamed != nil }

// sendBody sends the streamed body over cs, one message per read: at least one message, the
// first with the bound fields and the content type. It stops without error when the server
// ended the call (RecvMsg tells how), and returns the body's read error.
func (t *Transcoder) sendBody(cs interface{ SendMsg(any) error }, b *Binding, s *streamedBody) error {
	body := s.req.Body
	if body == nil {
		body = http.NoBody
	}
	buf := make([]byte, streamedPieceSize)
	for first := true; ; first = false {
		n, readErr := body.Read(buf)
		if n > 0 || first {
			msg := s.first
			if !first {
				msg = dynamicpb.NewMessage(b.Method.Input())
			}
			target := msg.ProtoReflect()
			if b.Body != "*" {
				leaf := b.bodyPath[len(b.bodyPath)-1]
				target = mutableParent(msg, b.bodyPath).Mutable(leaf).Message()
			}
			fields := target.Descriptor().Fields()
			if first && s.contentType != "" {
				target.Set(fields.ByName("content_type"), protoreflect.ValueOfString(s.contentType))
			}
			target.Set(fields.ByName("data"), protoreflect.ValueOfBytes(append([]byte(nil), buf[:n]...)))
			raw, err := encodeRequest(b.Method.Input(), msg)
			if err != nil {
				return err
			}
			if cs.SendMsg(raw) != nil {
				return nil
			}
		}
		switch {
		case errors.Is(readErr, io.EOF):
			return nil
		case readErr != nil:
			return fmt.Errorf("reading the request body: %w", readErr)
		}
	}
}

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
