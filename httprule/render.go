package httprule

import (
	"cmp"
	"regexp"
	"strings"
)

// verbSuffix is ":verb", or "" without a verb.
func (t *Template) verbSuffix() string {
	if t.Verb == "" {
		return ""
	}
	return ":" + t.Verb
}

// Literal reports whether the template has no variables or wildcards, so that it matches one
// path only (which Normalized then is).
func (t *Template) Literal() bool {
	for _, seg := range t.Segments {
		if seg == "*" || seg == "**" {
			return false
		}
	}
	return len(t.Variables) == 0
}

// Normalized renders the template with every variable replaced by its pattern, so that two
// templates that match the same paths render the same ("/v1/{name=shelves/*}" and
// "/v1/shelves/{id}" both give "/v1/shelves/*").
func (t *Template) Normalized() string {
	return "/" + strings.Join(t.Segments, "/") + t.verbSuffix()
}

// Compare orders more specific templates first: segment by segment a literal before "*" before
// "**" (literals alphabetically), then longer before shorter, then with a verb before without.
func Compare(a, b *Template) int {
	for i := 0; i < len(a.Segments) && i < len(b.Segments); i++ {
		if c := cmp.Or(cmp.Compare(kindOf(a.Segments[i]), kindOf(b.Segments[i])),
			cmp.Compare(a.Segments[i], b.Segments[i])); c != 0 {
			return c
		}
	}
	return cmp.Or(-cmp.Compare(len(a.Segments), len(b.Segments)),
		-cmp.Compare(len(a.Verb), len(b.Verb)) /* a verb first */, cmp.Compare(a.Verb, b.Verb))
}

// Regex is the anchored RE2 regex over the request path (without the query string) that
// Envoy's safe_regex route match executes:
//
//   - a literal segment matches itself;
//   - "*" and "{var}" match one segment: [^/]+;
//   - "**" (only last) matches the rest of the path, possibly empty: .*;
//   - "{var=a/*}" matches what its segments match;
//   - ":verb" matches a literal ":verb" suffix.
func (t *Template) Regex() string {
	return t.regex(false)
}

// CaptureRegex is Regex with one capture group per variable, in the order of Variables, each
// capturing the variable's still escaped segments joined by '/'.
func (t *Template) CaptureRegex() string {
	return t.regex(true)
}

func (t *Template) regex(capture bool) string {
	starts, ends := map[int]bool{}, map[int]bool{}
	if capture {
		for _, v := range t.Variables {
			starts[v.Start], ends[v.End-1] = true, true
		}
	}
	var b strings.Builder
	b.WriteString("^")
	for i, seg := range t.Segments {
		b.WriteString("/")
		if starts[i] {
			b.WriteString("(")
		}
		switch seg {
		case "**":
			b.WriteString(".*")
		case "*":
			b.WriteString("[^/]+")
		default:
			b.WriteString(regexp.QuoteMeta(seg))
		}
		if ends[i] {
			b.WriteString(")")
		}
	}
	if t.Verb != "" {
		b.WriteString(regexp.QuoteMeta(":" + t.Verb))
	}
	b.WriteString("$")
	return b.String()
}
