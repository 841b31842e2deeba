// Package httprule owns the google.api.http path template grammar: it parses templates such as
// "/v1/{name=shelves/*}/books/{book.id}:publish" into a Template and renders what the rest of
// rpcbridge needs from one — the normalized form used for conflict detection, a specificity
// order, the anchored RE2 regex Envoy's safe_regex route match executes, and the matching and
// variable binding of an escaped request path.
//
// The grammar:
//
//	Template  = "/" Segments [ Verb ] ;
//	Segments  = Segment { "/" Segment } ;
//	Segment   = "*" | "**" | LITERAL | Variable ;
//	Variable  = "{" FieldPath [ "=" Segments ] "}" ;
//	FieldPath = IDENT { "." IDENT } ;
//	Verb      = ":" LITERAL ;
//
// "**" matches zero or more segments and may only be the last segment, variables do not nest,
// and "{x}" means "{x=*}".
package httprule

import (
	"fmt"
	"strings"
)

// Template is a parsed path template.
type Template struct {
	// Segments are the flattened segments, variables replaced by their patterns: each is a
	// literal, "*" or "**".
	Segments []string
	// Variables bind runs of Segments to request field paths, in template order.
	Variables []Variable
	// Verb is the custom verb without its colon, or "".
	Verb string
}

// Variable is one "{field.path=...}" variable covering Segments[Start:End].
type Variable struct {
	// FieldPath is the dotted request field path the variable binds ("book.id").
	FieldPath string
	// Start is the index of the variable's first segment in Template.Segments.
	Start int
	// End is one past the index of the variable's last segment in Template.Segments.
	End int
}

// Pattern is the variable's pattern, its segments joined by '/' ("shelves/*"; "*" for "{x}").
func (v Variable) Pattern(t *Template) string {
	return strings.Join(t.Segments[v.Start:v.End], "/")
}

// ParseError is why a template does not parse, and where.
type ParseError struct {
	// Template is the whole template text.
	Template string
	// Pos is the byte offset in Template where the problem was found.
	Pos int
	// Reason says what is wrong.
	Reason string
}

// Error renders `path template "<template>": <reason>`.
func (e *ParseError) Error() string {
	return fmt.Sprintf("path template %q: %s", e.Template, e.Reason)
}

// parser tracks the template text for positioned errors.
type parser struct {
	src string
	t   Template
	// segmentPos and variablePos are where each of t.Segments and t.Variables starts in src.
	segmentPos, variablePos []int
}

func (p *parser) fail(pos int, format string, args ...any) error {
	return &ParseError{Template: p.src, Pos: pos, Reason: fmt.Sprintf(format, args...)}
}

// Parse checks s against the grammar and returns its parsed form; errors are *ParseError.
func Parse(s string) (*Template, error) {
	p := &parser{src: s}
	if !strings.HasPrefix(s, "/") {
		return nil, p.fail(0, "must start with '/'")
	}
	body := s[1:]
	// The verb is a ':' after the last '/' that is outside braces.
	depth, lastSlash, colon := 0, -1, -1
	for i, c := range body {
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
		p.t.Verb = body[colon+1:]
		body = body[:colon]
		if !validLiteral(p.t.Verb) {
			return nil, p.fail(1+colon+1, "malformed verb %q", p.t.Verb)
		}
	}
	if err := p.parseBody(body, 1); err != nil {
		return nil, err
	}
	if n := len(p.t.Segments); n > 0 {
		for i, seg := range p.t.Segments[:n-1] {
			if seg == "**" {
				return nil, p.fail(p.segmentPos[i], "'**' must be the last segment")
			}
		}
	}
	seen := map[string]bool{}
	for i, v := range p.t.Variables {
		if seen[v.FieldPath] {
			return nil, p.fail(p.variablePos[i], "binds %q twice", v.FieldPath)
		}
		seen[v.FieldPath] = true
	}
	return &p.t, nil
}

// parseBody parses the segments between the leading '/' and the verb; off is body's offset in
// the template.
func (p *parser) parseBody(body string, off int) error {
	depth, start := 0, 0
	var parts []string
	var offsets []int
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			if depth++; depth > 1 {
				return p.fail(off+i, "nested variables are not allowed")
			}
		case '}':
			if depth--; depth < 0 {
				return p.fail(off+i, "unbalanced '}'")
			}
		case '/':
			if depth == 0 {
				parts, offsets = append(parts, body[start:i]), append(offsets, off+start)
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return p.fail(off+strings.LastIndexByte(body, '{'), "unclosed '{'")
	}
	parts, offsets = append(parts, body[start:]), append(offsets, off+start)
	for i, part := range parts {
		var err error
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			err = p.addVariable(part[1:len(part)-1], offsets[i]+1)
		} else {
			err = p.addSegment(part, offsets[i])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) addSegment(seg string, pos int) error {
	if seg != "*" && seg != "**" && !validLiteral(seg) {
		if seg == "" {
			return p.fail(pos, "empty segment")
		}
		return p.fail(pos, "malformed segment %q", seg)
	}
	p.t.Segments = append(p.t.Segments, seg)
	p.segmentPos = append(p.segmentPos, pos)
	return nil
}

// addVariable parses a variable's body (between the braces) found at pos.
func (p *parser) addVariable(body string, pos int) error {
	field, pattern, hasPattern := strings.Cut(body, "=")
	if !validFieldPath(field) {
		return p.fail(pos, "malformed variable name %q", field)
	}
	if !hasPattern {
		pattern = "*"
	}
	if pattern == "" {
		return p.fail(pos+len(field)+1, "variable %q has an empty pattern", field)
	}
	v := Variable{FieldPath: field, Start: len(p.t.Segments)}
	segPos := pos + len(field) + 1
	for _, seg := range strings.Split(pattern, "/") {
		if strings.ContainsAny(seg, "{}=") {
			return p.fail(segPos, "variable %q: nested variables are not allowed", field)
		}
		if err := p.addSegment(seg, segPos); err != nil {
			pe := err.(*ParseError)
			pe.Reason = fmt.Sprintf("variable %q: %s", field, pe.Reason)
			return pe
		}
		segPos += len(seg) + 1
	}
	v.End = len(p.t.Segments)
	p.t.Variables = append(p.t.Variables, v)
	p.variablePos = append(p.variablePos, pos-1)
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
		if !isIdent(part) {
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
