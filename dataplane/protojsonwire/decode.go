package protojsonwire

import (
	"bytes"
	"encoding/base64"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Decode appends to dst the JSON of the wire message in, exactly as proto.Unmarshal into a
// dynamicpb message followed by protojson.MarshalOptions{...}.Marshal (with the codec's
// options) and json.Compact would write it. It returns ErrFallback when the fast path does not
// take the input (then use proto and protojson: they render it or report the error).
func (c *Codec) Decode(dst, in []byte) ([]byte, error) {
	st := c.pool.Get().(*state)
	defer c.pool.Put(st)
	d := decoder{state: st, opts: c.opts}
	out, ok := d.message(c.m, in, dst, 0)
	st.recs = st.recs[:0]
	if !ok {
		return dst, ErrFallback
	}
	return out, nil
}

// decoder is one Decode call.
type decoder struct {
	*state
	opts Options
}

// record is one occurrence of a known field on the wire: its value v (varints and fixed
// values) or its bytes in[start:end] (length-delimited values).
type record struct {
	f          *field
	wt         protowire.Type
	v          uint64
	start, end int
	dead       bool // replaced by a later member of its oneof
}

// message appends the JSON of the wire message in of type m.
func (d *decoder) message(m *message, in, out []byte, depth int) ([]byte, bool) {
	if depth > maxDepth {
		return out, false
	}
	base := len(d.recs)
	if !d.collect(m, in, base) {
		d.recs = d.recs[:base]
		return out, false
	}
	var ok bool
	if m.wkt != wktNone {
		out, ok = d.wellKnown(m, in, out, base, depth)
	} else {
		out, ok = d.fields(m, in, out, base, depth)
	}
	d.recs = d.recs[:base]
	return out, ok
}

// collect records the known fields of in, sorted by field index (stable, so that the wire
// order of each field's occurrences stays).
func (d *decoder) collect(m *message, in []byte, base int) bool {
	var oneofs [64]*field
	pos := 0
	sorted := true
	for pos < len(in) {
		num, wt, n := protowire.ConsumeTag(in[pos:])
		if n < 0 || num > protowire.MaxValidNumber {
			// proto.Unmarshal refuses field numbers beyond the largest valid one (found by
			// FuzzResponseBody in dataplane/grpcjson).
			return false
		}
		pos += n
		f := m.lookup(num)
		if f == nil {
			n := protowire.ConsumeFieldValue(num, wt, in[pos:])
			if n < 0 {
				return false
			}
			pos += n
			continue
		}
		r := record{f: f, wt: wt}
		switch wt {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(in[pos:])
			if n < 0 {
				return false
			}
			r.v, pos = v, pos+n
		case protowire.Fixed32Type:
			v, n := protowire.ConsumeFixed32(in[pos:])
			if n < 0 {
				return false
			}
			r.v, pos = uint64(v), pos+n
		case protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(in[pos:])
			if n < 0 {
				return false
			}
			r.v, pos = v, pos+n
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(in[pos:])
			if n < 0 {
				return false
			}
			r.start = pos + n - len(v)
			r.end = r.start + len(v)
			pos += n
		default:
			return false
		}
		if wt != f.wireType && !(wt == protowire.BytesType && f.list && f.msg == nil && packable(f.kind)) {
			return false // proto would keep it as an unknown field; rare enough for protojson
		}
		if f.oneof >= 0 {
			if prev := oneofs[f.oneof]; prev != nil && prev != f {
				for i := base; i < len(d.recs); i++ {
					if d.recs[i].f.oneof == f.oneof {
						d.recs[i].dead = true
					}
				}
			}
			oneofs[f.oneof] = f
		}
		if len(d.recs) > base && d.recs[len(d.recs)-1].f.index > f.index {
			sorted = false
		}
		d.recs = append(d.recs, r)
	}
	if !sorted {
		recs := d.recs[base:]
		for i := 1; i < len(recs); i++ {
			for j := i; j > 0 && recs[j].f.index < recs[j-1].f.index; j-- {
				recs[j], recs[j-1] = recs[j-1], recs[j]
			}
		}
	}
	return true
}

// packable reports the kinds a packed repeated field may have.
func packable(k protoreflect.Kind) bool {
	return k != protoreflect.StringKind && k != protoreflect.BytesKind && k != protoreflect.MessageKind && k != protoreflect.GroupKind
}

// group returns the live records of f among recs[i:] (which are sorted by index) and where the
// next field's records start.
func group(recs []record, i int, f *field) (lo, hi, next int) {
	for i < len(recs) && recs[i].f.index < f.index {
		i++
	}
	lo = i
	for i < len(recs) && recs[i].f == f {
		i++
	}
	return lo, i, i
}

// fields appends a message's fields as a JSON object, in declaration order, as protojson does.
func (d *decoder) fields(m *message, in, out []byte, base, depth int) ([]byte, bool) {
	out = append(out, '{')
	first := true
	next := base
	for _, f := range m.fields {
		lo, hi, nx := group(d.recs, next, f)
		next = nx
		if !d.check(f, in, lo, hi, depth) {
			return out, false
		}
		live := false
		for i := lo; i < hi; i++ {
			if !d.recs[i].dead {
				live = true
				break
			}
		}
		start := len(out)
		if !first {
			out = append(out, ',')
		}
		if d.opts.UseProtoNames {
			out = append(out, f.protoKey...)
		} else {
			out = append(out, f.jsonKey...)
		}
		ok, set := true, false
		switch {
		case f.isMap:
			out, set, ok = d.mapValue(f, in, out, lo, hi, depth)
		case f.list:
			out, set, ok = d.listValue(f, in, out, lo, hi, depth)
		case f.msg != nil:
			if live {
				set = true
				out, ok = d.messageValue(f.msg, in, out, lo, hi, depth)
			}
		case live:
			r := &d.recs[hi-1]
			set = f.presence || !isZero(f, r.v, r.end-r.start) || d.opts.EmitDefaultValues && f.oneof < 0
			if set {
				out, ok = d.scalar(f, r.v, in[r.start:r.end], out)
			}
		case !f.presence && f.oneof < 0 && d.opts.EmitDefaultValues:
			set = true
			out, ok = d.scalar(f, 0, nil, out)
		}
		if !ok {
			return out, false
		}
		if !set {
			out = out[:start]
			continue
		}
		first = false
	}
	return append(out, '}'), true
}

// check reports whether the occurrences of a singular field that are not rendered on their own
// — all but the last of a scalar, each of a message given more than once (rendered merged),
// and every one a later member of its oneof replaced — are valid: proto.Unmarshal parses each
// occurrence and refuses the message when one is malformed (found by FuzzResponseBody in
// dataplane/grpcjson: two halves of a message field that are invalid apart but valid
// concatenated). Lists and maps render every occurrence.
func (d *decoder) check(f *field, in []byte, lo, hi, depth int) bool {
	if f.isMap || f.list || hi-lo == 0 || hi-lo == 1 && !d.recs[lo].dead {
		return true
	}
	for i := lo; i < hi; i++ {
		r := d.recs[i]
		if f.msg == nil && i == hi-1 && !r.dead {
			continue // rendered
		}
		var ok bool
		if f.msg != nil {
			_, ok = d.message(f.msg, in[r.start:r.end], nil, depth+1)
		} else {
			_, ok = d.scalar(f, r.v, in[r.start:r.end], nil)
		}
		if !ok {
			return false
		}
	}
	return true
}

// isZero reports a value that implicit presence leaves unset (dynamicpb's isSet).
func isZero(f *field, v uint64, n int) bool {
	switch f.kind {
	case protoreflect.StringKind, protoreflect.BytesKind:
		return n == 0
	case protoreflect.FloatKind:
		return uint32(v) == 0
	case protoreflect.Int32Kind, protoreflect.Uint32Kind, protoreflect.Sint32Kind, protoreflect.EnumKind:
		return uint32(v) == 0
	}
	return v == 0
}

// messageValue appends the message made of the live records lo..hi (their merge: the
// concatenation of their encodings).
func (d *decoder) messageValue(m *message, in, out []byte, lo, hi, depth int) ([]byte, bool) {
	var body []byte
	n := 0
	for i := lo; i < hi; i++ {
		if !d.recs[i].dead {
			n++
			body = in[d.recs[i].start:d.recs[i].end]
		}
	}
	if n > 1 {
		body = nil
		for i := lo; i < hi; i++ {
			if r := d.recs[i]; !r.dead {
				body = append(body, in[r.start:r.end]...)
			}
		}
	}
	return d.message(m, body, out, depth+1)
}

// listValue appends a repeated field's elements as a JSON array; set is false for an empty list
// unless default values are emitted.
func (d *decoder) listValue(f *field, in, out []byte, lo, hi, depth int) ([]byte, bool, bool) {
	out = append(out, '[')
	n := 0
	for i := lo; i < hi; i++ {
		r := d.recs[i]
		if f.msg != nil {
			if n > 0 {
				out = append(out, ',')
			}
			var ok bool
			if out, ok = d.message(f.msg, in[r.start:r.end], out, depth+1); !ok {
				return out, true, false
			}
			n++
			continue
		}
		if r.wt != protowire.BytesType || !packable(f.kind) {
			if n > 0 {
				out = append(out, ',')
			}
			var ok bool
			if out, ok = d.scalar(f, r.v, in[r.start:r.end], out); !ok {
				return out, true, false
			}
			n++
			continue
		}
		packed := in[r.start:r.end]
		for len(packed) > 0 {
			var v uint64
			var m int
			switch f.wireType {
			case protowire.VarintType:
				v, m = protowire.ConsumeVarint(packed)
			case protowire.Fixed32Type:
				var x uint32
				x, m = protowire.ConsumeFixed32(packed)
				v = uint64(x)
			default:
				v, m = protowire.ConsumeFixed64(packed)
			}
			if m < 0 {
				return out, true, false
			}
			packed = packed[m:]
			if n > 0 {
				out = append(out, ',')
			}
			var ok bool
			if out, ok = d.scalar(f, v, nil, out); !ok {
				return out, true, false
			}
			n++
		}
	}
	if n == 0 && !d.opts.EmitDefaultValues {
		return out, false, true
	}
	return append(out, ']'), true, true
}

// entry is one decoded map entry.
type entry struct {
	n          uint64 // integer and bool keys, ordered as unsigned numbers
	key        []byte // string keys
	kv         uint64 // the key's wire value
	val        record
	hasVal     bool
	seq        int
	entryStart int
}

// mapValue appends a map field as a JSON object ordered by key (protojson sorts map keys).
func (d *decoder) mapValue(f *field, in, out []byte, lo, hi, depth int) ([]byte, bool, bool) {
	if lo == hi {
		if !d.opts.EmitDefaultValues {
			return out, false, true
		}
		return append(out, '{', '}'), true, true
	}
	entries := make([]entry, 0, hi-lo)
	for i := lo; i < hi; i++ {
		r := d.recs[i]
		e, ok := d.mapEntry(f, in, r.start, r.end)
		if !ok {
			return out, true, false
		}
		e.seq = i
		entries = append(entries, e)
	}
	str := f.key.kind == protoreflect.StringKind
	less := func(x, y *entry) bool {
		if str {
			c := bytes.Compare(x.key, y.key)
			return c < 0 || c == 0 && x.seq < y.seq
		}
		return x.n < y.n || x.n == y.n && x.seq < y.seq
	}
	for i := 1; i < len(entries); i++ {
		for j := i; j > 0 && less(&entries[j], &entries[j-1]); j-- {
			entries[j], entries[j-1] = entries[j-1], entries[j]
		}
	}
	out = append(out, '{')
	first := true
	for i := range entries {
		e := &entries[i]
		if i+1 < len(entries) {
			nx := &entries[i+1]
			if str && bytes.Equal(e.key, nx.key) || !str && e.n == nx.n {
				continue // a later entry with the same key replaces this one
			}
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		var ok bool
		if str {
			if out, ok = appendString(out, e.key); !ok {
				return out, true, false
			}
		} else {
			out = append(out, '"')
			out = d.keyText(f.key, e.kv, out)
			out = append(out, '"')
		}
		out = append(out, ':')
		if f.val.msg != nil {
			var body []byte
			if e.hasVal {
				body = in[e.val.start:e.val.end]
			}
			out, ok = d.message(f.val.msg, body, out, depth+1)
		} else if e.hasVal {
			out, ok = d.scalar(f.val, e.val.v, in[e.val.start:e.val.end], out)
		} else {
			out, ok = d.scalar(f.val, 0, nil, out)
		}
		if !ok {
			return out, true, false
		}
	}
	return append(out, '}'), true, true
}

// mapEntry decodes one map entry in[start:end].
func (d *decoder) mapEntry(f *field, in []byte, start, end int) (entry, bool) {
	var e entry
	pos := start
	vals := 0
	for pos < end {
		num, wt, n := protowire.ConsumeTag(in[pos:end])
		if n < 0 {
			return e, false
		}
		pos += n
		var ef *field
		switch num {
		case 1:
			ef = f.key
		case 2:
			ef = f.val
		}
		if ef == nil {
			m := protowire.ConsumeFieldValue(num, wt, in[pos:end])
			if m < 0 {
				return e, false
			}
			pos += m
			continue
		}
		if wt != ef.wireType {
			return e, false
		}
		r := record{f: ef, wt: wt}
		var m int
		switch wt {
		case protowire.VarintType:
			r.v, m = protowire.ConsumeVarint(in[pos:end])
		case protowire.Fixed32Type:
			var x uint32
			x, m = protowire.ConsumeFixed32(in[pos:end])
			r.v = uint64(x)
		case protowire.Fixed64Type:
			r.v, m = protowire.ConsumeFixed64(in[pos:end])
		default:
			var v []byte
			v, m = protowire.ConsumeBytes(in[pos:end])
			if m >= 0 {
				r.start = pos + m - len(v)
				r.end = r.start + len(v)
			}
		}
		if m < 0 {
			return e, false
		}
		pos += m
		if num == 1 {
			e.kv = r.v
			e.key = in[r.start:r.end]
			if !utf8Valid(f.key, e.key) {
				return e, false
			}
		} else {
			vals++
			if vals > 1 && ef.msg != nil {
				return e, false // two values of a message type would merge; rare
			}
			e.val, e.hasVal = r, true
		}
	}
	e.n = keyOrder(f.key, e.kv)
	return e, true
}

// utf8Valid checks string keys.
func utf8Valid(f *field, b []byte) bool {
	if f.kind != protoreflect.StringKind {
		return true
	}
	_, ok := appendString(nil, b)
	return ok
}

// keyOrder maps an integer or bool key's wire value to an unsigned number with the key order.
func keyOrder(f *field, v uint64) uint64 {
	switch f.kind {
	case protoreflect.BoolKind:
		if v != 0 {
			return 1
		}
		return 0
	case protoreflect.Int32Kind, protoreflect.Sfixed32Kind:
		return uint64(int64(int32(v))) ^ 1<<63
	case protoreflect.Sint32Kind:
		return uint64(int64(int32(protowire.DecodeZigZag(v&math.MaxUint32)))) ^ 1<<63
	case protoreflect.Sint64Kind:
		return uint64(protowire.DecodeZigZag(v)) ^ 1<<63
	case protoreflect.Int64Kind, protoreflect.Sfixed64Kind:
		return v ^ 1<<63
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return uint64(uint32(v))
	}
	return v
}

// keyText appends an integer or bool key as protojson prints map keys.
func (d *decoder) keyText(f *field, v uint64, out []byte) []byte {
	switch f.kind {
	case protoreflect.BoolKind:
		return strconv.AppendBool(out, v != 0)
	case protoreflect.Int32Kind, protoreflect.Sfixed32Kind:
		return strconv.AppendInt(out, int64(int32(v)), 10)
	case protoreflect.Sint32Kind:
		return strconv.AppendInt(out, int64(int32(protowire.DecodeZigZag(v&math.MaxUint32))), 10)
	case protoreflect.Sint64Kind:
		return strconv.AppendInt(out, protowire.DecodeZigZag(v), 10)
	case protoreflect.Int64Kind, protoreflect.Sfixed64Kind:
		return strconv.AppendInt(out, int64(v), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.AppendUint(out, uint64(uint32(v)), 10)
	}
	return strconv.AppendUint(out, v, 10)
}

// scalar appends one scalar or enum value (v for numbers, p for strings and bytes) as protojson
// prints it (protojson/encode.go marshalSingular).
func (d *decoder) scalar(f *field, v uint64, p []byte, out []byte) ([]byte, bool) {
	switch f.kind {
	case protoreflect.BoolKind:
		return strconv.AppendBool(out, v != 0), true
	case protoreflect.Int32Kind, protoreflect.Sfixed32Kind:
		return strconv.AppendInt(out, int64(int32(v)), 10), true
	case protoreflect.Sint32Kind:
		return strconv.AppendInt(out, int64(int32(protowire.DecodeZigZag(v&math.MaxUint32))), 10), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.AppendUint(out, uint64(uint32(v)), 10), true
	case protoreflect.Int64Kind, protoreflect.Sfixed64Kind:
		out = append(out, '"')
		return append(strconv.AppendInt(out, int64(v), 10), '"'), true
	case protoreflect.Sint64Kind:
		out = append(out, '"')
		return append(strconv.AppendInt(out, protowire.DecodeZigZag(v), 10), '"'), true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		out = append(out, '"')
		return append(strconv.AppendUint(out, v, 10), '"'), true
	case protoreflect.FloatKind:
		return appendFloat(out, float64(math.Float32frombits(uint32(v))), 32), true
	case protoreflect.DoubleKind:
		return appendFloat(out, math.Float64frombits(v), 64), true
	case protoreflect.StringKind:
		return appendString(out, p)
	case protoreflect.BytesKind:
		out = append(out, '"')
		return append(base64.StdEncoding.AppendEncode(out, p), '"'), true
	case protoreflect.EnumKind:
		if f.nullEnum {
			return append(out, "null"...), true
		}
		n := protoreflect.EnumNumber(int32(v))
		if !d.opts.UseEnumNumbers {
			if ev := f.enum.Values().ByNumber(n); ev != nil {
				out = append(out, '"')
				return append(append(out, ev.Name()...), '"'), true
			}
		}
		return strconv.AppendInt(out, int64(n), 10), true
	}
	return out, false
}
