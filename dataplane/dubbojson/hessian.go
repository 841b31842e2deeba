package dubbojson

import (
	"errors"
	"time"

	"github.com/rpcbridge/rpcbridge/dubborpc/hessianwire"
)

// writer writes hessian2 values for classes known only at run time. Scalars are appended by
// dubborpc/hessianwire (the bytes dubbo-go-hessian2's Encoder writes for them); lists, maps
// and typed objects are framed here, with class definitions numbered by this writer alone.
// Nothing is registered in hessian2's process-wide registry.
//
// The bytes are one self-contained value: every class definition an object uses is written
// before it in the same value, and type names are always written in full (never as type
// references), so the value can be embedded anywhere in a stream that has no class
// definitions before it (a Dubbo request body's argument list; see dubborpc.RawArg).
type writer struct {
	buf     []byte
	classes map[string]int
}

func newWriter() *writer {
	return &writer{buf: make([]byte, 0, 256)}
}

// bytes returns what was written.
func (w *writer) bytes() []byte { return w.buf }

// scalar writes a value the Encoder writes without its registry: nil, bool, int32, int64,
// float64, string, []byte, time.Time; any other type is an error (a bug of this package).
func (w *writer) scalar(v any) error {
	switch x := v.(type) {
	case nil:
		w.buf = hessianwire.AppendNull(w.buf)
	case bool:
		w.buf = hessianwire.AppendBool(w.buf, x)
	case int32:
		w.buf = hessianwire.AppendInt32(w.buf, x)
	case int64:
		w.buf = hessianwire.AppendInt64(w.buf, x)
	case float64:
		w.buf = hessianwire.AppendFloat64(w.buf, x)
	case string:
		w.buf = hessianwire.AppendString(w.buf, x)
	case []byte:
		w.buf = hessianwire.AppendBinary(w.buf, x)
	case time.Time:
		w.buf = hessianwire.AppendDate(w.buf, x)
	default:
		return errUnsupportedScalar // v must not escape: callers' boxed values stay on the stack
	}
	return nil
}

// errUnsupportedScalar is a value scalar does not write.
var errUnsupportedScalar = errors.New("dubbojson: hessian2 scalar of an unsupported type")

// str writes a string.
func (w *writer) str(s string) { w.buf = hessianwire.AppendString(w.buf, s) }

// int writes a hessian2 int (used for lengths and class indexes).
func (w *writer) int(n int) { w.buf = hessianwire.AppendInt32(w.buf, int32(n)) }

// typedList starts a fixed-length list with a type ('V' type int); the caller writes n values.
func (w *writer) typedList(typ string, n int) {
	w.buf = append(w.buf, 'V')
	w.str(typ)
	w.int(n)
}

// untypedList starts a fixed-length untyped list ('X' int); the caller writes n values.
func (w *writer) untypedList(n int) {
	w.buf = append(w.buf, 'X')
	w.int(n)
}

// mapStart starts an untyped map ('H'); the caller writes key/value pairs, then mapEnd.
func (w *writer) mapStart() { w.buf = append(w.buf, 'H') }

// mapEnd ends a map ('Z').
func (w *writer) mapEnd() { w.buf = append(w.buf, 'Z') }

// object starts an instance of class with fields (in this order), writing the class
// definition first when this writer has not written it yet; the caller writes one value per
// field. The field list of a class must be the same on every call.
func (w *writer) object(class string, fields []string) {
	idx, ok := w.classes[class]
	if !ok {
		if w.classes == nil {
			w.classes = make(map[string]int, 4)
		}
		idx = len(w.classes)
		w.classes[class] = idx
		w.buf = append(w.buf, 'C')
		w.str(class)
		w.int(len(fields))
		for _, f := range fields {
			w.str(f)
		}
	}
	w.buf = append(w.buf, 'O')
	w.int(idx)
}
