package openapi

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// openAPIPath is a route's match as an OpenAPI path: "/v1/{name=shelves/*}:publish" becomes
// "/v1/{name}:publish" with the variable's pattern kept for the parameter's description.
type openAPIPath struct {
	path   string
	params []pathVar
}

// pathVar is one path parameter.
type pathVar struct {
	// name is the OpenAPI parameter name.
	name string
	// field is the template variable (request field path or Dubbo path key) the parameter is
	// part of, "" for an anonymous wildcard or a prefix's remainder.
	field string
	// pattern is the variable's whole pattern ("shelves/*/books/*"), "" when it is "*" or the
	// parameter is anonymous.
	pattern string
	// segment is "*" (one segment) or "**" (any number of segments, '/' included).
	segment string
}

// toOpenAPIPath converts an exact path, a template or a prefix (whose remainder becomes the
// parameter "path").
func toOpenAPIPath(m ir.Match) (openAPIPath, error) {
	switch {
	case m.Path != "":
		return openAPIPath{path: m.Path}, nil
	case m.PathPrefix != "":
		return openAPIPath{path: m.PathPrefix + "{path}", params: []pathVar{{name: "path", segment: "**"}}}, nil
	case m.PathTemplate != "":
		return templatePath(m.PathTemplate)
	}
	return openAPIPath{}, fmt.Errorf("the match has no path")
}

// templatePath converts a google.api.http template; anonymous "*" and "**" segments become the
// parameters "wildcard1", "wildcard2", ...
func templatePath(t string) (openAPIPath, error) {
	if !strings.HasPrefix(t, "/") {
		return openAPIPath{}, fmt.Errorf("path template %q does not start with '/'", t)
	}
	body, verb := splitVerb(t[1:])
	var out openAPIPath
	var segs []string
	anonymous := 0
	for _, part := range splitTopLevel(body) {
		switch {
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			name, pattern, ok := strings.Cut(part[1:len(part)-1], "=")
			if !ok {
				pattern = "*"
			}
			segs = append(segs, out.expand(name, pattern)...)
		case part == "*" || part == "**":
			anonymous++
			name := "wildcard" + strconv.Itoa(anonymous)
			out.params = append(out.params, pathVar{name: name, segment: part})
			segs = append(segs, "{"+name+"}")
		case strings.ContainsAny(part, "{}"):
			return openAPIPath{}, fmt.Errorf("path template %q is malformed", t)
		default:
			segs = append(segs, part)
		}
	}
	out.path = "/" + strings.Join(segs, "/") + verb
	return out, nil
}

// expand writes a variable's pattern into the path so that the OpenAPI path matches the same
// requests: literal segments stay literal and each wildcard becomes a parameter, named after the
// variable ("{name=shelves/*}" → "shelves/{name}"; with several wildcards "{name=shelves/*/books/*}"
// → "shelves/{name_1}/books/{name_2}"). The variable's value is the matched segments joined by
// '/', which each parameter's description says.
func (p *openAPIPath) expand(name, pattern string) []string {
	parts := strings.Split(pattern, "/")
	wildcards := 0
	for _, part := range parts {
		if part == "*" || part == "**" {
			wildcards++
		}
	}
	var segs []string
	n := 0
	for _, part := range parts {
		if part != "*" && part != "**" {
			segs = append(segs, part)
			continue
		}
		n++
		param := name
		if wildcards > 1 {
			param = name + "_" + strconv.Itoa(n)
		}
		p.params = append(p.params, pathVar{name: param, field: name, pattern: pattern, segment: part})
		segs = append(segs, "{"+param+"}")
	}
	return segs
}

// splitVerb separates a ":verb" after the last top-level '/'.
func splitVerb(s string) (string, string) {
	depth, lastSlash := 0, -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '/':
			if depth == 0 {
				lastSlash = i
			}
		}
	}
	depth = 0
	for i := lastSlash + 1; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		case ':':
			if depth == 0 {
				return s[:i], s[i:]
			}
		}
	}
	return s, ""
}

func splitTopLevel(s string) []string {
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

var paramRef = regexp.MustCompile(`\{[^{}]*\}`)

// shape is the path with parameter names erased; OpenAPI treats paths of equal shape as equal.
func (p openAPIPath) shape() string { return paramRef.ReplaceAllString(p.path, "{}") }

// paramNames lists the parameter names of an OpenAPI path in order.
func paramNames(path string) []string {
	var names []string
	for _, m := range paramRef.FindAllString(path, -1) {
		names = append(names, m[1:len(m)-1])
	}
	return names
}
