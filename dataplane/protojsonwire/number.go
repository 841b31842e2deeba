package protojsonwire

import (
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// intDigits turns a JSON number into the decimal digits of the integer it denotes, as
// protojson's decoder does (internal/encoding/json parseNumberParts and normalizeToIntString):
// 1e2 and 100.0 are 100; 1.5 is not an integer. buf holds the result.
func intDigits(raw []byte, buf *[24]byte) (neg bool, digits []byte, ok bool) {
	s := raw
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	var intp, frac, exp []byte
	switch {
	case len(s) > 0 && s[0] == '0':
		s = s[1:]
	case len(s) > 0 && s[0] >= '1' && s[0] <= '9':
		n := 1
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		intp, s = s[:n], s[n:]
	default:
		return false, nil, false
	}
	if len(s) >= 2 && s[0] == '.' {
		n := 1
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		frac, s = s[1:n], s[n:]
		for len(frac) > 0 && frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		exp = s[1:]
	}
	if len(intp) == 0 && len(frac) == 0 {
		return false, append(buf[:0], '0'), true
	}
	e := 0
	if len(exp) > 0 {
		x, err := strconv.ParseInt(string(exp), 10, 32)
		if err != nil {
			return false, nil, false
		}
		e = int(x)
	}
	if e >= 0 {
		if len(frac) > e || len(intp)+e > 20 {
			return false, nil, false
		}
		num := append(append(buf[:0], intp...), frac...)
		for range e - len(frac) {
			num = append(num, '0')
		}
		return neg, num, true
	}
	if len(frac) > 0 {
		return false, nil, false
	}
	index := len(intp) + e
	if index < 0 {
		return false, nil, false
	}
	for _, c := range intp[index:] {
		if c != '0' {
			return false, nil, false
		}
	}
	return neg, append(buf[:0], intp[:index]...), true
}

// parseUintDigits parses decimal digits within bitSize bits.
func parseUintDigits(d []byte, bitSize int) (uint64, bool) {
	if len(d) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range d {
		hi, lo := bits.Mul64(n, 10)
		if hi != 0 {
			return 0, false
		}
		n = lo + uint64(c-'0')
		if n < lo {
			return 0, false
		}
	}
	if bitSize == 32 && n > math.MaxUint32 {
		return 0, false
	}
	return n, true
}

// parseInt converts a JSON number to a signed integer of bitSize bits, or fails as
// strconv.ParseInt of protojson's normalized digits does.
func parseInt(raw []byte, bitSize int) (int64, bool) {
	var buf [24]byte
	neg, d, ok := intDigits(raw, &buf)
	if !ok {
		return 0, false
	}
	u, ok := parseUintDigits(d, 64)
	if !ok {
		return 0, false
	}
	limit := uint64(1) << (bitSize - 1)
	if neg {
		if u > limit {
			return 0, false
		}
		return -int64(u), true // -limit wraps to itself, which is the minimum
	}
	if u >= limit {
		return 0, false
	}
	return int64(u), true
}

// parseUint converts a JSON number to an unsigned integer of bitSize bits.
func parseUint(raw []byte, bitSize int) (uint64, bool) {
	var buf [24]byte
	neg, d, ok := intDigits(raw, &buf)
	if !ok || neg {
		return 0, false
	}
	return parseUintDigits(d, bitSize)
}

// appendFloat formats a float as protojson does (internal/encoding/json appendFloat): NaN and
// the infinities as strings, ES6-style exponent thresholds, shortest representation.
func appendFloat(out []byte, n float64, bitSize int) []byte {
	switch {
	case math.IsNaN(n):
		return append(out, `"NaN"`...)
	case math.IsInf(n, +1):
		return append(out, `"Infinity"`...)
	case math.IsInf(n, -1):
		return append(out, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(n); abs != 0 {
		if bitSize == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bitSize == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	out = strconv.AppendFloat(out, n, format, -1, bitSize)
	if format == 'e' {
		n := len(out)
		if n >= 4 && out[n-4] == 'e' && out[n-3] == '-' && out[n-2] == '0' {
			out[n-2] = out[n-1]
			out = out[:n-1]
		}
	}
	return out
}

// appendString appends s as a JSON string escaped as protojson escapes it
// (internal/encoding/json appendString); it fails on invalid UTF-8.
func appendString[S ~string | ~[]byte](out []byte, s S) ([]byte, bool) {
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
			if r == utf8.RuneError && n == 1 {
				return out, false
			}
			i += n
			continue
		}
		if c >= ' ' && c != '"' && c != '\\' {
			i++
			continue
		}
		out = append(out, s[start:i]...)
		out = append(out, '\\')
		switch c {
		case '"', '\\':
			out = append(out, c)
		case '\b':
			out = append(out, 'b')
		case '\f':
			out = append(out, 'f')
		case '\n':
			out = append(out, 'n')
		case '\r':
			out = append(out, 'r')
		case '\t':
			out = append(out, 't')
		default:
			out = append(out, 'u')
			out = append(out, "0000"[1+(bits.Len32(uint32(c))-1)/4:]...)
			out = strconv.AppendUint(out, uint64(c), 16)
		}
		i++
		start = i
	}
	out = append(out, s[start:]...)
	return append(out, '"'), true
}

// jsonCamelCase and jsonSnakeCase are protobuf's internal/strs JSONCamelCase and JSONSnakeCase,
// which FieldMask paths go through.
func jsonCamelCase(s string) string {
	var b []byte
	var wasUnderscore bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' {
			if wasUnderscore && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
		}
		wasUnderscore = c == '_'
	}
	return string(b)
}

func jsonSnakeCase(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			b = append(b, '_')
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

func float64bits(x float64) uint64 { return math.Float64bits(x) }
