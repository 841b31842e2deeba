package hessianwire

import (
	"encoding/binary"
	"math"
	"strconv"
)

// ReadScalar reads the value at the start of b when it is null, a boolean, an int, a long, a
// double or a string of ASCII text in one chunk, as dubbo-go-hessian2's Decoder returns it
// (nil, bool, int32, int64, float64, string), with its length in bytes. ok is false for any
// other value, and for a truncated one: the caller then decodes b with the Decoder, which
// handles everything (FuzzReadScalar holds the two equal where ReadScalar answers).
func ReadScalar(b []byte) (v any, n int, ok bool) {
	if len(b) == 0 {
		return nil, 0, false
	}
	tag := b[0]
	need := func(k int) bool { return len(b) >= k }
	switch {
	case tag == tagNull:
		return nil, 1, true
	case tag == tagTrue:
		return true, 1, true
	case tag == tagFalse:
		return false, 1, true
	case tag >= 0x80 && tag <= 0xbf:
		return int32(tag) - intZero, 1, true
	case tag >= 0xc0 && tag <= 0xcf && need(2):
		return (int32(tag)-intByteZero)<<8 | int32(b[1]), 2, true
	case tag >= 0xd0 && tag <= 0xd7 && need(3):
		return (int32(tag)-intShortZero)<<16 | int32(b[1])<<8 | int32(b[2]), 3, true
	case tag == tagInt && need(5):
		return int32(binary.BigEndian.Uint32(b[1:])), 5, true
	case tag >= 0xd8 && tag <= 0xef:
		return int64(tag) - longZero, 1, true
	case tag >= 0xf0 && need(2):
		return (int64(tag)-longByteZero)<<8 | int64(b[1]), 2, true
	case tag >= 0x38 && tag <= 0x3f && need(3):
		return (int64(tag)-longShort)<<16 | int64(b[1])<<8 | int64(b[2]), 3, true
	case tag == longInt && need(5):
		return int64(int32(binary.BigEndian.Uint32(b[1:]))), 5, true
	case tag == tagLong && need(9):
		return int64(binary.BigEndian.Uint64(b[1:])), 9, true
	case tag == doubleZero:
		return float64(0), 1, true
	case tag == doubleOne:
		return float64(1), 1, true
	case tag == doubleByte && need(2):
		return float64(int8(b[1])), 2, true
	case tag == doubleShort && need(3):
		return float64(int16(binary.BigEndian.Uint16(b[1:]))), 3, true
	case tag == 0x5f && need(5): // a 32-bit "mill" double
		return float64(int32(binary.BigEndian.Uint32(b[1:]))) / 1000, 5, true
	case tag == tagDouble && need(9):
		return math.Float64frombits(binary.BigEndian.Uint64(b[1:])), 9, true
	}
	s, n, ok := readASCII(b)
	if !ok {
		return nil, 0, false
	}
	return s, n, true
}

// readASCIIInterned is readASCII, with the text from intern when it holds it.
func readASCIIInterned(b []byte, intern func([]byte) (string, bool)) (string, int, bool) {
	text, n, ok := asciiText(b)
	if !ok {
		return "", 0, false
	}
	if intern != nil {
		if s, ok := intern(text); ok {
			return s, n, true
		}
	}
	return string(text), n, true
}

// readASCII reads a string of one chunk whose text is ASCII (for which hessian2's UTF-16 length
// is its length in bytes).
func readASCII(b []byte) (string, int, bool) {
	text, n, ok := asciiText(b)
	if !ok {
		return "", 0, false
	}
	return string(text), n, true
}

// asciiText is the text of the string readASCII reads, in b.
func asciiText(b []byte) ([]byte, int, bool) {
	if len(b) == 0 {
		return nil, 0, false
	}
	var length, head int
	switch tag := b[0]; {
	case tag <= 0x1f:
		length, head = int(tag), 1
	case tag >= strShort && tag <= 0x33 && len(b) >= 2:
		length, head = int(tag-strShort)<<8|int(b[1]), 2
	case tag == strFinal && len(b) >= 3:
		length, head = int(binary.BigEndian.Uint16(b[1:])), 3
	default:
		return nil, 0, false
	}
	if len(b) < head+length {
		return nil, 0, false
	}
	text := b[head : head+length]
	for _, c := range text {
		if c >= 0x80 {
			return nil, 0, false
		}
	}
	return text, head + length, true
}

// ReadStringMap reads an untyped map ('H' ... 'Z') whose keys are strings ReadScalar reads and
// whose values are such strings, booleans, ints, longs or null, as Dubbo's attachments: the
// values as text (what fmt.Sprint prints), null values left out, the last of repeated keys
// kept (a null last one removes the key). ok is false for any other map (the caller decodes
// it with the Decoder). intern, when not nil, may return a string it holds for a key's or a
// string value's text (ok true), which saves allocating it again.
func ReadStringMap(b []byte, intern func(text []byte) (string, bool)) (m map[string]string, n int, ok bool) {
	if len(b) == 0 || b[0] != tagMap {
		return nil, 0, false
	}
	m = map[string]string{}
	for i := 1; ; {
		if i >= len(b) {
			return nil, 0, false
		}
		if b[i] == tagEnd {
			return m, i + 1, true
		}
		k, kn, ok := readASCIIInterned(b[i:], intern)
		if !ok {
			return nil, 0, false
		}
		i += kn
		var v any
		var vn int
		if s, sn, isString := readASCIIInterned(b[i:], intern); isString {
			v, vn, ok = s, sn, true
		} else {
			v, vn, ok = ReadScalar(b[i:])
		}
		if !ok {
			return nil, 0, false
		}
		i += vn
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case string:
			m[k] = v
		case bool:
			m[k] = strconv.FormatBool(v)
		case int32:
			m[k] = strconv.FormatInt(int64(v), 10)
		case int64:
			m[k] = strconv.FormatInt(v, 10)
		default: // doubles: fmt.Sprint's form is not worth porting
			return nil, 0, false
		}
	}
}
