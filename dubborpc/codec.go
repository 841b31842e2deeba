package dubborpc

import (
	"fmt"
	"reflect"
	"strings"

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
