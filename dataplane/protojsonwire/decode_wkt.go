package protojsonwire

import (
	"fmt"
	"math"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// wellKnown appends a well-known type in its own JSON form (protojson/well_known_types.go).
func (d *decoder) wellKnown(m *message, in, out []byte, base, depth int) ([]byte, bool) {
	recs := d.recs[base:]
	last := func(num int) *record {
		for i := len(recs) - 1; i >= 0; i-- {
			if int(recs[i].f.num) == num && !recs[i].dead {
				return &recs[i]
			}
		}
		return nil
	}
	switch m.wkt {
	case wktEmpty:
		return append(out, '{', '}'), true
	case wktWrapper:
		f := m.lookup(1)
		if r := last(1); r != nil {
			return d.scalar(f, r.v, in[r.start:r.end], out)
		}
		return d.scalar(f, 0, nil, out)
	case wktStruct:
		lo, hi, _ := group(d.recs, base, m.lookup(1))
		start := len(out)
		out, set, ok := d.mapValue(m.lookup(1), in, out, lo, hi, depth)
		if !set && ok {
			out = append(out[:start], '{', '}')
		}
		return out, ok
	case wktListValue:
		lo, hi, _ := group(d.recs, base, m.lookup(1))
		start := len(out)
		out, set, ok := d.listValue(m.lookup(1), in, out, lo, hi, depth)
		if !set && ok {
			out = append(out[:start], '[', ']')
		}
		return out, ok
	case wktValue:
		var winner *record
		for i := range recs {
			if !recs[i].dead {
				winner = &recs[i]
			}
		}
		if winner == nil {
			return out, false // protojson: none of the oneof fields is set
		}
		f := winner.f
		if f.msg != nil {
			lo, hi, _ := group(d.recs, base, f)
			return d.messageValue(f.msg, in, out, lo, hi, depth)
		}
		if f.kind == protoreflect.DoubleKind {
			if x := math.Float64frombits(winner.v); math.IsNaN(x) || math.IsInf(x, 0) {
				return out, false
			}
		}
		return d.scalar(f, winner.v, in[winner.start:winner.end], out)
	case wktTimestamp, wktDuration:
		var secs, nanos int64
		if r := last(1); r != nil {
			secs = int64(r.v)
		}
		if r := last(2); r != nil {
			nanos = int64(int32(r.v))
		}
		if m.wkt == wktTimestamp {
			return appendTimestamp(out, secs, nanos)
		}
		return appendDuration(out, secs, nanos)
	case wktFieldMask:
		out = append(out, '"')
		n := 0
		for _, r := range recs {
			s := string(in[r.start:r.end])
			if !protoreflect.FullName(s).IsValid() {
				return out, false
			}
			cc := jsonCamelCase(s)
			if s != jsonSnakeCase(cc) {
				return out, false
			}
			if n > 0 {
				out = append(out, ',')
			}
			n++
			var ok bool
			q, ok := appendString(nil, cc)
			if !ok {
				return out, false
			}
			out = append(out, q[1:len(q)-1]...)
		}
		return append(out, '"'), true
	}
	return out, false
}

// appendTimestamp prints a Timestamp as protojson's marshalTimestamp does.
func appendTimestamp(out []byte, secs, nanos int64) ([]byte, bool) {
	if secs < minTimestampSeconds || secs > maxTimestampSeconds || nanos < 0 || nanos > secondsInNanos {
		return out, false
	}
	t := time.Unix(secs, nanos).UTC()
	x := t.Format("2006-01-02T15:04:05.000000000")
	x = strings.TrimSuffix(x, "000")
	x = strings.TrimSuffix(x, "000")
	x = strings.TrimSuffix(x, ".000")
	out = append(out, '"')
	out = append(out, x...)
	return append(out, 'Z', '"'), true
}

// appendDuration prints a Duration as protojson's marshalDuration does.
func appendDuration(out []byte, secs, nanos int64) ([]byte, bool) {
	if secs < -maxSecondsInDuration || secs > maxSecondsInDuration || nanos < -secondsInNanos || nanos > secondsInNanos ||
		secs > 0 && nanos < 0 || secs < 0 && nanos > 0 {
		return out, false
	}
	var sign string
	if secs < 0 || nanos < 0 {
		sign, secs, nanos = "-", -1*secs, -1*nanos
	}
	x := fmt.Sprintf("%s%d.%09d", sign, secs, nanos)
	x = strings.TrimSuffix(x, "000")
	x = strings.TrimSuffix(x, "000")
	x = strings.TrimSuffix(x, ".000")
	out = append(out, '"')
	out = append(out, x...)
	return append(out, 's', '"'), true
}
