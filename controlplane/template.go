package controlplane

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// templateLiteral is what a literal segment or verb of a google.api.http path template may hold
// (RFC 3986 unreserved and sub-delims characters, '@', ':' and percent escapes).
var templateLiteral = regexp.MustCompile(`^([A-Za-z0-9._~!$&'()+,;=@:-]|%[0-9A-Fa-f]{2})+$`)

// templateRegex turns a google.api.http path template into an anchored RE2 regex over the
// request path (Envoy matches safe_regex against the path without the query string):
//
//   - a literal segment matches itself;
//   - "*" and "{var}" match one segment: [^/]+;
//   - "**" (only last) matches the rest of the path, possibly empty: .*;
//   - "{var=a/*}" matches what its segments match;
//   - ":verb" matches a literal ":verb" suffix.
//
// The embedded gateway executes the same regex, so Envoy and it select the same routes.
func templateRegex(tmpl string) (string, error) {
	if !strings.HasPrefix(tmpl, "/") {
		return "", fmt.Errorf("path template %q must start with '/'", tmpl)
	}
	body, verb, err := splitVerb(tmpl[1:])
	if err != nil {
		return "", fmt.Errorf("path template %q: %w", tmpl, err)
	}
	segments, err := templateSegments(body)
	if err != nil {
		return "", fmt.Errorf("path template %q: %w", tmpl, err)
	}
	var b strings.Builder
	b.WriteString("^")
	for i, seg := range segments {
		switch seg {
		case "**":
			if i != len(segments)-1 {
				return "", fmt.Errorf("path template %q: '**' must be the last segment", tmpl)
			}
			b.WriteString("/.*")
		case "*":
			b.WriteString("/[^/]+")
		default:
			b.WriteString("/" + regexp.QuoteMeta(seg))
		}
	}
	if verb != "" {
		b.WriteString(regexp.QuoteMeta(":" + verb))
	}
	b.WriteString("$")
	return b.String(), nil
}

// splitVerb separates the ":verb" suffix (a colon after the last '/' outside braces).
func splitVerb(s string) (body, verb string, err error) {
	depth, lastSlash, colon := 0, -1, -1
	for i, c := range s {
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
	if colon < 0 {
		return s, "", nil
	}
	verb = s[colon+1:]
	if !templateLiteral.MatchString(verb) || strings.Contains(verb, ":") {
		return "", "", fmt.Errorf("malformed verb %q", verb)
	}
	return s[:colon], verb, nil
}

// templateSegments flattens the segments of a template body: literals, "*" and "**", with
// variables replaced by what they match.
func templateSegments(body string) ([]string, error) {
	if body == "" {
		return nil, errors.New("no segments")
	}
	var out []string
	for rest := body; ; {
		var part string
		if strings.HasPrefix(rest, "{") {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return nil, errors.New("unclosed '{'")
			}
			part, rest = rest[:end+1], rest[end+1:]
			inner, err := variableSegments(part[1 : len(part)-1])
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
		} else {
			end := strings.IndexByte(rest, '/')
			if end < 0 {
				end = len(rest)
			}
			part, rest = rest[:end], rest[end:]
			if err := checkSegment(part); err != nil {
				return nil, err
			}
			out = append(out, part)
		}
		if rest == "" {
			return out, nil
		}
		if !strings.HasPrefix(rest, "/") {
			return nil, fmt.Errorf("unexpected %q after %q", rest, part)
		}
		rest = rest[1:]
	}
}

// fieldPath is a variable's field path: IDENT { "." IDENT }.
var fieldPath = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// variableSegments are the segments a "{field=segments}" variable covers ("*" when bare).
func variableSegments(v string) ([]string, error) {
	name, pattern, hasPattern := strings.Cut(v, "=")
	if !fieldPath.MatchString(name) {
		return nil, fmt.Errorf("malformed variable name %q", name)
	}
	if !hasPattern {
		return []string{"*"}, nil
	}
	if pattern == "" || strings.ContainsAny(pattern, "{}") {
		return nil, fmt.Errorf("malformed pattern %q of variable %q", pattern, name)
	}
	segs := strings.Split(pattern, "/")
	for _, s := range segs {
		if err := checkSegment(s); err != nil {
			return nil, fmt.Errorf("variable %q: %w", name, err)
		}
	}
	return segs, nil
}

// checkSegment accepts "*", "**" and literals.
func checkSegment(s string) error {
	if s == "*" || s == "**" || templateLiteral.MatchString(s) {
		return nil
	}
	return fmt.Errorf("malformed segment %q", s)
}
