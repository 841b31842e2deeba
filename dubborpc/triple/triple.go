// Package triple calls Dubbo 3 Triple providers in non-IDL mode, the mode of a Java service
// whose protocol is switched to tri without a protobuf IDL: each argument is a hessian2 value
// inside a protobuf TripleRequestWrapper, the result a hessian2 value inside a
// TripleResponseWrapper, carried by gRPC framing over HTTP/2 (POST /<interface>/<method>,
// group and version in the tri-service-group and tri-service-version headers). The calls are
// dubborpc.Requests, built as for the Dubbo protocol (dubborpc.GenericRequest: $invoke with
// typed arguments), so that one argument encoder serves both protocols; answers come back as
// dubborpc.Response and dubborpc's error types, so that a gateway maps them to HTTP as it maps
// Dubbo's.
//
// Triple with a protobuf IDL is plain gRPC on the wire and needs nothing of this package.
package triple

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/rpcbridge/rpcbridge/dubborpc"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// Serialization is the serializeType of the wrappers this package writes and reads.
const Serialization = "hessian2"

// The request headers that name the service (dubbo-go's triple_protocol/header_compat.go,
// Java's TripleHeaderEnum).
const (
	HeaderGroup   = "tri-service-group"
	HeaderVersion = "tri-service-version"
)

// Invoke calls req on the Triple provider behind cc and waits for the answer; ctx's deadline
// goes to the provider as grpc-timeout. An answer that is not a result is one of dubborpc's
// errors with the meaning of its gRPC status (see callError); a request over
// req.PayloadLimit is dubborpc.ErrPayloadTooLarge, unsent.
func Invoke(ctx context.Context, cc grpc.ClientConnInterface, req dubborpc.Request) (dubborpc.Response, error) {
	body, err := RequestBody(req)
	if err != nil {
		return dubborpc.Response{}, err
	}
	if req.PayloadLimit > 0 && len(body) > req.PayloadLimit {
		return dubborpc.Response{}, fmt.Errorf("%w: triple request of %d bytes, limit %d", dubborpc.ErrPayloadTooLarge, len(body), req.PayloadLimit)
	}
	var reply []byte
	var header, trailer metadata.MD
	err = cc.Invoke(metadata.NewOutgoingContext(ctx, requestMetadata(req)), Path(req), &body, &reply,
		grpc.ForceCodec(wireCodec{}), grpc.Header(&header), grpc.Trailer(&trailer))
	if err != nil {
		return dubborpc.Response{}, callError(err)
	}
	return decodeReply(reply, header)
}

// Path is the HTTP/2 :path of req: /<interface>/<method>.
func Path(req dubborpc.Request) string { return "/" + req.Interface + "/" + req.Method }

// RequestBody is the TripleRequestWrapper of req: its arguments hessian2-encoded one by one,
// their types as Java's Class.getName() spells them ("java.lang.String", "[Ljava.lang.Object;"),
// which Java providers resolve the method's parameter classes from.
func RequestBody(req dubborpc.Request) ([]byte, error) {
	args, err := dubborpc.EncodeArgs(req)
	if err != nil {
		return nil, err
	}
	types := make([]string, len(req.ParamTypes))
	for i, t := range req.ParamTypes {
		if types[i], err = className(t); err != nil {
			return nil, fmt.Errorf("parameter %d: %w", i, err)
		}
	}
	return requestWrapper(Serialization, args, types), nil
}

// className is Class.getName() of a Java type: the erasure for a class or primitive, the JVM
// descriptor with dots for an array.
func className(t string) (string, error) {
	d, err := javatype.Descriptor(t)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(d, "[") {
		return strings.ReplaceAll(d, "/", "."), nil
	}
	jt, err := javatype.Parse(t)
	if err != nil {
		return "", err
	}
	return jt.Erasure(), nil
}

// requestMetadata are the request headers of req: its attachments (as Triple carries them)
// and the service's group and version.
func requestMetadata(req dubborpc.Request) metadata.MD {
	md := metadata.MD{}
	for k, v := range req.Attachments {
		k = strings.ToLower(k)
		if reservedHeader(k) {
			continue
		}
		md.Append(k, v)
	}
	if req.Group != "" {
		md.Set(HeaderGroup, req.Group)
	}
	if req.Version != "" {
		md.Set(HeaderVersion, req.Version)
	}
	return md
}

// reservedHeader reports the header names that an attachment cannot take: HTTP/2 pseudo and
// connection headers and gRPC's own, which gRPC refuses or sets itself.
func reservedHeader(k string) bool {
	switch k {
	case "content-type", "te", "user-agent", "host", "connection", "content-length", "transfer-encoding":
		return true
	}
	return k == "" || strings.HasPrefix(k, ":") || strings.HasPrefix(k, "grpc-") ||
		strings.HasPrefix(k, HeaderGroup) || strings.HasPrefix(k, HeaderVersion)
}

// decodeReply unwraps a TripleResponseWrapper into a dubborpc.Response; the response headers
// that are not HTTP/2's or gRPC's are its attachments.
func decodeReply(reply []byte, header metadata.MD) (dubborpc.Response, error) {
	w, err := parseResponseWrapper(reply)
	if err != nil {
		return dubborpc.Response{}, err
	}
	if w.serializeType != "" && w.serializeType != Serialization {
		return dubborpc.Response{}, fmt.Errorf("%w: serializeType %q", errNotWrapper, w.serializeType)
	}
	v, err := dubborpc.DecodeValue(w.data)
	if err != nil {
		return dubborpc.Response{}, err
	}
	resp := dubborpc.Response{Value: v}
	for k, vs := range header {
		if len(vs) > 0 && !reservedHeader(k) {
			if resp.Attachments == nil {
				resp.Attachments = map[string]string{}
			}
			resp.Attachments[k] = vs[0]
		}
	}
	return resp, nil
}

// javaThrowable matches a message that starts with a Java class name and a colon, the form of
// Throwable.toString() ("com.foo.BarException: text").
var javaThrowable = regexp.MustCompile(`^((?:[A-Za-z_$][A-Za-z0-9_$]*\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error|Throwable)): ?(.*)$`)

// callError maps a failed Triple call onto dubborpc's errors, by the meaning of its gRPC status
// as Java Dubbo's TriRpcStatus maps statuses and Dubbo's response codes onto each other:
//   - UNKNOWN is what Triple servers answer when the method threw (dubbo-go: grpc-message is
//     the error's text; no exception object travels): a *dubborpc.RemoteError, whose class is
//     read from the message when it has Throwable.toString()'s form, else java.lang.Throwable
//     (as dubborpc names an exception that came as bare text);
//   - DEADLINE_EXCEEDED: SERVER_TIMEOUT; UNIMPLEMENTED and NOT_FOUND: SERVICE_NOT_FOUND;
//     RESOURCE_EXHAUSTED: SERVER_THREADPOOL_EXHAUSTED; INVALID_ARGUMENT: BAD_REQUEST;
//     INTERNAL and others: SERVICE_ERROR (*dubborpc.StatusError);
//   - UNAVAILABLE, with which gRPC fails calls it could not get to the provider:
//     dubborpc.ErrUnavailable;
//   - CANCELED, when the caller gave up, the context's error.
func callError(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	msg := st.Message()
	switch st.Code() {
	case codes.Unknown:
		re := &dubborpc.RemoteError{Class: "java.lang.Throwable", Message: msg}
		if m := javaThrowable.FindStringSubmatch(msg); m != nil {
			re.Class, re.Message = m[1], m[2]
		}
		return re
	case codes.DeadlineExceeded:
		return &dubborpc.StatusError{Status: dubborpc.StatusServerTimeout, Message: msg}
	case codes.Unimplemented, codes.NotFound:
		return &dubborpc.StatusError{Status: dubborpc.StatusServiceNotFound, Message: msg}
	case codes.ResourceExhausted:
		return &dubborpc.StatusError{Status: dubborpc.StatusServerThreadpoolExhausted, Message: msg}
	case codes.InvalidArgument:
		return &dubborpc.StatusError{Status: dubborpc.StatusBadRequest, Message: msg}
	case codes.Unavailable:
		return fmt.Errorf("%w: %s", dubborpc.ErrUnavailable, msg)
	case codes.Canceled:
		return fmt.Errorf("triple call canceled: %w", context.Canceled)
	}
	return &dubborpc.StatusError{Status: dubborpc.StatusServiceError, Message: fmt.Sprintf("%s: %s", st.Code(), msg)}
}
