package transcoding

import (
	"cmp"
	"fmt"
	"strings"
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
// "**" may only be the last segment, variables do not nest, and "{x}" means "{x=*}".

// pathTemplate is a parsed path template.
type pathTemplate struct {
	// segments are the flattened segments: a literal, "*" or "**".
	segments []string
	// variables bind runs of segments to field paths, in order.
	variables []templateVar
	// verb is the custom verb without its colon, or "".
	verb string
}

// templateVar is one {field.path=...} variable covering segments[start:end].
type templateVar struct {
	fieldPath  string
	start, end int
}

// parseTemplate checks s against the grammar.
func parseTemplate(s string) (pathTemplate, error) {
	var t pathTemplate
	if !strings.HasPrefix(s, "/") {
		return t, fmt.Errorf("path template %q must start with '/'", s)
	}
	rest := s[1:]
	// The verb is a ':' after the last '/' that is outside braces.
	depth, lastSlash, colon := 0, -1, -1
	for i, c := range rest {
		switch {
		case c == '{':
			depth++
		case c == '}':
			depth--
		case c == '/' && depth == 0:
			lastSlash, colon = i, -1
		case c == ':' && depth == 0 && colon < 0 && i > lastSlash:
			colon = i
		}
	}
	if colon >= 0 {
		t.verb = rest[colon+1:]
		rest = rest[:colon]
		if !validLiteral(t.verb) {
			return t, fmt.Errorf("path template %q has a malformed verb %q", s, t.verb)
		}
	}
	parts, err := splitTopLevel(rest)
	if err != nil {
		return t, fmt.Errorf("path template %q: %w", s, err)
	}
	for _, part := range parts {
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			err = t.addVariable(part[1 : len(part)-1])
		} else {
			err = t.addSegment(part)
		}
		if err != nil {
			return t, fmt.Errorf("path template %q: %w", s, err)
		}
	}
	for i, seg := range t.segments {
		if seg == "**" && i != len(t.segments)-1 {
			return t, fmt.Errorf("path template %q: '**' must be the last segment", s)
		}
	}
	seen := map[string]bool{}
	for _, v := range t.variables {
		if seen[v.fieldPath] {
			return t, fmt.Errorf("path template %q binds %q twice", s, v.fieldPath)
		}
		seen[v.fieldPath] = true
	}
	return t, nil
}

// splitTopLevel splits at the '/' that are outside braces.
func splitTopLevel(s string) ([]string, error) {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			if depth++; depth > 1 {
				return nil, fmt.Errorf("nested variables are not allowed")
			}
		case '}':
			if depth--; depth < 0 {
				return nil, fmt.Errorf("unbalanced '}'")
			}
		case '/':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unclosed '{'")
	}
	return append(parts, s[start:]), nil
}

func (t *pathTemplate) verbSuffix() string {
	if t.verb == "" {
		return ""
	}
	return ":" + t.verb
}

func (t *pathTemplate) addSegment(seg string) error {
	if seg != "*" && seg != "**" && !validLiteral(seg) {
		if seg == "" {
			return fmt.Errorf("empty segment")
		}
		return fmt.Errorf("malformed segment %q", seg)
	}
	t.segments = append(t.segments, seg)
	return nil
}

func (t *pathTemplate) addVariable(body string) error {
	field, pattern, hasPattern := strings.Cut(body, "=")
	if !validFieldPath(field) {
		return fmt.Errorf("malformed variable name %q", field)
	}
	if !hasPattern {
		pattern = "*"
	}
	if pattern == "" {
		return fmt.Errorf("variable %q has an empty pattern", field)
	}
	v := templateVar{fieldPath: field, start: len(t.segments)}
	for _, seg := range strings.Split(pattern, "/") {
		if strings.ContainsAny(seg, "{}=") {
			return fmt.Errorf("variable %q: nested variables are not allowed", field)
		}
		if err := t.addSegment(seg); err != nil {
			return fmt.Errorf("variable %q: %w", field, err)
		}
	}
	v.end = len(t.segments)
	t.variables = append(t.variables, v)
	return nil
}

// validLiteral accepts RFC 3986 path characters except the ones the grammar reserves.
func validLiteral(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~!$&'()+,;@%", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func validFieldPath(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" || !isIdent(part) {
			return false
		}
	}
	return true
}

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// literal reports whether the template has no variables or wildcards, so that it matches one
// path only.
func (t pathTemplate) literal() bool {
	for _, seg := range t.segments {
		if seg == "*" || seg == "**" {
			return false
		}
	}
	return len(t.variables) == 0
}

// normalized renders the template with every variable replaced by its pattern, so that two
// templates that match the same paths render the same ("/v1/{name=shelves/*}" and
// "/v1/shelves/{id}" both give "/v1/shelves/*").
func (t pathTemplate) normalized() string {
	return "/" + strings.Join(t.segments, "/") + t.verbSuffix()
}

// compareTemplates orders more specific templates first: segment by segment literal before
// "*" before "**", then longer before shorter, then with a verb before without.
func compareTemplates(a, b pathTemplate) int {
	for i := 0; i < len(a.segments) && i < len(b.segments); i++ {
		if c := cmp.Or(cmp.Compare(segmentRank(a.segments[i]), segmentRank(b.segments[i])),
			cmp.Compare(a.segments[i], b.segments[i])); c != 0 {
			return c
		}
	}
	return cmp.Or(-cmp.Compare(len(a.segments), len(b.segments)),
		-cmp.Compare(len(a.verb), len(b.verb)) /* a verb first */, cmp.Compare(a.verb, b.verb))
}

func segmentRank(seg string) int {
	switch seg {
	case "*":
		return 1
	case "**":
		return 2
	}
	return 0
}
