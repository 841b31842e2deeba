package grpcjson

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/rpcbridge/rpcbridge/dataplane/formdata"
	"github.com/rpcbridge/rpcbridge/dataplane/protojsonwire"
)

// The bound fast path encodes the fields a request binds from text (query parameters, path
// variables) straight to the wire format and appends the body's wire bytes after them, without
// a dynamicpb message. It relies on the protobuf encoding rule that parsing concatenated
// messages is the same as merging them (for a field given twice, the last scalar wins, repeated
// fields append, messages merge, a later oneof member replaces an earlier one), so writing the
// parts in the order the dynamicpb path sets them — query parameters, then path variables, then
// the body, which it merges on top with proto.Merge — gives a message equal to that path's.
// The text of each value is parsed by parseScalar, the same function as on the dynamicpb path,
// as grpc-gateway's runtime.PopulateFieldFromPath and Envoy's grpc_json_transcoder parse a
// value per field kind. Anything it does not take (an invalid value, a map, a body the codecs
// hand back) falls back to the dynamicpb path, which gives the answer or the error in its own
// words.

// fastBound builds the request bytes of a binding with path variables or query parameters, when
// the fast path takes the request.
func (t *Transcoder) fastBound(b *Binding, vars map[string]string, params []boundParam, body []byte, contentType string) ([]byte, bool) {
	if !t.codecs.enabled {
		return nil, false
	}
	w := textWriter{fold: t.cfg.GetCaseInsensitiveEnumParsing(), wkt: t.textCodec}
	if setTwice(b, params) {
		return nil, false
	}
	out := make([]byte, 0, 64+len(body))
	var ok bool
	for _, p := range params {
		if out, ok = w.appendBound(out, p.fields, p.values); !ok {
			return nil, false
		}
	}
	for _, v := range b.template.Variables {
		if out, ok = w.appendBound(out, b.varPaths[v.FieldPath], []string{vars[v.FieldPath]}); !ok {
			return nil, false
		}
	}
	if b.Body == "" {
		return out, true
	}
	return appendBodyWire(out, b, body, contentType)
}

// textWriter writes textual values as wire fields: fold is case_insensitive_enum_parsing, wkt
// the codec of a well-known type given in its JSON string form (nil when it has none).
type textWriter struct {
	fold bool
	wkt  func(protoreflect.MessageDescriptor) *protojsonwire.Codec
}

// textCodec is the codec of a well-known type bound from text (Timestamp, Duration, FieldMask),
// compiled once per type.
func (t *Transcoder) textCodec(md protoreflect.MessageDescriptor) *protojsonwire.Codec {
	if c, ok := t.wktCodecs.Load(md.FullName()); ok {
		return c.(*protojsonwire.Codec)
	}
	c := protojsonwire.For(md, t.codecs.opts)
	t.wktCodecs.Store(md.FullName(), c)
	return c
}

// setTwice reports a Timestamp, Duration or FieldMask field that two bindings set (a query
// parameter under its proto and its JSON name, or a query parameter and a path variable): the
// dynamicpb path replaces the first message with the second, where the wire would merge them.
func setTwice(b *Binding, params []boundParam) bool {
	var seen []protoreflect.FieldDescriptor
	check := func(fds []protoreflect.FieldDescriptor) bool {
		leaf := fds[len(fds)-1]
		if leaf.Message() == nil || !stringTypes[leaf.Message().FullName()] || leaf.IsList() {
			return false
		}
		if slices.Contains(seen, leaf) {
			return true
		}
		seen = append(seen, leaf)
		return false
	}
	for _, p := range params {
		if check(p.fields) {
			return true
		}
	}
	for _, v := range b.template.Variables {
		if check(b.varPaths[v.FieldPath]) {
			return true
		}
	}
	return false
}

// appendBodyWire appends the wire bytes the body gives its target (the whole message or the
// body field), when a codec takes it.
func appendBodyWire(out []byte, b *Binding, body []byte, contentType string) ([]byte, bool) {
	trimmed := bytes.TrimSpace(body)
	if b.Body == "*" {
		if b.reqCodec == nil {
			return nil, false
		}
		if len(trimmed) == 0 {
			return out, true
		}
		out, err := b.reqCodec.Encode(out, body)
		return out, err == nil
	}
	leaf := b.bodyPath[len(b.bodyPath)-1]
	if b.bodyCodec == nil || isBytesField(leaf) && formdata.KindOf(contentType) == formdata.Raw {
		return nil, false
	}
	// The dynamicpb path creates the messages on the way to the body field even for an empty
	// body; the body's bytes go inside them.
	return appendNested(out, b.bodyPath[:len(b.bodyPath)-1], func(inner []byte) ([]byte, bool) {
		if len(trimmed) == 0 {
			return inner, true
		}
		wrapper := make([]byte, 0, len(body)+len(leaf.Name())+5)
		wrapper = append(wrapper, `{"`...)
		wrapper = append(wrapper, leaf.Name()...)
		wrapper = append(wrapper, `":`...)
		wrapper = append(append(wrapper, body...), '}')
		inner, err := b.bodyCodec.Encode(inner, wrapper)
		return inner, err == nil
	})
}

// appendBound appends the field at fds set from textual values: every value for a repeated
// field, the last for a singular one (the earlier ones are not parsed, as on the dynamicpb path).
func (w textWriter) appendBound(b []byte, fds []protoreflect.FieldDescriptor, values []string) ([]byte, bool) {
	leaf := fds[len(fds)-1]
	if leaf.IsMap() {
		return nil, false
	}
	return appendNested(b, fds[:len(fds)-1], func(inner []byte) ([]byte, bool) {
		if !leaf.IsList() {
			return w.appendText(inner, leaf, values[len(values)-1])
		}
		for _, s := range values {
			var ok bool
			if inner, ok = w.appendText(inner, leaf, s); !ok {
				return nil, false
			}
		}
		return inner, true
	})
}

// appendNested appends the singular message fields of path, one inside the other, with what
// fill appends inside the innermost (with an empty path, fill's bytes as they are).
func appendNested(b []byte, path []protoreflect.FieldDescriptor, fill func([]byte) ([]byte, bool)) ([]byte, bool) {
	if len(path) == 0 {
		return fill(b)
	}
	b = protowire.AppendTag(b, path[0].Number(), protowire.BytesType)
	at := len(b)
	b = append(b, 0) // one byte of length, widened below when the content is longer
	b, ok := appendNested(b, path[1:], fill)
	if !ok {
		return nil, false
	}
	return setLength(b, at), true
}

// setLength writes the length of b[at+1:] as the varint at b[at], which holds one placeholder
// byte, moving the content when the varint needs more.
func setLength(b []byte, at int) []byte {
	n := len(b) - at - 1
	size := protowire.SizeVarint(uint64(n))
	if size == 1 {
		b[at] = byte(n)
		return b
	}
	b = append(b, make([]byte, size-1)...)
	copy(b[at+size:], b[at+1:at+1+n])
	protowire.AppendVarint(b[:at], uint64(n))
	return b
}

// appendText appends one textual value of fd (an element, for a repeated field) in its wire
// form. A zero value is written too, even for a field without presence: the dynamicpb path sets
// it, which clears what a query parameter set before the path variable of the same field, and
// an explicit zero on the wire does the same (proto.Merge of a body leaves such a field alone,
// and so does the body codec, which writes no zeros).
func (w textWriter) appendText(b []byte, fd protoreflect.FieldDescriptor, s string) ([]byte, bool) {
	num := fd.Number()
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := fd.Message()
		b = protowire.AppendTag(b, num, protowire.BytesType)
		at := len(b)
		b = append(b, 0)
		var ok bool
		switch {
		case wrapperTypes[md.FullName()]:
			b, ok = w.appendText(b, md.Fields().ByName("value"), s)
		case stringTypes[md.FullName()]:
			b, ok = w.appendWellKnown(b, md, s)
		}
		if !ok {
			return nil, false
		}
		return setLength(b, at), true
	}
	v, err := parseScalar(fd, s, w.fold)
	if err != nil {
		return nil, false
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), protowire.EncodeBool(v.Bool())), true
	case protoreflect.EnumKind:
		return appendVarint(b, num, uint64(int64(v.Enum()))), true
	case protoreflect.Int32Kind, protoreflect.Int64Kind:
		return appendVarint(b, num, uint64(v.Int())), true
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind:
		return appendVarint(b, num, v.Uint()), true
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		return appendVarint(b, num, protowire.EncodeZigZag(v.Int())), true
	case protoreflect.Sfixed32Kind:
		return appendFixed32(b, num, uint32(v.Int())), true
	case protoreflect.Fixed32Kind:
		return appendFixed32(b, num, uint32(v.Uint())), true
	case protoreflect.FloatKind:
		return appendFixed32(b, num, math.Float32bits(float32(v.Float()))), true
	case protoreflect.Sfixed64Kind:
		return appendFixed64(b, num, uint64(v.Int())), true
	case protoreflect.Fixed64Kind:
		return appendFixed64(b, num, v.Uint()), true
	case protoreflect.DoubleKind:
		return appendFixed64(b, num, math.Float64bits(v.Float())), true
	case protoreflect.StringKind:
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), v.String()), true
	case protoreflect.BytesKind:
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v.Bytes()), true
	}
	return nil, false
}

// appendWellKnown appends the wire form of a Timestamp, Duration or FieldMask given as the text
// of its JSON string: the codec reads it quoted, which is what the dynamicpb path gives
// protojson (json.Marshal of the text) for text without quotes, backslashes, control characters
// or invalid UTF-8; other text goes to that path.
func (w textWriter) appendWellKnown(b []byte, md protoreflect.MessageDescriptor, s string) ([]byte, bool) {
	c := w.wkt(md)
	if c == nil || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == '"' || r == '\\' }) {
		return nil, false
	}
	quoted := make([]byte, 0, len(s)+2)
	quoted = append(append(append(quoted, '"'), s...), '"')
	out, err := c.Encode(b, quoted)
	return out, err == nil
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

func appendFixed32(b []byte, num protowire.Number, v uint32) []byte {
	return protowire.AppendFixed32(protowire.AppendTag(b, num, protowire.Fixed32Type), v)
}

func appendFixed64(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendFixed64(protowire.AppendTag(b, num, protowire.Fixed64Type), v)
}
