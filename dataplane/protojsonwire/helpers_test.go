package protojsonwire_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/rpcbridge/rpcbridge/dataplane/protojsonwire"
	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
)

// kindsTypes compiles testdata/kinds.proto (every covered field kind) once.
var kindsTypes = sync.OnceValues(func() (*dynamicpb.Types, error) {
	files := map[string][]byte{}
	for name, path := range map[string]string{"kinds/v1/kinds.proto": "testdata/kinds.proto", "kinds/v1/legacy.proto": "testdata/legacy.proto"} {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		files[name] = b
	}
	set, err := protoidl.Compile(context.Background(), files)
	if err != nil {
		return nil, err
	}
	reg, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, err
	}
	return dynamicpb.NewTypes(reg), nil
})

// kinds returns the descriptor of kinds.v1.Kinds.
func kinds(tb testing.TB) (protoreflect.MessageDescriptor, *dynamicpb.Types) {
	tb.Helper()
	types, err := kindsTypes()
	if err != nil {
		tb.Fatal(err)
	}
	mt, err := types.FindMessageByName("kinds.v1.Kinds")
	if err != nil {
		tb.Fatal(err)
	}
	return mt.Descriptor(), types
}

// optionSets are the print options the comparisons run with, chosen by a byte.
func options(b byte) protojsonwire.Options {
	return protojsonwire.Options{EmitDefaultValues: b&1 != 0, UseEnumNumbers: b&2 != 0, UseProtoNames: b&4 != 0}
}

// refEncode is the path the fast encoder must match: protojson into dynamicpb, then
// deterministic proto marshalling.
func refEncode(md protoreflect.MessageDescriptor, types *dynamicpb.Types, in []byte) ([]byte, error) {
	msg := dynamicpb.NewMessage(md)
	if err := (protojson.UnmarshalOptions{Resolver: types}).Unmarshal(in, msg); err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(msg)
}

// refDecode is the path the fast decoder must match: proto into dynamicpb, protojson, compacted.
func refDecode(md protoreflect.MessageDescriptor, types *dynamicpb.Types, in []byte, o protojsonwire.Options) (_ []byte, err error) {
	// proto.Unmarshal into dynamicpb panics on some malformed map entries (a key of the wrong
	// wire type, testdata/fuzz/FuzzDecodeMatchesProtojson/d58c801fa40e2df2): that is a refusal.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("proto.Unmarshal panicked: %v", p)
		}
	}()
	msg := dynamicpb.NewMessage(md)
	if err := (proto.UnmarshalOptions{Resolver: types}).Unmarshal(in, msg); err != nil {
		return nil, err
	}
	out, err := protojson.MarshalOptions{EmitDefaultValues: o.EmitDefaultValues, UseEnumNumbers: o.UseEnumNumbers,
		UseProtoNames: o.UseProtoNames, Resolver: types}.Marshal(msg)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkEncode fails unless the fast encoder agrees with protojson on in: the same bytes, or
// a fallback. It reports whether the fast path took the input.
func checkEncode(t testing.TB, c *protojsonwire.Codec, md protoreflect.MessageDescriptor, types *dynamicpb.Types, in []byte) bool {
	t.Helper()
	want, wantErr := refEncode(md, types, in)
	got, err := c.Encode(nil, in)
	if errors.Is(err, protojsonwire.ErrFallback) {
		return false
	}
	if err != nil {
		t.Fatalf("Encode(%q): unexpected error %v", in, err)
	}
	if wantErr != nil {
		t.Fatalf("Encode(%q) = %x, protojson refuses it: %v", in, got, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode(%q)\n got %x\nwant %x", in, got, want)
	}
	return true
}

// checkDecode is checkEncode for the other direction.
func checkDecode(t testing.TB, c *protojsonwire.Codec, md protoreflect.MessageDescriptor, types *dynamicpb.Types, in []byte, o protojsonwire.Options) bool {
	t.Helper()
	want, wantErr := refDecode(md, types, in, o)
	got, err := c.Decode(nil, in)
	if errors.Is(err, protojsonwire.ErrFallback) {
		return false
	}
	if err != nil {
		t.Fatalf("Decode(%x): unexpected error %v", in, err)
	}
	if wantErr != nil {
		t.Fatalf("Decode(%x) = %s, protojson refuses it: %v", in, got, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Decode(%x) %+v\n got %s\nwant %s", in, o, got, want)
	}
	return true
}

// randomMessage fills a message of type md from r: every kind, edge values, nesting up to depth.
func randomMessage(r *rand.Rand, md protoreflect.MessageDescriptor, depth int) *dynamicpb.Message {
	m := dynamicpb.NewMessage(md)
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		m.Set(md.Fields().ByNumber(1), protoreflect.ValueOfInt64(r.Int64N(253402300799+62135596800)-62135596800))
		m.Set(md.Fields().ByNumber(2), protoreflect.ValueOfInt32(pick(r, 0, 1000000, r.Int32N(1e9))))
		return m
	case "google.protobuf.Duration":
		s, n := r.Int64N(315576000000), pick(r, 0, 500000000, r.Int32N(1e9))
		if r.IntN(2) == 0 {
			s, n = -s, -n
		}
		m.Set(md.Fields().ByNumber(1), protoreflect.ValueOfInt64(s))
		m.Set(md.Fields().ByNumber(2), protoreflect.ValueOfInt32(n))
		return m
	case "google.protobuf.FieldMask":
		l := m.Mutable(md.Fields().ByNumber(1)).List()
		for range r.IntN(3) {
			l.Append(protoreflect.ValueOfString(pick(r, "a", "foo_bar", "x.y_z", "f_msg.f_int32")))
		}
		return m
	case "google.protobuf.Value":
		f := md.Fields().ByNumber(protoreflect.FieldNumber(1 + r.IntN(6)))
		if depth <= 0 && f.Kind() == protoreflect.MessageKind {
			f = md.Fields().ByNumber(3)
		}
		switch f.Number() {
		case 1:
			m.Set(f, protoreflect.ValueOfEnum(0))
		case 2:
			m.Set(f, protoreflect.ValueOfFloat64(pick(r, 0, -1.5, 1e21, 1e-7, 123456789)))
		case 5, 6:
			m.Set(f, protoreflect.ValueOfMessage(randomMessage(r, f.Message(), depth-1)))
		default:
			m.Set(f, randomScalar(r, f))
		}
		return m
	}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		if r.IntN(3) != 0 || f.Kind() == protoreflect.MessageKind && depth <= 0 && !f.IsMap() {
			continue
		}
		if od := f.ContainingOneof(); od != nil && !od.IsSynthetic() && m.WhichOneof(od) != nil && r.IntN(2) == 0 {
			continue
		}
		switch {
		case f.IsMap():
			if depth <= 0 && f.MapValue().Kind() == protoreflect.MessageKind {
				continue
			}
			mm := m.Mutable(f).Map()
			for range r.IntN(4) {
				k := randomScalar(r, f.MapKey()).MapKey()
				mm.Set(k, randomValue(r, f.MapValue(), depth-1))
			}
		case f.IsList():
			l := m.Mutable(f).List()
			for range r.IntN(4) {
				l.Append(randomValue(r, f, depth-1))
			}
		default:
			m.Set(f, randomValue(r, f, depth-1))
		}
	}
	return m
}

func randomValue(r *rand.Rand, f protoreflect.FieldDescriptor, depth int) protoreflect.Value {
	if f.Kind() == protoreflect.MessageKind {
		return protoreflect.ValueOfMessage(randomMessage(r, f.Message(), depth))
	}
	return randomScalar(r, f)
}

func pick[T any](r *rand.Rand, vs ...T) T { return vs[r.IntN(len(vs))] }

func randomScalar(r *rand.Rand, f protoreflect.FieldDescriptor) protoreflect.Value {
	switch f.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(r.IntN(2) == 0)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(pick(r, 0, 1, -1, math.MaxInt32, math.MinInt32, int32(r.Uint32())))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(pick(r, 0, 1, -1, math.MaxInt64, math.MinInt64, int64(r.Uint64())))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(pick(r, 0, 1, math.MaxUint32, r.Uint32()))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(pick(r, 0, 1, math.MaxUint64, r.Uint64()))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(pick(r, 0, float32(math.Copysign(0, -1)), 1.5, float32(math.Inf(1)), float32(math.NaN()),
			math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-7, 3e21, math.Float32frombits(r.Uint32())))
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(pick(r, 0, math.Copysign(0, -1), 0.1, math.Inf(-1), math.NaN(), math.MaxFloat64,
			5e-324, 1e-7, 1e21, 1e20, math.Float64frombits(r.Uint64())))
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(pick(r, "", "hello", "é✓😀", "quote\" back\\ slash/", "ctl\x00\x01\x1f\x7f\t\n", "\u2028<&>", "\ufffd"))
	case protoreflect.BytesKind:
		b := make([]byte, r.IntN(6))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return protoreflect.ValueOfBytes(b)
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(pick[protoreflect.EnumNumber](r, 0, 1, 2, 7, -3))
	}
	panic(f.Kind())
}

func protoreflectName(s string) protoreflect.FullName { return protoreflect.FullName(s) }
