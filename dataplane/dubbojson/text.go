package dubbojson

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Java strings hold Unicode text. Go's encoding/json replaces what is not (bytes that are not
// UTF-8, a \u escape of half a UTF-16 surrogate pair) with U+FFFD without a word, and
// dubbo-go-hessian2 writes a Go string's invalid bytes as U+FFFD too, so the provider would
// get other text than the client sent. The gateway refuses such text with a 400 instead, as
// the gRPC path does (protojson: "invalid UTF-8 in string").

// checkText reports where a JSON text is not Unicode: a byte sequence that is not UTF-8
// (RFC 8259 section 8.1: JSON text is UTF-8) or a \u escape of a lone surrogate (section 8.2:
// such strings are not Unicode text). Malformed JSON is left to the decoder.
func checkText(raw []byte) error {
	if !utf8.Valid(raw) {
		for i := 0; i < len(raw); {
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size <= 1 {
				return fmt.Errorf("invalid UTF-8 at byte %d", i)
			}
			i += size
		}
	}
	inString := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(raw):
			i++
			if raw[i] != 'u' {
				continue
			}
			r, ok := hex4(raw, i+1)
			if !ok || !utf16.IsSurrogate(r) {
				continue
			}
			if r < 0xdc00 { // a high surrogate must be followed by a low one
				if low, ok := hex4(raw, i+7); ok && i+6 < len(raw) && raw[i+5] == '\\' && raw[i+6] == 'u' &&
					low >= 0xdc00 && low <= 0xdfff {
					i += 10
					continue
				}
			}
			return fmt.Errorf("unpaired UTF-16 surrogate \\u%04x at byte %d", r, i-1)
		}
	}
	return nil
}

// hex4 reads the four hex digits at raw[at:].
func hex4(raw []byte, at int) (rune, bool) {
	if at+4 > len(raw) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(raw[at:at+4]), 16, 16)
	return rune(n), err == nil
}

// checkString reports a string argument (a query parameter, header or path variable) that is
// not UTF-8.
func checkString(s string) error {
	if utf8.ValidString(s) {
		return nil
	}
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return fmt.Errorf("%q is not valid UTF-8 (byte %d)", s, i)
			}
		}
	}
	return fmt.Errorf("%q is not valid UTF-8", s)
}
