package grpcjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/rpcbridge/rpcbridge/dataplane/formdata"
)

// DefaultMaxRequestBodySize bounds a request body when max_request_body_size is unset, like
// Envoy's default per-connection buffer limit (1 MiB).
const DefaultMaxRequestBodySize = 1 << 20

// ErrNotTranscoded means the request is not the transcoder's to handle and goes upstream as it
// is, which is what Envoy does with gRPC requests, paths no binding matches and requests with
// unknown query parameters, unless request_validation_options say to reject them.
var ErrNotTranscoded = errors.New("grpcjson: request passes through untranscoded")

// RequestError is a request the transcoder refuses: it is answered with Status (an HTTP status
// code) and Message, and nothing is sent upstream.
type RequestError struct {
	Status  int
	Message string
}

// Error implements error.
func (e *RequestError) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }

func badRequest(format string, args ...any) *RequestError {
	return &RequestError{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// Call is a transcoded request, ready to be sent with Execute.
type Call struct {
	// Binding is the binding the request matched.
	Binding *Binding
	// Requests are the serialized request messages: one, or the elements of the JSON array
	// body of a client-streaming method.
	Requests [][]byte
	// Metadata is the outgoing gRPC metadata taken from the request headers.
	Metadata metadata.MD
	// Accept are the request's Accept values: they choose the framing of a server stream
	// (StreamFormatFor).
	Accept []string

	// streamed, when set, is a request body that Execute sends as it arrives (upload.go).
	streamed *streamedBody
	// one holds the request of a call with one, so that Requests needs no allocation of its own.
	one [1][]byte
}

// single sets the call's one request message.
func (c *Call) single(msg []byte) {
	c.one[0] = msg
	c.Requests = c.one[:]
}

// boundParam is a query parameter resolved to a request field.
type boundParam struct {
	name   string
	fields []protoreflect.FieldDescriptor
	values []string
}

// Prepare turns an HTTP request into a Call. It returns ErrNotTranscoded for requests Envoy
// would pass through, and a *RequestError for requests it rejects (malformed JSON or parameter
// values, a body over the size limit, or what request_validation_options reject). It reads
// the request body.
func (t *Transcoder) Prepare(r *http.Request) (*Call, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
		return nil, ErrNotTranscoded
	}
	b, vars, ok := t.Match(r.Method, r.URL.EscapedPath())
	if !ok {
		if t.cfg.GetRequestValidationOptions().GetRejectUnknownMethod() {
			return nil, &RequestError{Status: http.StatusNotFound, Message: fmt.Sprintf("no gRPC method is bound to %s %s", r.Method, r.URL.Path)}
		}
		return nil, ErrNotTranscoded
	}
	params, err := t.bindQuery(b, r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	call := &Call{Binding: b, Metadata: outgoingMetadata(r), Accept: r.Header.Values("Accept")}
	contentType := r.Header.Get("Content-Type")
	if b.Method.IsStreamingClient() && b.httpBodyTarget() {
		// Envoy streams such a body as a sequence of HttpBody messages (upload.go).
		msg, err := t.boundMessage(b, vars, params)
		if err != nil {
			return nil, err
		}
		call.streamed = &streamedBody{first: msg, req: r, contentType: contentType}
		return call, nil
	}
	if b.Body != "" && !b.httpBodyTarget() && formdata.KindOf(contentType) == formdata.Multipart {
		msg, err := t.formMessage(b, vars, params, r, contentType)
		if err != nil {
			return nil, err
		}
		call.Requests = [][]byte{msg}
		return call, nil
	}
	buf := t.bodies.get()
	body, err := t.readBodyInto((*buf)[:0], r)
	// The body is read into a pooled buffer: every message built from it below is encoded
	// (copied) before Prepare returns.
	defer t.bodies.put(buf, body)
	if err != nil {
		return nil, err
	}
	if b.Method.IsStreamingClient() && b.Body != "" && len(bytes.TrimSpace(body)) > 0 {
		var elements []json.RawMessage
		if err := json.Unmarshal(body, &elements); err != nil {
			return nil, badRequest("body of client-streaming method %s must be a JSON array: %v", b.Method.FullName(), err)
		}
		for _, el := range elements {
			msg, err := t.buildMessage(b, vars, params, el, contentType)
			if err != nil {
				return nil, err
			}
			call.Requests = append(call.Requests, msg)
		}
		return call, nil
	}
	msg, err := t.buildMessage(b, vars, params, body, contentType)
	if err != nil {
		return nil, err
	}
	call.single(msg)
	return call, nil
}

// bindQuery resolves the query parameters against the request message. A parameter given
// again adds a value to the first; the values of all parameters share one backing array.
func (t *Transcoder) bindQuery(b *Binding, rawQuery string) ([]boundParam, error) {
	if rawQuery == "" {
		return nil, nil
	}
	n := strings.Count(rawQuery, "&") + 1
	params := make([]boundParam, 0, n)
	values := make([]string, n)
	var index map[string]int // beyond a few parameters, so that repeated keys stay linear
	for rest := rawQuery; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		key, err := t.unescapeQuery(key)
		if err != nil {
			return nil, badRequest("query parameter %q: %v", key, err)
		}
		if value, err = t.unescapeQuery(value); err != nil {
			return nil, badRequest("query parameter %q: %v", key, err)
		}
		if t.ignored[key] {
			continue
		}
		if i := findParam(params, index, key); i >= 0 {
			params[i].values = append(params[i].values, value)
			continue
		}
		fields, err := b.resolveQuery(key)
		if err != nil {
			switch {
			case t.cfg.GetIgnoreUnknownQueryParameters() || t.cfg.GetCaptureUnknownQueryParameters():
				continue
			case t.cfg.GetRequestValidationOptions().GetRejectUnknownQueryParameters():
				return nil, badRequest("query parameter %q: %v", key, err)
			default:
				return nil, ErrNotTranscoded
			}
		}
		if len(params) == 8 {
			index = make(map[string]int, n)
			for i, p := range params {
				index[p.name] = i
			}
		}
		if index != nil {
			index[key] = len(params)
		}
		at := len(params)
		values[at] = value
		params = append(params, boundParam{name: key, fields: fields, values: values[at : at+1 : at+1]})
	}
	return params, nil
}

// findParam is the index of the parameter called key, or -1.
func findParam(params []boundParam, index map[string]int, key string) int {
	if index != nil {
		if i, ok := index[key]; ok {
			return i
		}
		return -1
	}
	for i := range params {
		if params[i].name == key {
			return i
		}
	}
	return -1
}

// unescapeQuery percent-decodes a query key or value; '+' means a space only with
// query_param_unescape_plus.
func (t *Transcoder) unescapeQuery(s string) (string, error) {
	if t.cfg.GetQueryParamUnescapePlus() {
		s = strings.ReplaceAll(s, "+", " ")
	}
	return url.PathUnescape(s)
}

// readBody reads the whole body within max_request_body_size (413 beyond it).
func (t *Transcoder) readBody(r *http.Request) ([]byte, error) {
	return t.readBodyInto(nil, r)
}

// readBodyInto is readBody appending to buf.
func (t *Transcoder) readBodyInto(buf []byte, r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return buf, nil
	}
	limit := t.MaxRequestBodySize()
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf, &RequestError{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("request body is larger than %d bytes", limit)}
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, &RequestError{Status: http.StatusBadRequest, Message: fmt.Sprintf("reading the request body: %v", err)}
		}
	}
}

// MaxRequestBodySize is the largest request body the transcoder reads: max_request_body_size,
// or DefaultMaxRequestBodySize when it is unset.
func (t *Transcoder) MaxRequestBodySize() int64 {
	if m := t.cfg.GetMaxRequestBodySize(); m != nil {
		return int64(m.GetValue())
	}
	return DefaultMaxRequestBodySize
}

// BodyLimit is max_request_body_size, 0 when it is unset: a data plane bounds the stream's
// buffer by it instead of its own buffer limit, as Envoy's transcoder does.
func (t *Transcoder) BodyLimit() int64 {
	return int64(t.cfg.GetMaxRequestBodySize().GetValue())
}

// buildMessage builds and serializes one request message: query parameters first, then path
// variables, then the body on top (a body value wins over a binding, as in Envoy).
func (t *Transcoder) buildMessage(b *Binding, vars map[string]string, params []boundParam, body []byte, contentType string) ([]byte, error) {
	in := b.Method.Input()
	if b.Body != "" && len(params) == 0 && len(b.template.Variables) == 0 {
		// Only the body fills the message: encode the decoded body as it is, without an
		// empty message to merge it into (one message and a copy less per request).
		if out, ok := fastEncode(b, body); ok {
			return out, nil
		}
		fromBody, err := t.bodyMessage(b, body, contentType)
		if err != nil {
			return nil, err
		}
		return encodeRequest(in, fromBody)
	}
	if out, ok := t.fastBound(b, vars, params, body, contentType); ok {
		return out, nil
	}
	msg, err := t.boundMessage(b, vars, params)
	if err != nil {
		return nil, err
	}
	if b.Body != "" {
		fromBody, err := t.bodyMessage(b, body, contentType)
		if err != nil {
			return nil, err
		}
		proto.Merge(msg, fromBody)
	}
	return encodeRequest(in, msg)
}

// boundMessage is a request message holding the query parameters and path variables.
func (t *Transcoder) boundMessage(b *Binding, vars map[string]string, params []boundParam) (*dynamicpb.Message, error) {
	msg := dynamicpb.NewMessage(b.Method.Input())
	fold := t.cfg.GetCaseInsensitiveEnumParsing()
	for _, p := range params {
		if err := setFromText(msg, p.fields, p.values, fold); err != nil {
			return nil, badRequest("query parameter %q: %v", p.name, err)
		}
	}
	for _, v := range b.template.Variables {
		if err := setFromText(msg, b.varPaths[v.FieldPath], []string{vars[v.FieldPath]}, fold); err != nil {
			return nil, badRequest("path variable {%s}: %v", v.FieldPath, err)
		}
	}
	return msg, nil
}

// encodeRequest serializes a request message of type in.
func encodeRequest(in protoreflect.MessageDescriptor, msg *dynamicpb.Message) ([]byte, error) {
	out, err := proto.MarshalOptions{}.Marshal(msg)
	if err != nil {
		return nil, &RequestError{Status: http.StatusInternalServerError, Message: fmt.Sprintf("encoding %s: %v", in.FullName(), err)}
	}
	return out, nil
}

// bodyMessage decodes the body into a request message: the whole message for body "*", or
// only the field the binding names. A google.api.HttpBody target takes the raw body.
func (t *Transcoder) bodyMessage(b *Binding, body []byte, contentType string) (*dynamicpb.Message, error) {
	in := b.Method.Input()
	msg := dynamicpb.NewMessage(in)
	if b.Body == "*" {
		if in.FullName() == httpBodyName {
			setHTTPBody(msg, body, contentType)
			return msg, nil
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return msg, nil
		}
		if err := t.parse.Unmarshal(body, msg); err != nil {
			return nil, badRequest("body: %v", err)
		}
		return msg, nil
	}
	leaf := b.bodyPath[len(b.bodyPath)-1]
	parent := mutableParent(msg, b.bodyPath)
	if leaf.Message() != nil && leaf.Message().FullName() == httpBodyName && !leaf.IsList() {
		setHTTPBody(parent.Mutable(leaf).Message(), body, contentType)
		return msg, nil
	}
	if isBytesField(leaf) && formdata.KindOf(contentType) == formdata.Raw {
		// A raw (non-JSON) body into a bytes field is the field's value as it is (upload.go).
		parent.Set(leaf, protoreflect.ValueOfBytes(body))
		return msg, nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return msg, nil
	}
	// Decode the body as the value of the field inside a one-field object of its message.
	wrapper := make([]byte, 0, len(body)+len(leaf.Name())+5)
	wrapper = append(wrapper, `{"`...)
	wrapper = append(wrapper, leaf.Name()...)
	wrapper = append(wrapper, `":`...)
	wrapper = append(append(wrapper, body...), '}')
	holder := dynamicpb.NewMessage(leaf.ContainingMessage())
	if err := t.parse.Unmarshal(wrapper, holder); err != nil {
		return nil, badRequest("body (field %s): %v", b.Body, err)
	}
	if holder.Has(leaf) {
		// A null body leaves the field unset: a null message, list or map cannot be set (it
		// panicked), and an unset scalar is a zero that proto.Merge does not copy anyway.
		parent.Set(leaf, holder.Get(leaf))
	}
	return msg, nil
}

// setHTTPBody fills a google.api.HttpBody with the raw body and its content type.
func setHTTPBody(m protoreflect.Message, body []byte, contentType string) {
	fields := m.Descriptor().Fields()
	m.Set(fields.ByName("content_type"), protoreflect.ValueOfString(contentType))
	m.Set(fields.ByName("data"), protoreflect.ValueOfBytes(body))
}
