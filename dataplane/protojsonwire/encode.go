package protojsonwire

import (
	"bytes"
	"encoding/base64"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Encode appends to dst the wire form of the JSON message in, exactly as
// protojson.Unmarshal into a dynamicpb message followed by proto.MarshalOptions{Deterministic:
// true}.Marshal would write it. It returns ErrFallback when the fast path does not take the
// input (then use protojson: it accepts the input or reports the error).
func (c *Codec) Encode(dst, in []byte) ([]byte, error) {
	st := c.pool.Get().(*state)
	defer c.pool.Put(st)
	st.scan = scanner{in: in, str: st.scan.str}
	e := encoder{state: st}
	out, ok := e.message(c.m, dst, 0)
	if !ok || e.scan.peek() != 0 || e.scan.pos != len(in) {
		st.reset()
		return dst, ErrFallback
	}
	st.reset()
	return out, nil
}

// reset drops references to the caller's input.
func (st *state) reset() {
	st.scan.in = nil
	st.segs = st.segs[:0]
	st.keys = st.keys[:0]
}

// encoder is one Encode call.
type encoder struct {
	*state
}

// message appends the fields of a JSON object of type m.
func (e *encoder) message(m *message, b []byte, depth int) ([]byte, bool) {
	if depth > maxDepth {
		return b, false
	}
	if m.wkt != wktNone {
		return e.wellKnown(m, b, depth)
	}
	s := &e.scan
	if !s.consume('{') {
		return b, false
	}
	var seen [maxFields / 64]uint64
	var oneofs uint64
	base, start := len(e.segs), len(b)
	if !s.consume('}') {
		for {
			name, ok := s.string()
			if !ok {
				return b, false
			}
			f := m.byName[string(name)]
			if f == nil || !s.consume(':') {
				return b, false
			}
			bit := uint64(1) << (f.index % 64)
			if seen[f.index/64]&bit != 0 {
				return b, false
			}
			seen[f.index/64] |= bit
			if s.peek() == 'n' && !f.nullEnum && (f.msg == nil || f.msg.wkt != wktValue) {
				// protojson leaves a field given as null unset, but for google.protobuf.Value
				// and NullValue (protojson/decode.go unmarshalMessage).
				if !s.literal("null") {
					return b, false
				}
			} else {
				if f.oneof >= 0 {
					if f.oneof >= 64 || oneofs&(1<<f.oneof) != 0 {
						return b, false
					}
					oneofs |= 1 << f.oneof
				}
				at := len(b)
				if b, ok = e.field(f, b, depth); !ok {
					return b, false
				}
				if len(b) > at {
					e.segs = append(e.segs, segment{rank: f.rank, start: at, end: len(b)})
				}
			}
			if s.consume('}') {
				break
			}
			if !s.consume(',') {
				return b, false
			}
		}
	}
	b = e.reorder(b, start, base)
	e.segs = e.segs[:base]
	return b, true
}

// reorder puts the field segments recorded since base (covering b[start:]) in rank order.
func (e *encoder) reorder(b []byte, start, base int) []byte {
	segs := e.segs[base:]
	sorted := true
	for i := 1; i < len(segs); i++ {
		if segs[i].rank < segs[i-1].rank {
			sorted = false
			break
		}
	}
	if sorted {
		return b
	}
	for i := 1; i < len(segs); i++ {
		for j := i; j > 0 && segs[j].rank < segs[j-1].rank; j-- {
			segs[j], segs[j-1] = segs[j-1], segs[j]
		}
	}
	e.scratch = append(e.scratch[:0], b[start:]...)
	b = b[:start]
	for _, sg := range segs {
		b = append(b, e.scratch[sg.start-start:sg.end-start]...)
	}
	return b
}

// field appends the value of f (the JSON value is next).
func (e *encoder) field(f *field, b []byte, depth int) ([]byte, bool) {
	switch {
	case f.isMap:
		return e.mapField(f, b, depth)
	case f.list:
		return e.listField(f, b, depth)
	case f.msg != nil:
		b = append(b, f.tag...)
		b, pos := beginLen(b)
		b, ok := e.message(f.msg, b, depth+1)
		return endLen(b, pos), ok
	}
	v, ok := e.scalar(f)
	if !ok {
		return b, false
	}
	if !f.presence && v.zero() {
		return b, true
	}
	return appendScalar(append(b, f.tag...), f, v), true
}

// listField appends a JSON array.
func (e *encoder) listField(f *field, b []byte, depth int) ([]byte, bool) {
	s := &e.scan
	if !s.consume('[') {
		return b, false
	}
	if s.consume(']') {
		return b, true
	}
	start := len(b)
	pos := 0
	if f.packed {
		b = append(b, f.tag...)
		b, pos = beginLen(b)
	}
	for {
		switch {
		case f.msg != nil:
			b = append(b, f.tag...)
			var p int
			b, p = beginLen(b)
			var ok bool
			if b, ok = e.message(f.msg, b, depth+1); !ok {
				return b, false
			}
			b = endLen(b, p)
		default:
			v, ok := e.scalar(f)
			if !ok {
				return b, false
			}
			if !f.packed {
				b = append(b, f.tag...)
			}
			b = appendScalar(b, f, v)
		}
		if s.consume(']') {
			break
		}
		if !s.consume(',') {
			return b[:start], false
		}
	}
	if f.packed {
		b = endLen(b, pos)
	}
	return b, true
}

// mapKey is one entry of a map being encoded, for sorting and duplicate detection.
type mapKey struct {
	n          uint64 // integer and bool keys, ordered as unsigned numbers
	ks, ke     int    // string keys: b[ks:ke]
	start, end int    // the entry: b[start:end]
}

// mapField appends a JSON object as map entries, ordered by key as deterministic marshalling
// orders them.
func (e *encoder) mapField(f *field, b []byte, depth int) ([]byte, bool) {
	s := &e.scan
	if !s.consume('{') {
		return b, false
	}
	if s.consume('}') {
		return b, true
	}
	start, base := len(b), len(e.keys)
	for {
		name, ok := s.string()
		if !ok || !s.consume(':') {
			return b, false
		}
		k := mapKey{start: len(b)}
		b = append(b, f.tag...)
		var pos int
		b, pos = beginLen(b)
		b = append(b, f.key.tag...)
		if f.key.kind == protoreflect.StringKind {
			b = protowire.AppendVarint(b, uint64(len(name)))
			k.ks = len(b)
			b = append(b, name...)
			k.ke = len(b)
		} else {
			v, ok := mapKeyValue(f.key, name)
			if !ok {
				return b, false
			}
			k.n = v.u
			if f.key.signed() {
				k.n = v.signed ^ 1<<63
			}
			b = appendScalar(b, f.key, v)
		}
		if f.val.msg != nil {
			b = append(b, f.val.tag...)
			var p int
			b, p = beginLen(b)
			if b, ok = e.message(f.val.msg, b, depth+1); !ok {
				return b, false
			}
			b = endLen(b, p)
		} else {
			v, ok := e.scalar(f.val)
			if !ok {
				return b, false
			}
			b = appendScalar(append(b, f.val.tag...), f.val, v)
		}
		before := len(b)
		b = endLen(b, pos)
		k.ks, k.ke = k.ks+len(b)-before, k.ke+len(b)-before // the length may have moved the key
		k.end = len(b)
		e.keys = append(e.keys, k)
		if s.consume('}') {
			break
		}
		if !s.consume(',') {
			return b, false
		}
	}
	b, ok := e.sortEntries(b, f.key.kind == protoreflect.StringKind, start, base)
	e.keys = e.keys[:base]
	return b, ok
}

// sortEntries orders the entries recorded since base (covering b[start:]) by key, and fails on
// a duplicate key (protojson refuses them).
func (e *encoder) sortEntries(b []byte, str bool, start, base int) ([]byte, bool) {
	keys := e.keys[base:]
	cmp := func(x, y *mapKey) int {
		if str {
			return bytes.Compare(b[x.ks:x.ke], b[y.ks:y.ke])
		}
		switch {
		case x.n < y.n:
			return -1
		case x.n > y.n:
			return 1
		}
		return 0
	}
	sorted := true
	for i := 1; i < len(keys); i++ {
		c := cmp(&keys[i-1], &keys[i])
		if c == 0 {
			return b, false
		}
		if c > 0 {
			sorted = false
		}
	}
	if sorted {
		return b, true
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && cmp(&keys[j], &keys[j-1]) < 0; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	for i := 1; i < len(keys); i++ {
		if cmp(&keys[i-1], &keys[i]) == 0 {
			return b, false
		}
	}
	e.scratch = append(e.scratch[:0], b[start:]...)
	b = b[:start]
	for _, k := range keys {
		b = append(b, e.scratch[k.start-start:k.end-start]...)
	}
	return b, true
}

// scalarValue is a parsed scalar: u holds the wire bits of numbers (varint value or fixed
// bits), p the bytes of strings and bytes.
type scalarValue struct {
	u      uint64
	signed uint64 // for integer map keys: the value as a two's complement int64
	p      []byte
}

// zero reports a value that proto3 implicit presence leaves unset (-0.0 is set).
func (v scalarValue) zero() bool { return v.u == 0 && len(v.p) == 0 }

// scalar reads a JSON value for a scalar or enum field, with protojson's rules
// (protojson/decode.go unmarshalScalar).
func (e *encoder) scalar(f *field) (scalarValue, bool) {
	s := &e.scan
	switch f.kind {
	case protoreflect.BoolKind:
		switch {
		case s.literal("true"):
			return scalarValue{u: 1}, true
		case s.literal("false"):
			return scalarValue{}, true
		}
		return scalarValue{}, false
	case protoreflect.StringKind:
		p, ok := s.string()
		return scalarValue{p: p}, ok
	case protoreflect.BytesKind:
		p, ok := s.string()
		if !ok {
			return scalarValue{}, false
		}
		enc := base64.StdEncoding
		if bytes.ContainsAny(p, "-_") {
			enc = base64.URLEncoding
		}
		if len(p)%4 != 0 {
			enc = enc.WithPadding(base64.NoPadding)
		}
		out, err := enc.AppendDecode(e.tmp[:0], p)
		if err != nil {
			return scalarValue{}, false
		}
		e.tmp = out
		return scalarValue{p: out}, true
	case protoreflect.EnumKind:
		switch s.peek() {
		case '"':
			p, ok := s.string()
			if !ok {
				return scalarValue{}, false
			}
			n, ok := f.enumNames[string(p)]
			if !ok {
				return scalarValue{}, false
			}
			return scalarValue{u: uint64(int64(n))}, true
		case 'n':
			if f.nullEnum && s.literal("null") {
				return scalarValue{}, true
			}
			return scalarValue{}, false
		}
		raw, ok := s.number()
		if !ok {
			return scalarValue{}, false
		}
		n, ok := parseInt(raw, 32)
		return scalarValue{u: uint64(n)}, ok
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return e.float(f.kind == protoreflect.FloatKind)
	}
	// Integers: a JSON number or a string holding exactly one.
	var raw []byte
	if s.peek() == '"' {
		p, ok := s.string()
		if !ok || !isNumber(p) {
			return scalarValue{}, false
		}
		raw = p
	} else {
		var ok bool
		if raw, ok = s.number(); !ok {
			return scalarValue{}, false
		}
	}
	return intValue(f.kind, raw)
}

// intValue converts a JSON number to an integer kind's wire bits.
func intValue(k protoreflect.Kind, raw []byte) (scalarValue, bool) {
	switch k {
	case protoreflect.Int32Kind, protoreflect.Sfixed32Kind, protoreflect.Sint32Kind:
		n, ok := parseInt(raw, 32)
		return signedValue(k, n), ok
	case protoreflect.Int64Kind, protoreflect.Sfixed64Kind, protoreflect.Sint64Kind:
		n, ok := parseInt(raw, 64)
		return signedValue(k, n), ok
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, ok := parseUint(raw, 32)
		return scalarValue{u: n}, ok
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, ok := parseUint(raw, 64)
		return scalarValue{u: n}, ok
	}
	return scalarValue{}, false
}

// signedValue is the wire bits of a signed integer of kind k.
func signedValue(k protoreflect.Kind, n int64) scalarValue {
	v := scalarValue{signed: uint64(n)}
	switch k {
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		v.u = protowire.EncodeZigZag(n)
	case protoreflect.Sfixed32Kind:
		v.u = uint64(uint32(int32(n)))
	default:
		v.u = uint64(n)
	}
	return v
}

// mapKeyValue parses a map key, as protojson's unmarshalMapKey does (strconv, base 10).
func mapKeyValue(f *field, name []byte) (scalarValue, bool) {
	switch f.kind {
	case protoreflect.BoolKind:
		switch string(name) {
		case "true":
			return scalarValue{u: 1}, true
		case "false":
			return scalarValue{}, true
		}
		return scalarValue{}, false
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(string(name), 10, 32)
		return signedValue(f.kind, n), err == nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(string(name), 10, 64)
		return signedValue(f.kind, n), err == nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(string(name), 10, 32)
		return scalarValue{u: n}, err == nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(string(name), 10, 64)
		return scalarValue{u: n}, err == nil
	}
	return scalarValue{}, false
}

// float reads a float or double: a number, "NaN", "Infinity", "-Infinity" or a string holding
// a number (protojson/decode.go unmarshalFloat).
func (e *encoder) float(f32 bool) (scalarValue, bool) {
	s := &e.scan
	var raw []byte
	if s.peek() == '"' {
		p, ok := s.string()
		if !ok {
			return scalarValue{}, false
		}
		var special float64
		switch string(p) {
		case "NaN":
			special = math.NaN()
		case "Infinity":
			special = math.Inf(1)
		case "-Infinity":
			special = math.Inf(-1)
		default:
			if !isNumber(p) {
				return scalarValue{}, false
			}
			raw = p
		}
		if raw == nil {
			if f32 {
				return scalarValue{u: uint64(math.Float32bits(float32(special)))}, true
			}
			return scalarValue{u: math.Float64bits(special)}, true
		}
	} else {
		var ok bool
		if raw, ok = s.number(); !ok {
			return scalarValue{}, false
		}
	}
	bits := 64
	if f32 {
		bits = 32
	}
	x, err := strconv.ParseFloat(string(raw), bits)
	if err != nil {
		return scalarValue{}, false
	}
	if f32 {
		return scalarValue{u: uint64(math.Float32bits(float32(x)))}, true
	}
	return scalarValue{u: math.Float64bits(x)}, true
}

// appendScalar appends the wire value (no tag) of v for f.
func appendScalar(b []byte, f *field, v scalarValue) []byte {
	switch f.wireType {
	case protowire.VarintType:
		return protowire.AppendVarint(b, v.u)
	case protowire.Fixed32Type:
		return protowire.AppendFixed32(b, uint32(v.u))
	case protowire.Fixed64Type:
		return protowire.AppendFixed64(b, v.u)
	}
	return protowire.AppendBytes(b, v.p)
}

// beginLen reserves one byte for a length prefix and returns where the content starts, as
// proto's appendSpeculativeLength does.
func beginLen(b []byte) ([]byte, int) {
	b = append(b, 0)
	return b, len(b)
}

// endLen writes the length of b[pos:] before it, moving the content when the length takes more
// than the one byte reserved.
func endLen(b []byte, pos int) []byte {
	n := len(b) - pos
	size := protowire.SizeVarint(uint64(n))
	if size > 1 {
		for range size - 1 {
			b = append(b, 0)
		}
		copy(b[pos-1+size:], b[pos:pos+n])
	}
	protowire.AppendVarint(b[:pos-1], uint64(n))
	return b
}
