// Package dubbojson runs the embedded gateway's REST-to-Dubbo routes: it takes the arguments
// of a Java method from an HTTP request (query, header, path variable, body field or whole
// JSON body), converts them to hessian2 values of their exact Java types, builds the generic
// Dubbo call ($invoke with the exact erased parameter types; see Route.Prepare), and renders
// the result or the Java exception as JSON.
//
// DTOs, enums, BigDecimal, BigInteger and java.time values go as typed hessian2 objects with
// the IDL's class and field names (see writer): dubbo-go-hessian2 cannot encode a class known
// only at run time without registering a Go type in its process-wide registry, so this
// package writes those objects' bytes itself and hands the finished arguments to dubborpc as
// RawArgs. Nothing is registered in hessian2's registry.
package dubbojson

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dubborpc"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// Metadata is one Dubbo route as this package runs it, decoded by the route table from the
// contract's gatewayv1.DubboRoute (typed_filter_metadata["rpcbridge.io/dubbo"]).
type Metadata struct {
	Route       ir.DubboRoute  `json:"route"`
	JavaClasses []ir.JavaClass `json:"javaClasses,omitempty"`
	// Values bound the BigDecimal and BigInteger arguments (zero fields: javatype's defaults).
	Values ir.DubboValueLimits `json:"values,omitzero"`
	// UploadLimit, when > 0, makes the route take files (upload.go): multipart/form-data and
	// raw bodies too, read up to UploadLimit bytes instead of PayloadLimit.
	UploadLimit int64 `json:"uploadLimit,omitempty"`
}

// Route is one REST-to-Dubbo route ready to run. It is immutable and safe for concurrent use.
type Route struct {
	dubbo      ir.DubboRoute
	params     []*javatype.Type
	paramTypes []string
	returns    *javatype.Type
	classes    map[string]ir.JavaClass
	fields     map[string]classFields // see parseFields
	template   *template
	numbers    javatype.NumberLimits
	// payloadLimit bounds both the JSON body and the encoded Dubbo request body (see Prepare).
	payloadLimit int
	// uploadLimit, when > 0, bounds the body of a route that takes files (upload.go).
	uploadLimit int64
	// rawParam is the index of the one byte[] body argument a raw body fills, -1 for none.
	rawParam int
	// decodedOnly makes every JSON body take the decoded path (for the tests that hold the
	// tape's output to it).
	decodedOnly bool
	// download is how a byte[] result is answered (download.go); nil when the result is not
	// byte[].
	download *download
}

// NewRoute prepares a route from its metadata and the transcoder's match pattern (the path
// template whose variables feed path arguments; "" when the route has none).
func NewRoute(meta Metadata, matchPattern string) (*Route, error) {
	d := meta.Route
	if d.Interface == "" || d.Method == "" {
		return nil, errors.New("dubbo route: empty interface or method")
	}
	if d.PayloadLimit < 0 {
		return nil, fmt.Errorf("dubbo route %s.%s: negative payload limit %d", d.Interface, d.Method, d.PayloadLimit)
	}
	r := &Route{dubbo: d, classes: make(map[string]ir.JavaClass, len(meta.JavaClasses)),
		numbers: numberLimits(meta.Values), payloadLimit: cmp.Or(d.PayloadLimit, dubborpc.DefaultMaxBodySize)}
	for _, c := range meta.JavaClasses {
		r.classes[c.Name] = c
	}
	r.fields = parseFields(r.classes)
	for i, p := range d.Params {
		t, err := javatype.Parse(p.Type)
		if err != nil {
			return nil, fmt.Errorf("dubbo route %s.%s param %d: %w", d.Interface, d.Method, i, err)
		}
		r.params = append(r.params, t)
		r.paramTypes = append(r.paramTypes, t.Erasure())
	}
	returns := d.Returns
	if returns == "" {
		returns = "java.lang.Object"
	}
	t, err := javatype.Parse(returns)
	if err != nil {
		return nil, fmt.Errorf("dubbo route %s.%s returns: %w", d.Interface, d.Method, err)
	}
	r.returns = t
	if meta.UploadLimit < 0 {
		return nil, fmt.Errorf("dubbo route %s.%s: negative upload limit %d", d.Interface, d.Method, meta.UploadLimit)
	}
	r.uploadLimit, r.rawParam = meta.UploadLimit, rawParam(d.Params, r.params)
	if r.download, err = newDownload(d.Download, t, matchPattern); err != nil {
		return nil, fmt.Errorf("dubbo route %s.%s: %w", d.Interface, d.Method, err)
	}
	if matchPattern != "" && slices.ContainsFunc(d.Params, func(p ir.DubboParam) bool { return p.From == ir.FromPath }) {
		if r.template, err = compileTemplate(matchPattern); err != nil {
			return nil, fmt.Errorf("dubbo route %s.%s: %w", d.Interface, d.Method, err)
		}
	}
	return r, nil
}

// Timeout is the route's Dubbo call timeout; 0 means the HTTP route's timeout applies.
func (r *Route) Timeout() time.Duration { return r.dubbo.Timeout }

// Protocol is what the route's providers speak: Dubbo, or Triple in non-IDL mode (the same
// call, carried by dubborpc/triple).
func (r *Route) Protocol() ir.DubboProtocol { return r.dubbo.Protocol }

// Method names the called method, for logs ("iface:version.method").
func (r *Route) Method() string {
	return r.dubbo.Interface + ":" + r.dubbo.Version + "." + r.dubbo.Method
}

// numberLimits are the value limits of the IR as javatype applies them, defaults filled in.
func numberLimits(v ir.DubboValueLimits) javatype.NumberLimits {
	return javatype.NumberLimits{MaxDecimalDigits: v.MaxDecimalDigits, MaxDecimalScale: v.MaxDecimalScale,
		MaxIntegerDigits: v.MaxIntegerDigits}.OrDefaults()
}

// PayloadLimit is the largest Dubbo request body the route's providers accept (Dubbo's
// payload limit, default 8 MiB), which also bounds the JSON request body.
func (r *Route) PayloadLimit() int { return r.payloadLimit }

// UploadLimit bounds the body of a route that takes files; 0 for other routes.
func (r *Route) UploadLimit() int64 { return r.uploadLimit }

// RequestError is a request the route refuses: an argument that is missing, is not valid
// UTF-8 or does not convert to its Java type (400), or a body over PayloadLimit (413).
type RequestError struct {
	Status  int
	Message string
}

// Error implements error.
func (e *RequestError) Error() string { return e.Message }

// Prepare builds the Dubbo call of one HTTP request: a generic invocation ($invoke) of the
// Java method named with its exact erased parameter types (which select the overload), its
// arguments typed hessian2 values.
//
// The provider's generic service passes typed objects through as they are (Java's PojoUtils
// keeps an instance of the parameter's class; dubbo-go decodes it into the registered Go type
// before realizing it), so DTOs, enums and BigDecimal arrive as the IDL's classes rather than
// as maps, which dubbo-go providers could not realize.
//
// What no provider could decode is refused here with a 400 rather than sent: text that is not
// valid UTF-8 (Java strings hold Unicode; Go's JSON decoder would silently replace it with
// U+FFFD), and BigDecimal and BigInteger values beyond the route's javatype.NumberLimits. The
// request carries PayloadLimit, so that dubborpc refuses an encoded body over it
// (dubborpc.ErrPayloadTooLarge) before sending it.
func (r *Route) Prepare(req *http.Request) (dubborpc.Request, error) {
	src, err := r.sources(req)
	if err != nil {
		return dubborpc.Request{}, err
	}
	defer src.release()
	args, err := r.encodeArgs(src)
	if errors.Is(err, errDecodedPath) { // a value the tape does not write: decode the body
		if err = src.decode(); err == nil {
			args, err = r.encodeArgs(src)
		}
	}
	if err != nil {
		return dubborpc.Request{}, err
	}
	d := r.dubbo
	call := dubborpc.GenericRequest(d.Interface, d.Version, d.Group, d.Method, r.paramTypes, args, r.attachments(req))
	call.PayloadLimit = r.payloadLimit
	return call, nil
}

// encodeArgs converts the arguments of one request: from the body's tape when it has one
// (stream.go; errDecodedPath when a value needs the decoded body), else from decoded values.
func (r *Route) encodeArgs(src *sources) ([]any, error) {
	// One writer for all arguments: class definitions are numbered across the whole body.
	w := newWriter()
	enc := &encoder{w: w, classes: r.classes, fields: r.fields, numbers: r.numbers}
	args := make([]any, len(r.params))
	start := 0
	for i, p := range r.dubbo.Params {
		if idx, ok, err := src.node(p); ok {
			if err == nil {
				err = enc.encodeNode(r.params[i], src.tape, idx, nil)
			}
			if errors.Is(err, errDecodedPath) {
				return nil, err
			}
			if err != nil {
				return nil, argumentError(p, err)
			}
		} else {
			v, err := src.value(p, r.params[i])
			if err == nil {
				err = enc.encode(r.params[i], v, nil)
			}
			if err != nil {
				return nil, argumentError(p, err)
			}
		}
		end := len(w.bytes())
		args[i] = dubborpc.RawArg(w.bytes()[start:end:end])
		start = end
	}
	return args, nil
}

// argumentError is the 400 naming the argument and its Java type.
func argumentError(p ir.DubboParam, err error) error {
	where := fmt.Sprintf("%s %q", p.From, p.Key)
	if p.From == ir.FromWholeBody {
		where = "the request body"
	}
	msg := fmt.Sprintf("argument %s (%s, from %s): %v", p.Name, p.Type, where, err)
	var ve *valueError
	if errors.As(err, &ve) {
		msg = fmt.Sprintf("argument %s (%s, from %s)%s: %s", p.Name, p.Type, where, ve.path, ve.reason)
	}
	return &RequestError{Status: http.StatusBadRequest, Message: msg}
}

// attachments are the request headers the route forwards, under their attachment names (nil
// for none).
func (r *Route) attachments(req *http.Request) map[string]string {
	if len(r.dubbo.Attachments) == 0 {
		return nil // GenericRequest makes the call's map
	}
	out := map[string]string{}
	names := r.dubbo.AttachmentNames
	if slices.Contains(r.dubbo.Attachments, "*") {
		for k, v := range req.Header {
			if name, ok := names[strings.ToLower(k)]; ok {
				out[name] = v[0]
				continue
			}
			out[http.CanonicalHeaderKey(k)] = v[0]
		}
		return out
	}
	for _, k := range r.dubbo.Attachments {
		if v := req.Header.Get(k); v != "" {
			out[cmp.Or(names[strings.ToLower(k)], k)] = v
		}
	}
	return out
}

// readBody decodes the JSON body with UseNumber; nil for an empty body. A body over limit
// bytes is refused (413) without being read beyond it, at once when its Content-Length says
// so; a body that is not valid UTF-8 JSON text is a 400.
func readBody(req *http.Request, limit int) (any, error) {
	raw, err := readJSON(req, limit)
	if err != nil || raw == nil {
		return nil, err
	}
	return decodeJSON(raw)
}

// readJSON reads the body that readBody decodes, checked as Unicode text (checkText); nil for
// an empty body.
func readJSON(req *http.Request, limit int) ([]byte, error) {
	if req.Body == nil {
		return nil, nil
	}
	tooLarge := &RequestError{Status: http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("request body is larger than %d bytes, the providers' payload limit", limit)}
	if req.ContentLength > int64(limit) {
		return nil, tooLarge
	}
	raw, err := io.ReadAll(io.LimitReader(req.Body, int64(limit)+1))
	if err != nil {
		return nil, &RequestError{Status: http.StatusBadRequest, Message: fmt.Sprintf("reading the body: %v", err)}
	}
	if len(raw) > limit {
		return nil, tooLarge
	}
	if len(raw) == 0 {
		return nil, nil
	}
	if err := checkText(raw); err != nil {
		return nil, &RequestError{Status: http.StatusBadRequest, Message: "body: " + err.Error()}
	}
	return raw, nil
}

// decodeJSON decodes the one JSON value of a body readJSON read.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &RequestError{Status: http.StatusBadRequest, Message: fmt.Sprintf("body is not JSON: %v", err)}
	}
	if dec.More() {
		return nil, &RequestError{Status: http.StatusBadRequest, Message: "body holds more than one JSON value"}
	}
	return v, nil
}
