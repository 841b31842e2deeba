package protojsonwire

import (
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Limits of Timestamp and Duration, as in protojson/well_known_types.go.
const (
	secondsInNanos       = 999999999
	maxSecondsInDuration = 315576000000
	maxTimestampSeconds  = 253402300799
	minTimestampSeconds  = -62135596800
)

// wellKnown appends the fields of a well-known type given in its own JSON form
// (protojson/well_known_types.go).
func (e *encoder) wellKnown(m *message, b []byte, depth int) ([]byte, bool) {
	s := &e.scan
	switch m.wkt {
	case wktWrapper:
		f := m.lookup(1)
		v, ok := e.scalar(f)
		if !ok {
			return b, false
		}
		if v.zero() {
			return b, true
		}
		return appendScalar(append(b, f.tag...), f, v), true
	case wktEmpty:
		return b, s.consume('{') && s.consume('}')
	case wktStruct:
		return e.mapField(m.lookup(1), b, depth)
	case wktListValue:
		return e.listField(m.lookup(1), b, depth)
	case wktValue:
		return e.value(m, b, depth)
	case wktTimestamp:
		p, ok := s.string()
		if !ok {
			return b, false
		}
		secs, nanos, ok := parseTimestamp(string(p))
		if !ok {
			return b, false
		}
		return appendSecondsNanos(b, secs, nanos), true
	case wktDuration:
		p, ok := s.string()
		if !ok {
			return b, false
		}
		secs, nanos, ok := parseDuration(p)
		if !ok || secs < -maxSecondsInDuration || secs > maxSecondsInDuration {
			return b, false
		}
		return appendSecondsNanos(b, secs, nanos), true
	case wktFieldMask:
		p, ok := s.string()
		if !ok {
			return b, false
		}
		str := strings.TrimSpace(string(p))
		if str == "" {
			return b, true
		}
		for _, s0 := range strings.Split(str, ",") {
			path := jsonSnakeCase(s0)
			if strings.Contains(s0, "_") || !protoreflect.FullName(path).IsValid() {
				return b, false
			}
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendString(b, path)
		}
		return b, true
	}
	return b, false
}

// appendSecondsNanos writes the two fields of a Timestamp or Duration, each when not zero.
func appendSecondsNanos(b []byte, secs int64, nanos int32) []byte {
	if secs != 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(secs))
	}
	if nanos != 0 {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(nanos)))
	}
	return b
}

// value appends a google.protobuf.Value from any JSON value.
func (e *encoder) value(m *message, b []byte, depth int) ([]byte, bool) {
	s := &e.scan
	var f *field
	switch s.peek() {
	case 'n':
		if !s.literal("null") {
			return b, false
		}
		f = m.lookup(1)
		return protowire.AppendVarint(append(b, f.tag...), 0), true
	case 't', 'f':
		f = m.lookup(4)
		v, ok := e.scalar(f)
		if !ok {
			return b, false
		}
		return appendScalar(append(b, f.tag...), f, v), true
	case '"':
		f = m.lookup(3)
		p, ok := s.string()
		if !ok {
			return b, false
		}
		return protowire.AppendBytes(append(b, f.tag...), p), true
	case '{':
		f = m.lookup(5)
	case '[':
		f = m.lookup(6)
	default:
		f = m.lookup(2)
		raw, ok := s.number()
		if !ok {
			return b, false
		}
		x, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return b, false
		}
		return appendScalar(append(b, f.tag...), f, scalarValue{u: float64bits(x)}), true
	}
	b = append(b, f.tag...)
	b, pos := beginLen(b)
	b, ok := e.message(f.msg, b, depth+1)
	return endLen(b, pos), ok
}

// parseTimestamp parses an RFC 3339 timestamp as protojson does (time.Parse, then its range and
// precision checks).
func parseTimestamp(s string) (int64, int32, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, 0, false
	}
	secs := t.Unix()
	if secs < minTimestampSeconds || secs > maxTimestampSeconds {
		return 0, 0, false
	}
	i := strings.LastIndexByte(s, '.')
	j := strings.LastIndexAny(s, "Z-+")
	if i >= 0 && j >= i && j-i > len(".999999999") {
		return 0, 0, false
	}
	return secs, int32(t.Nanosecond()), true
}

// parseDuration is protojson's parseDuration ("1.5s", "-0.000000001s").
func parseDuration(b []byte) (int64, int32, bool) {
	size := len(b)
	if size < 2 || b[size-1] != 's' {
		return 0, 0, false
	}
	b = b[:size-1]
	var neg bool
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, 0, false
	}
	var intp []byte
	switch {
	case b[0] == '0':
		b = b[1:]
	case '1' <= b[0] && b[0] <= '9':
		n := 1
		for n < len(b) && '0' <= b[n] && b[n] <= '9' {
			n++
		}
		intp, b = b[:n], b[n:]
	case b[0] == '.':
	default:
		return 0, 0, false
	}
	hasFrac := false
	var frac [9]byte
	if len(b) > 0 {
		if b[0] != '.' {
			return 0, 0, false
		}
		b = b[1:]
		n := 0
		for len(b) > 0 && n < 9 && '0' <= b[0] && b[0] <= '9' {
			frac[n] = b[0]
			n++
			b = b[1:]
		}
		if len(b) > 0 {
			return 0, 0, false
		}
		for i := n; i < 9; i++ {
			frac[i] = '0'
		}
		hasFrac = true
	}
	var secs int64
	if len(intp) > 0 {
		var err error
		if secs, err = strconv.ParseInt(string(intp), 10, 64); err != nil {
			return 0, 0, false
		}
	}
	var nanos int64
	if hasFrac {
		for _, c := range frac {
			nanos = nanos*10 + int64(c-'0')
		}
	}
	if neg {
		secs, nanos = -secs, -nanos
	}
	return secs, int32(nanos), true
}
