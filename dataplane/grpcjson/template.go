package grpcjson

import (
	"fmt"
	"strings"

	grpcjsonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
)

// The google.api.http path template grammar:
//
//	Template  = "/" Segments [ Verb ] ;
//	Segments  = Segment { "/" Segment } ;
//	Segment   = "*" | "**" | LITERAL | Variable ;
//	Variable  = "{" FieldPath [ "=" Segments ] "}" ;
//	FieldPath = IDENT { "." IDENT } ;
//	Verb      = ":" LITERAL ;
//
// "**" matches zero or more segments and may only be last; "{x}" means "{x=*}".

// segmentKind orders segments by specificity: a literal beats "*", which beats "**".
type segmentKind int

const (
	segLiteral segmentKind = iota
	segSingle
	segMulti
)

// segment is one compiled template segment.
type segment struct {
	kind    segmentKind
	literal string
}

// templateVar binds segments[start:end] to a request field path.
type templateVar struct {
	fieldPath  string
	start, end int
}

// pathTemplate is a compiled google.api.http path template.
type pathTemplate struct {
	segments  []segment
	variables []templateVar
	verb      string
}

// parseTemplate compiles a path template.
func parseTemplate(s string) (*pathTemplate, error) {
	if !strings.HasPrefix(s, "/") {
		return nil, fmt.Errorf("path template %q must start with '/'", s)
	}
	t := &pathTemplate{}
	rest := s[1:]
	// The verb is a ':' after the last top-level '/', outside braces.
	depth, colon := 0, -1
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '/':
			if depth == 0 {
				colon = -1
			}
		case ':':
			if depth == 0 && colon < 0 {
				colon = i
			}
		}
	}
	if colon >= 0 {
		t.verb, rest = rest[colon+1:], rest[:colon]
		if t.verb == "" || strings.ContainsAny(t.verb, "/{}*") {
			return nil, fmt.Errorf("path template %q has a malformed verb", s)
		}
	}
	for _, part := range splitOutsideBraces(rest) {
		if err := t.add(part); err != nil {
			return nil, fmt.Errorf("path template %q: %w", s, err)
		}
	}
	for i, seg := range t.segments {
		if seg.kind == segMulti && i != len(t.segments)-1 {
			return nil, fmt.Errorf("path template %q: '**' must be the last segment", s)
		}
	}
	return t, nil
}

// splitOutsideBraces splits s at the '/' that are not inside a variable.
func splitOutsideBraces(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '/':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// add appends one top-level part: a segment or a variable.
func (t *pathTemplate) add(part string) error {
	if !strings.HasPrefix(part, "{") {
		return t.addSegment(part)
	}
	if !strings.HasSuffix(part, "}") || strings.Count(part, "{") != 1 || strings.Count(part, "}") != 1 {
		return fmt.Errorf("malformed variable %q", part)
	}
	field, pattern, hasPattern := strings.Cut(part[1:len(part)-1], "=")
	if !validFieldPath(field) {
		return fmt.Errorf("malformed variable name %q", field)
	}
	if !hasPattern {
		pattern = "*"
	}
	for _, v := range t.variables {
		if v.fieldPath == field {
			return fmt.Errorf("variable %q is bound twice", field)
		}
	}
	v := templateVar{fieldPath: field, start: len(t.segments)}
	for _, seg := range strings.Split(pattern, "/") {
		if err := t.addSegment(seg); err != nil {
			return fmt.Errorf("variable %q: %w", field, err)
		}
	}
	v.end = len(t.segments)
	t.variables = append(t.variables, v)
	return nil
}

func (t *pathTemplate) addSegment(seg string) error {
	switch {
	case seg == "*":
		t.segments = append(t.segments, segment{kind: segSingle})
	case seg == "**":
		t.segments = append(t.segments, segment{kind: segMulti})
	case seg == "" || strings.ContainsAny(seg, "{}=*"):
		return fmt.Errorf("malformed segment %q", seg)
	default:
		t.segments = append(t.segments, segment{kind: segLiteral, literal: seg})
	}
	return nil
}

func validFieldPath(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

// match matches the path segments (still escaped) and verb of a request. On success it returns
// the specificity of the match, one kind per request segment, for choosing among templates.
func (t *pathTemplate) match(parts []string, verb string) ([]segmentKind, bool) {
	if verb != t.verb {
		return nil, false
	}
	n := len(t.segments)
	multi := n > 0 && t.segments[n-1].kind == segMulti
	if (!multi && len(parts) != n) || (multi && len(parts) < n-1) {
		return nil, false
	}
	rank := make([]segmentKind, len(parts))
	for i, part := range parts {
		if i >= n-1 && multi {
			rank[i] = segMulti
			continue
		}
		seg := t.segments[i]
		if seg.kind == segLiteral && seg.literal != part {
			return nil, false
		}
		rank[i] = seg.kind
	}
	return rank, true
}

// bind extracts the variables of a matching request path, unescaped as spec says: variables of
// one segment are fully decoded; longer ones keep what the spec reserves encoded.
func (t *pathTemplate) bind(parts []string, spec grpcjsonv3.GrpcJsonTranscoder_UrlUnescapeSpec) map[string]string {
	if len(t.variables) == 0 {
		return nil
	}
	out := make(map[string]string, len(t.variables))
	extra := len(parts) - len(t.segments) // how many more parts "**" took than its one segment
	for _, v := range t.variables {
		end := v.end
		if end == len(t.segments) {
			end += extra
		}
		start := v.start
		if start > end { // "**" matched nothing
			start = end
		}
		single := end-start == 1 && t.segments[v.start].kind != segMulti
		decoded := make([]string, 0, end-start)
		for _, part := range parts[start:end] {
			decoded = append(decoded, unescapeSegment(part, spec, single))
		}
		out[v.fieldPath] = strings.Join(decoded, "/")
	}
	return out
}

// reservedChars are RFC 6570's reserved characters, which reserved expansion keeps encoded.
const reservedChars = ":/?#[]@!$&'()*+,;="

// unescapeSegment percent-decodes one path segment. Malformed escapes are kept as they are.
func unescapeSegment(s string, spec grpcjsonv3.GrpcJsonTranscoder_UrlUnescapeSpec, single bool) string {
	if !strings.Contains(s, "%") {
		return s
	}
	keep := func(c byte) bool {
		if single {
			return false
		}
		switch spec {
		case grpcjsonv3.GrpcJsonTranscoder_ALL_CHARACTERS:
			return false
		case grpcjsonv3.GrpcJsonTranscoder_ALL_CHARACTERS_EXCEPT_SLASH:
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

// splitPath splits an escaped request path into segments and a custom verb. A ':' in the last
// segment starts a verb only when the verb is one a template registered, or when any verb
// counts (match_unregistered_custom_verb).
func splitPath(path string, verbs map[string]bool, anyVerb bool) ([]string, string, bool) {
	if !strings.HasPrefix(path, "/") {
		return nil, "", false
	}
	parts := strings.Split(path[1:], "/")
	last := parts[len(parts)-1]
	verb := ""
	if i := strings.LastIndexByte(last, ':'); i >= 0 {
		if candidate := last[i+1:]; anyVerb || verbs[candidate] {
			verb, parts[len(parts)-1] = candidate, last[:i]
		}
	}
	return parts, verb, true
}
