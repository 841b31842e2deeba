package dubbojson

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// template extracts the variables of a google.api.http-style path template, with the same
// grammar and the same regex shape the control plane builds for the route match
// (controlplane's templateRegex): "*" and "{var}" match one segment ([^/]+), "**" the rest of
// the path (.*), "{var=a/*}" what its segments match, ":verb" a literal suffix. Each variable
// is a capture group here.
type template struct {
	re   *regexp.Regexp
	vars []string
}

// compileTemplate compiles a match pattern; patterns without variables give a template that
// extracts nothing.
func compileTemplate(pattern string) (*template, error) {
	if !strings.HasPrefix(pattern, "/") {
		return nil, fmt.Errorf("path template %q must start with '/'", pattern)
	}
	t := &template{}
	var b strings.Builder
	b.WriteString("^")
	rest := pattern[1:]
	for rest != "" {
		var part string
		if strings.HasPrefix(rest, "{") {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return nil, fmt.Errorf("path template %q: unclosed '{'", pattern)
			}
			part, rest = rest[1:end], rest[end+1:]
			name, segs, hasSegs := strings.Cut(part, "=")
			if !hasSegs {
				segs = "*"
			}
			t.vars = append(t.vars, name)
			b.WriteString("/(")
			for i, s := range strings.Split(segs, "/") {
				if i > 0 {
					b.WriteString("/")
				}
				b.WriteString(segmentRegex(s))
			}
			b.WriteString(")")
		} else {
			end := strings.IndexByte(rest, '/')
			if end < 0 {
				end = len(rest)
			}
			part, rest = rest[:end], rest[end:]
			seg, verb, hasVerb := strings.Cut(part, ":")
			if seg == "**" {
				b.WriteString("/.*")
			} else {
				b.WriteString("/" + segmentRegex(seg))
			}
			if hasVerb {
				b.WriteString(regexp.QuoteMeta(":" + verb))
			}
		}
		if strings.HasPrefix(rest, ":") { // verb after a variable
			b.WriteString(regexp.QuoteMeta(rest))
			rest = ""
		}
		rest = strings.TrimPrefix(rest, "/")
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("path template %q: %w", pattern, err)
	}
	t.re = re
	return t, nil
}

func segmentRegex(s string) string {
	switch s {
	case "*":
		return "[^/]+"
	case "**":
		return ".*"
	}
	return regexp.QuoteMeta(s)
}

// bind returns the variables of an escaped request path, unescaped; ok is false when the path
// does not match.
func (t *template) bind(escapedPath string) (map[string]string, bool) {
	m := t.re.FindStringSubmatch(escapedPath)
	if m == nil {
		return nil, false
	}
	out := make(map[string]string, len(t.vars))
	for i, name := range t.vars {
		v, err := url.PathUnescape(m[i+1])
		if err != nil {
			v = m[i+1]
		}
		out[name] = v
	}
	return out, true
}
