package dubborpc

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	hessian "github.com/apache/dubbo-go-hessian2"

	"github.com/rpcbridge/rpcbridge/dubborpc/hessianwire"
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
