package protojsonwire

import (
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads JSON tokens from a byte slice. It is stricter than protojson's own decoder
// (google.golang.org/protobuf/internal/encoding/json): it accepts only RFC 8259 JSON, so that
// everything it accepts protojson accepts too; whatever it refuses goes to protojson, which
// then accepts it or reports the error.
type scanner struct {
	in  []byte
	pos int
	// str holds unescaped string contents when a string has escapes.
	str []byte
}

// skip moves past JSON whitespace, as protojson's decoder does (space, \n, \r, \t).
func (s *scanner) skip() {
	for s.pos < len(s.in) {
		switch s.in[s.pos] {
		case ' ', '\n', '\r', '\t':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.skip()
	if s.pos < len(s.in) {
		return s.in[s.pos]
	}
	return 0
}

// consume moves past c (the next non-space byte) or fails.
func (s *scanner) consume(c byte) bool {
	if s.peek() != c {
		return false
	}
	s.pos++
	return true
}

// delimited reports whether the byte at the position may follow a number or literal.
func (s *scanner) delimited() bool {
	if s.pos >= len(s.in) {
		return true
	}
	switch s.in[s.pos] {
	case ' ', '\n', '\r', '\t', ',', '}', ']', ':':
		return true
	}
	return false
}

// literal consumes the literal word (null, true, false) when it is next.
func (s *scanner) literal(word string) bool {
	s.skip()
	if len(s.in)-s.pos < len(word) || string(s.in[s.pos:s.pos+len(word)]) != word {
		return false
	}
	s.pos += len(word)
	if !s.delimited() {
		s.pos -= len(word)
		return false
	}
	return true
}

// number consumes a JSON number and returns its text.
func (s *scanner) number() ([]byte, bool) {
	s.skip()
	n, ok := numberLen(s.in[s.pos:])
	if !ok {
		return nil, false
	}
	start := s.pos
	s.pos += n
	if !s.delimited() {
		return nil, false
	}
	return s.in[start:s.pos], true
}

// numberLen is the length of the JSON number at the start of b:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberLen(b []byte) (int, bool) {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	return i, true
}

// isNumber reports whether b is exactly one JSON number.
func isNumber(b []byte) bool {
	n, ok := numberLen(b)
	return ok && n == len(b)
}

// str consumes a JSON string and returns its contents, unescaped. The result aliases the input
// or the scanner's buffer: it is valid until the next call.
func (s *scanner) string() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	s.pos++
	start := s.pos
	// Fast path: no escapes, ASCII or valid UTF-8.
	for s.pos < len(s.in) {
		c := s.in[s.pos]
		switch {
		case c == '"':
			out := s.in[start:s.pos]
			s.pos++
			return out, true
		case c == '\\':
			return s.escaped(start)
		case c < ' ':
			return nil, false
		case c < utf8.RuneSelf:
			s.pos++
		default:
			r, n := utf8.DecodeRune(s.in[s.pos:])
			if r == utf8.RuneError && n == 1 {
				return nil, false
			}
			s.pos += n
		}
	}
	return nil, false
}

// escaped finishes a string with escapes, started at start, into s.str.
func (s *scanner) escaped(start int) ([]byte, bool) {
	out := append(s.str[:0], s.in[start:s.pos]...)
	for s.pos < len(s.in) {
		c := s.in[s.pos]
		switch {
		case c == '"':
			s.pos++
			s.str = out
			return out, true
		case c == '\\':
			if s.pos+1 >= len(s.in) {
				return nil, false
			}
			e := s.in[s.pos+1]
			s.pos += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := s.hex4()
				if !ok {
					return nil, false
				}
				if utf16.IsSurrogate(r) {
					// A surrogate must be followed by its pair, as in protojson's decoder.
					if s.pos+1 >= len(s.in) || s.in[s.pos] != '\\' || s.in[s.pos+1] != 'u' {
						return nil, false
					}
					s.pos += 2
					r2, ok := s.hex4()
					if !ok {
						return nil, false
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return nil, false
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				return nil, false
			}
		case c < ' ':
			return nil, false
		case c < utf8.RuneSelf:
			out = append(out, c)
			s.pos++
		default:
			r, n := utf8.DecodeRune(s.in[s.pos:])
			if r == utf8.RuneError && n == 1 {
				return nil, false
			}
			out = append(out, s.in[s.pos:s.pos+n]...)
			s.pos += n
		}
	}
	return nil, false
}

// hex4 reads four hex digits.
func (s *scanner) hex4() (rune, bool) {
	if s.pos+4 > len(s.in) {
		return 0, false
	}
	var r rune
	for _, c := range s.in[s.pos : s.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.pos += 4
	return r, true
}

// skipValue moves past one JSON value of any kind, checking its syntax, depth levels deep at
// most.
func (s *scanner) skipValue(depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch s.peek() {
	case '{':
		s.pos++
		if s.consume('}') {
			return true
		}
		for {
			if _, ok := s.string(); !ok || !s.consume(':') || !s.skipValue(depth+1) {
				return false
			}
			if s.consume('}') {
				return true
			}
			if !s.consume(',') {
				return false
			}
		}
	case '[':
		s.pos++
		if s.consume(']') {
			return true
		}
		for {
			if !s.skipValue(depth + 1) {
				return false
			}
			if s.consume(']') {
				return true
			}
			if !s.consume(',') {
				return false
			}
		}
	case '"':
		_, ok := s.string()
		return ok
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		_, ok := s.number()
		return ok
	}
}
