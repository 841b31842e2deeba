// Package protojsonwire transcodes between protobuf JSON and the protobuf wire format directly
// from message descriptors, without building a dynamicpb message and without a protojson round
// trip, with exactly the semantics of google.golang.org/protobuf's encoding/protojson: the same
// accepted input, the same bytes (as proto.MarshalOptions{Deterministic: true} writes them), the
// same JSON (as protojson.MarshalOptions writes it, compacted).
//
// It covers proto3, proto2 and editions messages with scalar, enum, message, repeated, packed,
// map and oneof fields, and the well-known types Timestamp, Duration, FieldMask, Struct, Value,
// ListValue, Empty and the wrappers. A message type that needs anything else (Any, groups,
// extensions, required fields, closed enums) gets no codec: For returns nil and the caller uses
// protojson. Within a covered type, an input the fast path does not take (a syntax or range
// error, an escape it does not handle, a field given twice) makes Encode or Decode return
// ErrFallback: the caller then runs protojson, which either accepts the input or reports the
// error in its own words, so errors always read exactly as protojson's.
package protojsonwire

import (
	"errors"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ErrFallback means the fast path did not transcode the input: transcode it with protojson.
var ErrFallback = errors.New("protojsonwire: input needs protojson")

// maxDepth bounds message and value nesting on the fast path; deeper input falls back to
// protojson, whose limit (protowire.DefaultRecursionLimit) is far higher.
const maxDepth = 64

// maxFields bounds the fields of a covered message (the duplicate-field set is a bitmap).
const maxFields = 256

// Options are the protojson.MarshalOptions the JSON output follows (Multiline output is not
// covered: protojson varies its whitespace on purpose).
type Options struct {
	// EmitDefaultValues is protojson.MarshalOptions.EmitDefaultValues.
	EmitDefaultValues bool
	// UseEnumNumbers is protojson.MarshalOptions.UseEnumNumbers.
	UseEnumNumbers bool
	// UseProtoNames is protojson.MarshalOptions.UseProtoNames.
	UseProtoNames bool
}

// wkt identifies the well-known types with a JSON form of their own.
type wkt uint8

const (
	wktNone wkt = iota
	wktTimestamp
	wktDuration
	wktFieldMask
	wktStruct
	wktValue
	wktListValue
	wktEmpty
	wktWrapper
)

var wkts = map[protoreflect.FullName]wkt{
	"google.protobuf.Timestamp": wktTimestamp, "google.protobuf.Duration": wktDuration,
	"google.protobuf.FieldMask": wktFieldMask, "google.protobuf.Struct": wktStruct,
	"google.protobuf.Value": wktValue, "google.protobuf.ListValue": wktListValue,
	"google.protobuf.Empty":       wktEmpty,
	"google.protobuf.DoubleValue": wktWrapper, "google.protobuf.FloatValue": wktWrapper,
	"google.protobuf.Int64Value": wktWrapper, "google.protobuf.UInt64Value": wktWrapper,
	"google.protobuf.Int32Value": wktWrapper, "google.protobuf.UInt32Value": wktWrapper,
	"google.protobuf.BoolValue": wktWrapper, "google.protobuf.StringValue": wktWrapper,
	"google.protobuf.BytesValue": wktWrapper,
}

// Codec transcodes one message type. It is immutable and safe for concurrent use.
type Codec struct {
	m    *message
	opts Options
	pool *sync.Pool
}

// message is the compiled form of a message descriptor.
type message struct {
	desc   protoreflect.MessageDescriptor
	wkt    wkt
	fields []*field // in declaration (index) order
	byName map[string]*field
	byNum  []*field // by field number when numbers are small
	numMap map[protowire.Number]*field
	oneofs int
}

// field is the compiled form of a field descriptor.
type field struct {
	desc     protoreflect.FieldDescriptor
	index    int
	num      protowire.Number
	kind     protoreflect.Kind
	wireType protowire.Type
	list     bool
	isMap    bool
	packed   bool
	presence bool
	oneof    int // index of its (non-synthetic) oneof, or -1
	rank     int // position in the order proto.MarshalOptions{Deterministic: true} writes
	msg      *message
	key, val *field // map entry fields
	enum     protoreflect.EnumDescriptor
	nullEnum bool // google.protobuf.NullValue
	// enumNames are the enum's values by name.
	enumNames map[string]protoreflect.EnumNumber
	jsonKey   []byte // `"name":` as printed, for each naming option
	protoKey  []byte
	tag       []byte
}

// compiler builds messages, sharing them between references (recursive types included).
type compiler struct {
	done map[protoreflect.FullName]*message
	ok   map[protoreflect.FullName]bool
}

// For compiles a codec for md, or returns nil when the fast path does not cover md (then
// transcode md with protojson).
func For(md protoreflect.MessageDescriptor, opts Options) *Codec {
	c := &compiler{done: map[protoreflect.FullName]*message{}, ok: map[protoreflect.FullName]bool{}}
	if !c.supported(md) {
		return nil
	}
	return &Codec{m: c.message(md), opts: opts, pool: &sync.Pool{New: func() any { return &state{} }}}
}

// supported reports whether md and every message it reaches are covered.
func (c *compiler) supported(md protoreflect.MessageDescriptor) bool {
	if ok, seen := c.ok[md.FullName()]; seen {
		return ok
	}
	c.ok[md.FullName()] = true // assume so while visiting a recursive type
	ok := c.check(md)
	c.ok[md.FullName()] = ok
	return ok
}

func (c *compiler) check(md protoreflect.MessageDescriptor) bool {
	if md.FullName() == "google.protobuf.Any" || md.ExtensionRanges().Len() > 0 ||
		md.Options() != nil && messageSetWireFormat(md) {
		return false
	}
	fields := md.Fields()
	if fields.Len() > maxFields || md.Oneofs().Len() > 64 {
		return false
	}
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.Cardinality() == protoreflect.Required || fd.Kind() == protoreflect.GroupKind {
			return false
		}
		if fd.IsMap() {
			if !c.fieldOK(fd.MapKey()) || !c.fieldOK(fd.MapValue()) {
				return false
			}
			continue
		}
		if !c.fieldOK(fd) {
			return false
		}
	}
	return true
}

func (c *compiler) fieldOK(fd protoreflect.FieldDescriptor) bool {
	switch fd.Kind() {
	case protoreflect.GroupKind:
		return false
	case protoreflect.EnumKind:
		return !fd.Enum().IsClosed()
	case protoreflect.MessageKind:
		return c.supported(fd.Message())
	}
	return true
}

// messageSetWireFormat reports the proto1 message_set_wire_format option.
func messageSetWireFormat(md protoreflect.MessageDescriptor) bool {
	type messageSet interface{ GetMessageSetWireFormat() bool }
	o, ok := md.Options().(messageSet)
	return ok && o.GetMessageSetWireFormat()
}

// message compiles md (once).
func (c *compiler) message(md protoreflect.MessageDescriptor) *message {
	if m, ok := c.done[md.FullName()]; ok {
		return m
	}
	m := &message{desc: md, wkt: wkts[md.FullName()], byName: map[string]*field{}}
	c.done[md.FullName()] = m
	fields := md.Fields()
	maxNum := protowire.Number(0)
	for i := 0; i < fields.Len(); i++ {
		f := c.field(fields.Get(i))
		m.fields = append(m.fields, f)
		maxNum = max(maxNum, f.num)
	}
	m.oneofs = md.Oneofs().Len()
	// protojson looks a name up as a JSON name first, then as a text (proto) name.
	for _, f := range m.fields {
		m.byName[f.desc.TextName()] = f
	}
	for _, f := range m.fields {
		m.byName[f.desc.JSONName()] = f
	}
	if maxNum <= 1024 {
		m.byNum = make([]*field, maxNum+1)
		for _, f := range m.fields {
			m.byNum[f.num] = f
		}
	} else {
		m.numMap = map[protowire.Number]*field{}
		for _, f := range m.fields {
			m.numMap[f.num] = f
		}
	}
	// Deterministic marshalling orders fields as order.LegacyFieldOrder does: fields outside
	// oneofs by number, then the fields of each oneof by the oneof's index, then number.
	ranked := append([]*field(nil), m.fields...)
	sortFields(ranked, func(x, y *field) bool {
		if (x.oneof >= 0) != (y.oneof >= 0) {
			return x.oneof < 0
		}
		if x.oneof >= 0 && x.oneof != y.oneof {
			return x.oneof < y.oneof
		}
		return x.num < y.num
	})
	for i, f := range ranked {
		f.rank = i
	}
	return m
}

// field compiles fd.
func (c *compiler) field(fd protoreflect.FieldDescriptor) *field {
	f := &field{
		desc: fd, index: fd.Index(), num: fd.Number(), kind: fd.Kind(),
		list: fd.IsList(), isMap: fd.IsMap(), packed: fd.IsPacked(), presence: fd.HasPresence(),
		oneof: -1,
	}
	if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
		f.oneof = od.Index()
	}
	f.wireType = wireTypeOf(f.kind)
	if f.isMap {
		f.key, f.val = c.field(fd.MapKey()), c.field(fd.MapValue())
		f.wireType = protowire.BytesType
	}
	if fd.Kind() == protoreflect.MessageKind && !f.isMap {
		f.msg = c.message(fd.Message())
	}
	if fd.Kind() == protoreflect.EnumKind {
		f.enum = fd.Enum()
		f.nullEnum = f.enum.FullName() == "google.protobuf.NullValue"
		f.enumNames = map[string]protoreflect.EnumNumber{}
		values := f.enum.Values()
		for i := 0; i < values.Len(); i++ {
			f.enumNames[string(values.Get(i).Name())] = values.Get(i).Number()
		}
	}
	f.jsonKey = appendKey(nil, fd.JSONName())
	f.protoKey = appendKey(nil, fd.TextName())
	tagType := f.wireType
	if f.packed {
		tagType = protowire.BytesType
	}
	f.tag = protowire.AppendTag(nil, f.num, tagType)
	return f
}

// signed reports the signed integer kinds.
func (f *field) signed() bool {
	switch f.kind {
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		return true
	}
	return false
}

// appendKey appends `"name":`.
func appendKey(b []byte, name string) []byte {
	b, _ = appendString(b, name)
	return append(b, ':')
}

func wireTypeOf(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.FloatKind, protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return protowire.Fixed32Type
	case protoreflect.DoubleKind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return protowire.Fixed64Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		return protowire.BytesType
	}
	return protowire.VarintType
}

// sortFields is an insertion sort (messages have few fields; no allocation).
func sortFields(fs []*field, less func(x, y *field) bool) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && less(fs[j], fs[j-1]); j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

// lookup finds a field by number.
func (m *message) lookup(n protowire.Number) *field {
	if m.byNum != nil {
		if int(n) < len(m.byNum) {
			return m.byNum[n]
		}
		return nil
	}
	return m.numMap[n]
}

// state is the scratch space of one Encode or Decode call, pooled per codec.
type state struct {
	scan    scanner
	segs    []segment
	scratch []byte
	recs    []record
	keys    []mapKey
	tmp     []byte
}

// segment is the encoded bytes of one field of a message being encoded: b[start:end].
type segment struct {
	rank, start, end int
}
