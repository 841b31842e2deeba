package httprule

import "strings"

// SegmentKind orders segments by specificity: a literal beats "*", which beats "**".
type SegmentKind int

const (
	// KindLiteral is a literal segment.
	KindLiteral SegmentKind = iota
	// KindSingle is "*": exactly one segment.
	KindSingle
	// KindMulti is "**": zero or more segments.
	KindMulti
)

func kindOf(seg string) SegmentKind {
	switch seg {
	case "*":
		return KindSingle
	case "**":
		return KindMulti
	}
	return KindLiteral
}

// Unescape says which percent-escapes Bind decodes in a variable of more than one segment (a
// variable of one segment is always fully decoded). It mirrors Envoy's grpc_json_transcoder
// url_unescape_spec.
type Unescape int

const (
	// UnescapeAllExceptReserved keeps RFC 6570 reserved characters encoded (Envoy's default).
	UnescapeAllExceptReserved Unescape = iota
	// UnescapeAllExceptSlash decodes everything except "%2F".
	UnescapeAllExceptSlash
	// UnescapeAll decodes everything.
	UnescapeAll
)

// SplitPath splits an escaped request path into segments and a custom verb. A ':' in the last
// segment starts a verb only when verbs holds it, or when anyVerb is set. ok is false when the
// path does not start with '/'.
func SplitPath(path string, verbs map[string]bool, anyVerb bool) (parts []string, verb string, ok bool) {
	if !strings.HasPrefix(path, "/") {
		return nil, "", false
	}
	parts = strings.Split(path[1:], "/")
	last := parts[len(parts)-1]
	if i := strings.LastIndexByte(last, ':'); i >= 0 {
		if candidate := last[i+1:]; anyVerb || verbs[candidate] {
			verb, parts[len(parts)-1] = candidate, last[:i]
		}
	}
	return parts, verb, true
}

// Match matches the path segments (still escaped) and verb of a request, as SplitPath returns
// them. On success it returns the specificity of the match, one kind per request segment;
// compare ranks with slices.Compare, the smaller is the more specific.
func (t *Template) Match(parts []string, verb string) ([]SegmentKind, bool) {
	return t.AppendMatch(nil, parts, verb)
}

// AppendMatch is Match appending the rank to dst, so that a caller comparing templates can keep
// the ranks in buffers of its own.
func (t *Template) AppendMatch(dst []SegmentKind, parts []string, verb string) ([]SegmentKind, bool) {
	if verb != t.Verb {
		return nil, false
	}
	n := len(t.Segments)
	multi := n > 0 && t.Segments[n-1] == "**"
	if (!multi && len(parts) != n) || (multi && len(parts) < n-1) {
		return nil, false
	}
	rank := dst
	for i, part := range parts {
		if i >= n-1 && multi {
			rank = append(rank, KindMulti)
			continue
		}
		seg := t.Segments[i]
		kind := kindOf(seg)
		if kind == KindLiteral && seg != part {
			return nil, false
		}
		rank = append(rank, kind)
	}
	return rank, true
}

// Bind extracts the variables (field path → value) of request path segments that Match
// accepted. Variables of one segment are fully decoded; longer ones keep what mode reserves
// encoded. Malformed escapes are kept as they are. It returns nil without variables.
func (t *Template) Bind(parts []string, mode Unescape) map[string]string {
	if len(t.Variables) == 0 {
		return nil
	}
	out := make(map[string]string, len(t.Variables))
	extra := len(parts) - len(t.Segments) // how many more parts "**" took than its one segment
	for _, v := range t.Variables {
		end := v.End
		if end == len(t.Segments) {
			end += extra
		}
		start := min(v.Start, end) // "**" may have matched nothing
		single := end-start == 1 && t.Segments[v.Start] != "**"
		decoded := make([]string, 0, end-start)
		for _, part := range parts[start:end] {
			decoded = append(decoded, unescapeSegment(part, mode, single))
		}
		out[v.FieldPath] = strings.Join(decoded, "/")
	}
	return out
}

// reservedChars are RFC 6570's reserved characters, which reserved expansion keeps encoded.
const reservedChars = ":/?#[]@!$&'()*+,;="

// unescapeSegment percent-decodes one path segment. Malformed escapes are kept as they are.
func unescapeSegment(s string, mode Unescape, single bool) string {
	if !strings.Contains(s, "%") {
		return s
	}
	keep := func(c byte) bool {
		if single {
			return false
		}
		switch mode {
		case UnescapeAll:
			return false
		case UnescapeAllExceptSlash:
			return c == '/'
		default:
			return strings.IndexByte(reservedChars, c) >= 0
		}
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c := unhex(s[i+1])<<4 | unhex(s[i+2])
			if !keep(c) {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
