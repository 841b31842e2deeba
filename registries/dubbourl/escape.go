package dubbourl

import (
	"net/url"
	"strings"
)

// unescape decodes percent escapes; unlike query decoding it keeps '+' as is, because Dubbo
// writes parameter values such as release versions without encoding them.
func unescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	return url.PathUnescape(s)
}

// escape percent-encodes everything that could change how Parse splits a URL.
func escape(s string) string { return escapeKeeping(s, "") }

// escapePath is escape that keeps '/' as the path separator.
func escapePath(s string) string { return escapeKeeping(s, "/") }

func escapeKeeping(s, keep string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for _, c := range []byte(s) {
		if plain(c) || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func plain(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("-_.~,:!$'()*+;", c) >= 0
}
