package dubbojson

import (
	hessian "github.com/apache/dubbo-go-hessian2"
)

// writer writes hessian2 values for classes known only at run time. Scalars go through
// dubbo-go-hessian2's Encoder (which needs no registry for them); lists, maps and typed
// objects are framed here, with class definitions numbered by this writer alone. Nothing is
// registered in hessian2's process-wide registry.
//
// The bytes are one self-contained value: every class definition an object uses is written
// before it in the same value, and type names are always written in full (never as type
// references), so the value can be embedded anywhere in a stream that has no class
// definitions before it (a Dubbo request body's argument list; see dubborpc.RawArg).
type writer struct {
	enc     *hessian.Encoder
	classes map[string]int
}

func newWriter() *writer {
	return &writer{enc: hessian.NewEncoder(), classes: map[string]int{}}
}

// bytes returns what was written.
func (w *writer) bytes() []byte { return w.enc.Buffer() }

// scalar writes a value the Encoder writes without its registry: nil, bool, int32, int64,
// float64, string, []byte, time.Time.
func (w *writer) scalar(v any) error { return w.enc.Encode(v) }

// int writes a hessian2 int (used for lengths and class indexes).
func (w *writer) int(n int) { _ = w.enc.Encode(int32(n)) }

// typedList starts a fixed-length list with a type ('V' type int); the caller writes n values.
func (w *writer) typedList(typ string, n int) {
	w.enc.Append([]byte{'V'})
	_ = w.enc.Encode(typ)
	w.int(n)
}

// untypedList starts a fixed-length untyped list ('X' int); the caller writes n values.
func (w *writer) untypedList(n int) {
	w.enc.Append([]byte{'X'})
	w.int(n)
}

// mapStart starts an untyped map ('H'); the caller writes key/value pairs, then mapEnd.
func (w *writer) mapStart() { w.enc.Append([]byte{'H'}) }

// mapEnd ends a map ('Z').
func (w *writer) mapEnd() { w.enc.Append([]byte{'Z'}) }

// object starts an instance of class with fields (in this order), writing the class
// definition first when this writer has not written it yet; the caller writes one value per
// field. The field list of a class must be the same on every call.
func (w *writer) object(class string, fields []string) {
	idx, ok := w.classes[class]
	if !ok {
		idx = len(w.classes)
		w.classes[class] = idx
		w.enc.Append([]byte{'C'})
		_ = w.enc.Encode(class)
		w.int(len(fields))
		for _, f := range fields {
			_ = w.enc.Encode(f)
		}
	}
	w.enc.Append([]byte{'O'})
	w.int(idx)
}
