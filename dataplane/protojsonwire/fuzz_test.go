package protojsonwire_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/rpcbridge/rpcbridge/dataplane/protojsonwire"
)

// FuzzWireMatchesProtojson is the differential test: a random message of kinds.v1.Kinds (every
// field kind, nested, repeated, packed, maps of every key kind, oneofs, every covered
// well-known type) is written by proto and by protojson; protojsonwire must read the wire form
// into the JSON protojson prints (with the options of the second argument) and the JSON form
// into the bytes proto writes, or hand the input back to protojson.
func FuzzWireMatchesProtojson(f *testing.F) {
	for seed := range uint64(16) {
		f.Add(seed, byte(seed))
	}
	md, types := kinds(f)
	codecs := map[byte]*protojsonwire.Codec{}
	for o := range byte(8) {
		codecs[o] = protojsonwire.For(md, options(o))
	}
	f.Fuzz(func(t *testing.T, seed uint64, opt byte) {
		o := opt & 7
		r := rand.New(rand.NewPCG(seed, seed>>32|1))
		msg := randomMessage(r, md, 3)
		wire, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		checkDecode(t, codecs[o], md, types, wire, options(o))
		js, err := protojson.MarshalOptions{UseProtoNames: o&4 != 0, UseEnumNumbers: o&2 != 0, Resolver: types}.Marshal(msg)
		if err != nil {
			return // protojson cannot print it (a NaN in a Value): nothing to compare
		}
		checkEncode(t, codecs[o], md, types, js)
	})
}

// FuzzEncodeMatchesProtojson feeds arbitrary JSON to both paths: protojsonwire's bytes must be
// protojson's, and it must never accept what protojson refuses.
func FuzzEncodeMatchesProtojson(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/seeds/*.json")
	for _, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.TrimSpace(b))
	}
	md, types := kinds(f)
	c := protojsonwire.For(md, protojsonwire.Options{})
	f.Fuzz(func(t *testing.T, in []byte) {
		checkEncode(t, c, md, types, in)
	})
}

// FuzzDecodeMatchesProtojson feeds arbitrary bytes to both decoders.
func FuzzDecodeMatchesProtojson(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/seeds/*.json")
	md, types := kinds(f)
	for i, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if wire, err := refEncode(md, types, b); err == nil {
			f.Add(wire, byte(i))
		}
	}
	codecs := map[byte]*protojsonwire.Codec{}
	for o := range byte(8) {
		codecs[o] = protojsonwire.For(md, options(o))
	}
	f.Fuzz(func(t *testing.T, in []byte, opt byte) {
		checkDecode(t, codecs[opt&7], md, types, in, options(opt&7))
	})
}

// TestSeedsTakeTheFastPath: the seed documents (valid JSON of every kind) are transcoded by the
// fast path itself in both directions, not handed to protojson, and agree with it.
func TestSeedsTakeTheFastPath(t *testing.T) {
	md, types := kinds(t)
	seeds, _ := filepath.Glob("testdata/seeds/*.json")
	if len(seeds) == 0 {
		t.Fatal("no seeds")
	}
	for _, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.TrimSpace(b)
		c := protojsonwire.For(md, protojsonwire.Options{})
		if !checkEncode(t, c, md, types, b) {
			t.Errorf("%s: the fast path handed valid JSON to protojson", name)
		}
		wire, err := refEncode(md, types, b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for o := range byte(8) {
			if !checkDecode(t, protojsonwire.For(md, options(o)), md, types, wire, options(o)) {
				t.Errorf("%s: the fast path handed valid wire bytes to protojson (options %+v)", name, options(o))
			}
		}
	}
}

// TestRandomMessagesTakeTheFastPath: most random messages go through the fast path (so that
// the differential fuzz test compares something), and all agree with protojson.
func TestRandomMessagesTakeTheFastPath(t *testing.T) {
	md, types := kinds(t)
	c := protojsonwire.For(md, protojsonwire.Options{})
	fastDecode, fastEncode, n := 0, 0, 300
	for seed := range uint64(n) {
		r := rand.New(rand.NewPCG(seed, 1))
		msg := randomMessage(r, md, 3)
		wire, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		if checkDecode(t, c, md, types, wire, protojsonwire.Options{}) {
			fastDecode++
		}
		if js, err := protojson.Marshal(msg); err == nil && checkEncode(t, c, md, types, js) {
			fastEncode++
		}
	}
	if fastDecode < n*8/10 || fastEncode < n*7/10 {
		t.Fatalf("fast path took %d/%d decodes and %d/%d encodes", fastDecode, n, fastEncode, n)
	}
}

// TestErrorsFallBack: input protojson refuses is never accepted by the fast path.
func TestErrorsFallBack(t *testing.T) {
	md, _ := kinds(t)
	c := protojsonwire.For(md, protojsonwire.Options{})
	for _, in := range []string{
		`{"fInt32":1,"fInt32":2}`, `{"fInt32":1,"f_int32":2}`, `{"nope":1}`, `{"fInt32":1.5}`,
		`{"fInt32":"1 "}`, `{"fInt32":2147483648}`, `{"fUint32":-1}`, `{"cInt32":1,"cString":"x"}`,
		`{"mInt32":{"1":1,"01":2}}`, `{"fEnum":"BLUE"}`, `{"fBytes":"***"}`, `{"fString":"\ud800"}`,
		`{"fInt32":1}x`, `{"fBool":1}`, `{"ts":"2020-01-01"}`, `{"dur":"1"}`, `{"mask":"a_b"}`,
		`{"rInt32":[1,null]}`, `{"empty":{"a":1}}`, `{"val":}`, `[]`, ``, `{"fMsg":{"late":1},}`,
	} {
		var probe json.RawMessage
		_ = json.Unmarshal([]byte(in), &probe)
		if out, err := c.Encode(nil, []byte(in)); err == nil {
			t.Errorf("Encode(%s) = %x, want a fallback", in, out)
		}
	}
}

// TestUncoveredTypesHaveNoCodec: a type the fast path does not cover gets no codec, so its
// callers use protojson for it.
func TestUncoveredTypesHaveNoCodec(t *testing.T) {
	types, err := kindsTypes()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"google.protobuf.Any", "google.protobuf.DescriptorProto"} {
		if mt, err := types.FindMessageByName(protoreflectName(name)); err == nil {
			if protojsonwire.For(mt.Descriptor(), protojsonwire.Options{}) != nil {
				t.Errorf("%s has a codec", name)
			}
		}
	}
	md, _ := kinds(t)
	if protojsonwire.For(md, protojsonwire.Options{}) == nil {
		t.Fatal("kinds.v1.Kinds has no codec")
	}
}

// TestEveryOccurrenceIsChecked: proto.Unmarshal parses every occurrence of a field, so a
// message is refused when an occurrence that rendering does not show on its own is malformed:
// halves of a message field that are only valid concatenated, an overwritten string with
// invalid UTF-8, a oneof member a later one replaced; and it refuses field numbers beyond the
// largest valid one. Decode must not render those (it falls back, and protojson reports the
// error).
func TestEveryOccurrenceIsChecked(t *testing.T) {
	md, types := kinds(t)
	c := protojsonwire.For(md, protojsonwire.Options{})
	for _, in := range [][]byte{
		{0x8a, 0x01, 0x01, 0x18, 0x8a, 0x01, 0x01, 0x05}, // f_msg twice: 0x18 | 0x05
		{0x72, 0x01, 0xff, 0x72, 0x01, 'a'},              // f_string: invalid, then "a"
		{0xba, 0x04, 0x01, 0xff, 0xb0, 0x04, 0x01},       // c_string invalid, then c_int32
		{0xc2, 0x04, 0x01, 0x18, 0xb0, 0x04, 0x01},       // c_msg truncated, then c_int32
		{0xe2, 0xa1, 0xa1, 0xca, 0x9e, 0x00, 0x00},       // a field number beyond 2^29-1
	} {
		if _, wantErr := refDecode(md, types, in, protojsonwire.Options{}); wantErr == nil {
			t.Fatalf("%x: protojson renders it; the case tests nothing", in)
		}
		if out, err := c.Decode(nil, in); err == nil {
			t.Errorf("Decode(%x) = %s, want a fallback", in, out)
		}
	}
	// Valid occurrences still take the fast path, merged.
	in := []byte{0x8a, 0x01, 0x02, 0x18, 0x05, 0x8a, 0x01, 0x02, 0x20, 0x06}
	if !checkDecode(t, c, md, types, in, protojsonwire.Options{}) {
		t.Errorf("Decode(%x) fell back", in)
	}
}
