package dubborpc

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	hessian "github.com/apache/dubbo-go-hessian2"
	"github.com/apache/dubbo-go-hessian2/java_exception"

	"github.com/rpcbridge/rpcbridge/dubborpc/hessianwire"
)

// dubboVersion is the protocol version the client announces. From 2.0.2 on, providers send
// response attachments.
const dubboVersion = "2.0.2"

// The response body kinds (the first value of a response body).
const (
	responseWithException                = 0
	responseValue                        = 1
	responseNullValue                    = 2
	responseWithExceptionWithAttachments = 3
	responseValueWithAttachments         = 4
	responseNullValueWithAttachments     = 5
)

// encodeRequest builds the whole packet of a two-way request: header and hessian2 body. timeout
// goes to the provider as the "timeout" attachment (milliseconds) when positive. The packet is
// in a pooled buffer: the caller gives buf back (putBuffer) once the packet is written.
func encodeRequest(id int64, req Request, timeout time.Duration) (frame []byte, buf *[]byte, err error) {
	desc, err := Descriptor(req.ParamTypes)
	if err != nil {
		return nil, nil, err
	}
	if len(req.ParamTypes) != len(req.Args) {
		return nil, nil, fmt.Errorf("%d parameter types for %d arguments", len(req.ParamTypes), len(req.Args))
	}
	if !slices.ContainsFunc(req.Args, needsEncoder) {
		buf = getBuffer()
		*buf = appendRequest(*buf, id, req, desc, timeout)
		return *buf, buf, nil
	}
	frame, err = encodeRequestWithEncoder(id, req, desc, timeout)
	return frame, nil, err
}

// appendRequest appends the packet of req, whose arguments are all values hessianwire
// writes (see needsEncoder): the bytes encodeRequestWithEncoder writes, the attachments
// aside (a map: its entries in another order).
func appendRequest(b []byte, id int64, req Request, desc string, timeout time.Duration) []byte {
	b = appendHeader(b, header{request: true, twoWay: true, serialization: serializationHessian2, id: id})
	for _, s := range [...]string{dubboVersion, req.Interface, req.Version, req.Method, desc} {
		b = hessianwire.AppendString(b, s)
	}
	for _, a := range req.Args {
		b = appendArg(b, a)
	}
	// The attachments: the caller's, then those the client sets, which replace the caller's.
	b = append(b, 'H')
	for k, v := range req.Attachments {
		if !clientAttachment(k, req, timeout) {
			b = hessianwire.AppendString(hessianwire.AppendString(b, k), v)
		}
	}
	for _, kv := range [...][2]string{{"path", req.Interface}, {"interface", req.Interface}, {"dubbo", dubboVersion},
		{"version", req.Version}, {"group", req.Group}} {
		if kv[1] != "" || kv[0] == "path" || kv[0] == "interface" {
			b = hessianwire.AppendString(hessianwire.AppendString(b, kv[0]), kv[1])
		}
	}
	if timeout > 0 {
		var ms [20]byte
		b = hessianwire.AppendString(hessianwire.AppendString(b, "timeout"),
			string(strconv.AppendInt(ms[:0], max(timeout.Milliseconds(), 1), 10)))
	}
	b = append(b, 'Z')
	setBodyLength(b)
	return b
}

// clientAttachment reports whether the client sets attachment k of req itself (replacing the
// caller's value): path, interface and dubbo always, version and group when req has them,
// timeout when it is positive.
func clientAttachment(k string, req Request, timeout time.Duration) bool {
	switch k {
	case "path", "interface", "dubbo":
		return true
	case "timeout":
		return timeout > 0
	case "version":
		return req.Version != ""
	case "group":
		return req.Group != ""
	}
	return false
}

// needsEncoder reports whether argument a is a value appendArg does not write (a map, a
// POJO, a slice other than []string...), which the request is then encoded with a hessian2
// Encoder for, as one stream (class definitions and references are numbered across it).
func needsEncoder(a any) bool {
	switch a := a.(type) {
	case nil, RawArg, string, []string, bool, int32, int64, float64:
		return false
	case genericArgs:
		return slices.ContainsFunc(a, needsEncoder)
	}
	return true
}

// appendArg writes one argument that needsEncoder accepts, as encodeArg does.
func appendArg(b []byte, a any) []byte {
	switch a := a.(type) {
	case nil:
		return hessianwire.AppendNull(b)
	case RawArg:
		return append(b, a...)
	case string:
		return hessianwire.AppendString(b, a)
	case bool:
		return hessianwire.AppendBool(b, a)
	case int32:
		return hessianwire.AppendInt32(b, a)
	case int64:
		return hessianwire.AppendInt64(b, a)
	case float64:
		return hessianwire.AppendFloat64(b, a)
	case []string:
		if a == nil {
			return hessianwire.AppendNull(b)
		}
		b = hessianwire.AppendInt32(hessianwire.AppendString(append(b, 'V'), "[string"), int32(len(a)))
		for _, s := range a {
			b = hessianwire.AppendString(b, s)
		}
		return b
	case genericArgs:
		b = hessianwire.AppendInt32(hessianwire.AppendString(append(b, 'V'), "[object"), int32(len(a)))
		for _, item := range a {
			b = appendArg(b, item)
		}
		return b
	}
	panic(fmt.Sprintf("dubborpc: appendArg of %T, which needsEncoder", a)) // a bug of this package
}

// encodeRequestWithEncoder builds the packet of any request through a hessian2 Encoder.
func encodeRequestWithEncoder(id int64, req Request, desc string, timeout time.Duration) ([]byte, error) {
	enc := hessian.NewEncoder()
	enc.Append(appendHeader(make([]byte, 0, HeaderLength),
		header{request: true, twoWay: true, serialization: serializationHessian2, id: id}))
	for _, s := range []string{dubboVersion, req.Interface, req.Version, req.Method, desc} {
		if err := enc.Encode(s); err != nil {
			return nil, fmt.Errorf("encode request header field: %w", err)
		}
	}
	for i, a := range req.Args {
		if err := encodeArg(enc, a); err != nil {
			return nil, fmt.Errorf("encode argument %d (%s): %w", i, req.ParamTypes[i], err)
		}
	}
	att := make(map[string]string, len(req.Attachments)+6)
	maps.Copy(att, req.Attachments)
	att["path"] = req.Interface
	att["interface"] = req.Interface
	att["dubbo"] = dubboVersion
	if req.Version != "" {
		att["version"] = req.Version
	}
	if req.Group != "" {
		att["group"] = req.Group
	}
	if timeout > 0 {
		att["timeout"] = strconv.FormatInt(max(timeout.Milliseconds(), 1), 10)
	}
	if err := enc.Encode(att); err != nil {
		return nil, fmt.Errorf("encode attachments: %w", err)
	}
	frame := enc.Buffer()
	setBodyLength(frame)
	return frame, nil
}

// encodeArg writes one argument: a RawArg as its bytes, a genericArgs list as the Object[] of
// $invoke (framed here so that its elements may be RawArgs), anything else through hessian2.
func encodeArg(enc *hessian.Encoder, a any) error {
	switch a := a.(type) {
	case RawArg:
		enc.Append(a)
		return nil
	case genericArgs:
		// What hessian2 writes for an Object[]: a fixed-length list typed "[object".
		enc.Append([]byte{'V'})
		if err := enc.Encode("[object"); err != nil {
			return err
		}
		if err := enc.Encode(int32(len(a))); err != nil {
			return err
		}
		for i, item := range a {
			if err := encodeArg(enc, item); err != nil {
				return fmt.Errorf("generic argument %d: %w", i, err)
			}
		}
		return nil
	}
	return enc.Encode(a)
}

// heartbeatRequest is the packet of a heartbeat (event) request.
func heartbeatRequest(id int64) []byte {
	return eventPacket(header{request: true, twoWay: true, event: true, serialization: serializationHessian2, id: id})
}

// heartbeatResponse answers a heartbeat request the provider sent.
func heartbeatResponse(id int64) []byte {
	return eventPacket(header{event: true, serialization: serializationHessian2, status: StatusOK, id: id})
}

func eventPacket(h header) []byte {
	frame := appendHeader(make([]byte, 0, HeaderLength+1), h)
	frame = hessian.EncNull(frame)
	setBodyLength(frame)
	return frame
}

// decodeResponse decodes the body of a response with status st.
func decodeResponse(st Status, body []byte) (Response, error) {
	if st == StatusOK {
		if resp, ok := readScalarResponse(body); ok {
			return resp, nil
		}
	}
	return decodeResponseWithDecoder(st, body)
}

// readScalarResponse reads, without a hessian2 Decoder, the responses whose value is a scalar
// hessianwire.ReadScalar reads (or null) and whose attachments hessianwire.ReadStringMap reads:
// what decodeResponseWithDecoder returns for them (TestScalarResponseAsDecoder). ok is false for
// every other body.
func readScalarResponse(body []byte) (Response, bool) {
	kind, n, ok := hessianwire.ReadScalar(body)
	if !ok {
		return Response{}, false
	}
	var resp Response
	switch kind {
	case int32(responseValue), int32(responseValueWithAttachments):
		v, vn, ok := hessianwire.ReadScalar(body[n:])
		if !ok {
			return Response{}, false
		}
		resp.Value, n = v, n+vn
	case int32(responseNullValue), int32(responseNullValueWithAttachments):
	default:
		return Response{}, false
	}
	if kind == int32(responseValueWithAttachments) || kind == int32(responseNullValueWithAttachments) {
		att, _, ok := hessianwire.ReadStringMap(body[n:], internAttachment)
		if !ok {
			return Response{}, false
		}
		resp.Attachments = att
	}
	return resp, true
}

// internAttachment returns the string of the attachment names and values that every
// response carries (those of Dubbo and dubbo-go providers), so that reading them allocates
// nothing.
func internAttachment(text []byte) (string, bool) {
	s, ok := attachmentStrings[string(text)] // looked up without converting text
	return s, ok
}

// attachmentStrings are the strings internAttachment holds (read only).
var attachmentStrings = map[string]string{"path": "path", "interface": "interface", "version": "version",
	"group": "group", "dubbo": "dubbo", "timeout": "timeout", "generic": "generic", "true": "true", "false": "false",
	dubboVersion: dubboVersion, "local-addr": "local-addr", "remote-addr": "remote-addr",
	"dubbo-go-graceful-shutdown-provider-counted": "dubbo-go-graceful-shutdown-provider-counted",
	"traceparent": "traceparent", "tracestate": "tracestate"}

// decodeResponseWithDecoder decodes any response body with a hessian2 Decoder.
func decodeResponseWithDecoder(st Status, body []byte) (Response, error) {
	// hessian.NewDecoder buffers through a fresh 4 KiB bufio.Reader; most bodies are far
	// smaller, and the buffer is garbage after one response.
	dec := hessian.NewDecoderSize(body, min(len(body), 4096))
	if st != StatusOK {
		msg, _ := dec.Decode()
		s, _ := msg.(string)
		return Response{}, &StatusError{Status: st, Message: s}
	}
	kindValue, err := dec.Decode()
	if err != nil {
		return Response{}, fmt.Errorf("decode response kind: %w", err)
	}
	kind, ok := kindValue.(int32)
	if !ok {
		return Response{}, fmt.Errorf("response kind is %T, not an int", kindValue)
	}
	var resp Response
	var exception any
	switch kind {
	case responseValue, responseValueWithAttachments:
		if resp.Value, err = dec.Decode(); err != nil {
			return Response{}, fmt.Errorf("decode response value: %w", err)
		}
	case responseWithException, responseWithExceptionWithAttachments:
		if exception, err = dec.Decode(); err != nil {
			return Response{}, fmt.Errorf("decode exception: %w", err)
		}
	case responseNullValue, responseNullValueWithAttachments:
	default:
		return Response{}, fmt.Errorf("unknown response kind %d", kind)
	}
	if kind >= responseWithExceptionWithAttachments {
		raw, err := dec.Decode()
		if err != nil {
			return Response{}, fmt.Errorf("decode response attachments: %w", err)
		}
		resp.Attachments = stringMap(raw)
	}
	if exception != nil || kind == responseWithException || kind == responseWithExceptionWithAttachments {
		re := remoteError(exception)
		if re.Class == "" {
			re.Class = leadingClassName(body[1:])
		}
		unwrapGenericException(re)
		re.Attachments = resp.Attachments
		return Response{}, re
	}
	return resp, nil
}

// stringMap converts a decoded hessian map into a map of strings (non-string values are
// formatted).
func stringMap(raw any) map[string]string {
	out := map[string]string{}
	add := func(k, v any) {
		ks, ok := k.(string)
		if !ok || v == nil {
			return
		}
		if vs, ok := v.(string); ok {
			out[ks] = vs
		} else {
			out[ks] = fmt.Sprint(v)
		}
	}
	switch m := raw.(type) {
	case map[any]any:
		for k, v := range m {
			add(k, v)
		}
	case map[string]any:
		for k, v := range m {
			add(k, v)
		}
	case map[string]string:
		return m
	}
	return out
}

// remoteError turns a decoded exception into a RemoteError. hessian2 decodes Throwables into
// its java_exception types (or into a generic one for unknown classes); objects that do not
// look like Throwables come as maps.
func remoteError(v any) *RemoteError {
	switch e := v.(type) {
	case nil:
		return &RemoteError{Class: "java.lang.Throwable"}
	case java_exception.Throwabler:
		return &RemoteError{Class: e.JavaClassName(), Message: detailMessage(e)}
	case map[string]any:
		return &RemoteError{Class: str(e[hessian.ClassKey], e["class"]), Message: str(e["detailMessage"], e["message"])}
	case map[any]any:
		return &RemoteError{Class: str(e[hessian.ClassKey], e["class"]), Message: str(e["detailMessage"], e["message"])}
	case string:
		return &RemoteError{Class: "java.lang.Throwable", Message: e}
	case error:
		return &RemoteError{Class: "java.lang.Throwable", Message: e.Error()}
	}
	return &RemoteError{Class: fmt.Sprintf("%T", v), Message: fmt.Sprint(v)}
}

// isGenericException reports whether class is what a Java provider's GenericFilter wraps an
// exception in when a generic ($invoke) call throws (Dubbo ≥ 2.7, and 2.6's com.alibaba
// package).
func isGenericException(class string) bool {
	switch class {
	case "org.apache.dubbo.rpc.service.GenericException", "com.alibaba.dubbo.rpc.service.GenericException":
		return true
	}
	return false
}

// unwrapGenericException replaces a GenericException by the exception it wraps. Its
// detailMessage is Dubbo's StringUtils.toString(cause): the cause's "class: message", a line
// break, then the cause's stack trace, which starts with the same "class: message" again
// (hessian2 decodes it as a Throwable and drops its exceptionClass and exceptionMessage
// fields, so the detail is what is left to read). It is left as it is when the detail does
// not have that shape.
func unwrapGenericException(re *RemoteError) {
	if !isGenericException(re.Class) {
		return
	}
	detail := re.Message
	for i := 0; i < len(detail); i++ {
		if detail[i] != '\n' {
			continue
		}
		head := detail[:i]
		if strings.HasPrefix(detail[i+1:], head) {
			class, message, _ := strings.Cut(head, ": ")
			if class != "" && !strings.ContainsAny(class, " \n\t") {
				re.Class, re.Message = class, message
			}
			return
		}
	}
}

// detailMessage reads the DetailMessage field every hessian2 Throwable type has; Error() may add
// decoration.
func detailMessage(e java_exception.Throwabler) string {
	v := reflect.ValueOf(e)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return e.Error()
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct {
		if f := v.FieldByName("DetailMessage"); f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
	}
	return e.Error()
}

func str(candidates ...any) string {
	for _, c := range candidates {
		if s, ok := c.(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// leadingClassName reads the class name of the object that starts b, when b starts with its
// class definition ('C', name, fields). hessian2 decodes exceptions of unknown classes into a
// type that loses the name, so the name is read from the stream. The response kind is one byte
// (0x90-0x95), so the exception starts at body[1].
func leadingClassName(b []byte) string {
	if len(b) < 2 || b[0] != 'C' {
		return ""
	}
	name, err := hessian.NewDecoder(b[1:]).Decode()
	if err != nil {
		return ""
	}
	s, _ := name.(string)
	return s
}
