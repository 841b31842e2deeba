package grpcjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// HTTPStatus maps a gRPC status code to the HTTP status Envoy (and grpc-gateway) answer with.
func HTTPStatus(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.Canceled:
		return 499
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	default: // Unknown, Internal, DataLoss and codes gRPC does not define
		return http.StatusInternalServerError
	}
}

// StatusJSON renders a gRPC status as a google.rpc.Status JSON body with the print options.
// Details are resolved against the descriptor set only, as in Envoy: it reports false when a
// detail's type is not there, and the status then goes without a body.
func (t *Transcoder) StatusJSON(st *status.Status) ([]byte, bool) {
	out, err := t.toJSON(st.Proto())
	if err != nil {
		return nil, false
	}
	return out, true
}

// RenderResponse renders one serialized response message as the HTTP body: the JSON of the
// message, or of its response_body field. HttpBody responses are not rendered here (see Execute).
func (t *Transcoder) RenderResponse(b *Binding, raw []byte) ([]byte, error) {
	return t.appendResponse(nil, b, raw)
}

// appendResponse is RenderResponse appending to dst on the fast path (the protojson path
// returns a buffer of its own).
func (t *Transcoder) appendResponse(dst []byte, b *Binding, raw []byte) ([]byte, error) {
	if out, ok := fastRender(dst, b, raw); ok {
		return out, nil
	}
	msg := dynamicpb.NewMessage(b.Method.Output())
	if err := safeUnmarshal(b.Method.Output().FullName(), func() error {
		return (proto.UnmarshalOptions{Resolver: t.types}).Unmarshal(raw, msg)
	}); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", b.Method.Output().FullName(), err)
	}
	if b.respField == nil {
		return t.toJSON(msg)
	}
	fd := b.respField
	if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
		if !msg.Has(fd) {
			return t.toJSON(dynamicpb.NewMessage(fd.Message()))
		}
		return t.toJSON(msg.Get(fd).Message().Interface())
	}
	return t.fieldJSON(msg, fd)
}

// fieldJSON renders one non-message field (a scalar, list or map) as JSON: protojson renders
// only messages, so the field is rendered inside a one-field message and taken out again.
func (t *Transcoder) fieldJSON(msg *dynamicpb.Message, fd protoreflect.FieldDescriptor) ([]byte, error) {
	holder := dynamicpb.NewMessage(msg.Descriptor())
	if msg.Has(fd) {
		holder.Set(fd, msg.Get(fd))
	}
	opts := t.marshal
	opts.Multiline, opts.Indent = false, ""
	name := fd.JSONName()
	if opts.UseProtoNames {
		name = string(fd.Name())
	}
	value, err := fieldValueJSON(opts, holder, name)
	if err == nil && value == nil {
		// The field is empty or zero: render its default ([], {}, 0, "").
		opts.EmitDefaultValues = true
		value, err = fieldValueJSON(opts, holder, name)
	}
	if err != nil {
		return nil, err
	}
	if t.marshal.Multiline {
		var buf bytes.Buffer
		if err := json.Indent(&buf, value, "", t.marshal.Indent); err == nil {
			return buf.Bytes(), nil
		}
	}
	return value, nil
}

// fieldValueJSON renders holder and returns the JSON value of its field name (nil if absent).
func fieldValueJSON(opts protojson.MarshalOptions, holder *dynamicpb.Message, name string) (json.RawMessage, error) {
	whole, err := opts.Marshal(holder)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(whole, &fields); err != nil {
		return nil, err
	}
	return fields[name], nil
}

// toJSON renders a message with the print options. protojson varies its whitespace on purpose;
// compact output is normalized to what Envoy prints.
func (t *Transcoder) toJSON(m proto.Message) ([]byte, error) {
	out, err := t.marshal.Marshal(m)
	if err != nil {
		return nil, err
	}
	if t.marshal.Multiline {
		return out, nil
	}
	var buf bytes.Buffer
	buf.Grow(len(out))
	if err := json.Compact(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// httpBodyParts reads content_type and data from a serialized google.api.HttpBody.
func httpBodyParts(md protoreflect.MessageDescriptor, raw []byte) (string, []byte, error) {
	msg := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(raw, msg); err != nil {
		return "", nil, fmt.Errorf("decoding %s: %w", md.FullName(), err)
	}
	fields := md.Fields()
	return msg.Get(fields.ByName("content_type")).String(), msg.Get(fields.ByName("data")).Bytes(), nil
}
