package openapi

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/httprule"
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
	tmpl, err := httprule.Parse(t)
	if err != nil {
		return openAPIPath{}, err
	}
	var out openAPIPath
	var segs []string
	anonymous := 0
	vars := tmpl.Variables
	for i := 0; i < len(tmpl.Segments); i++ {
		seg := tmpl.Segments[i]
		switch {
		case len(vars) > 0 && vars[0].Start == i:
			segs = append(segs, out.expand(vars[0].FieldPath, vars[0].Pattern(tmpl))...)
			i = vars[0].End - 1
			vars = vars[1:]
		case seg == "*" || seg == "**":
			anonymous++
			name := "wildcard" + strconv.Itoa(anonymous)
			out.params = append(out.params, pathVar{name: name, segment: seg})
			segs = append(segs, "{"+name+"}")
		default:
			segs = append(segs, seg)
		}
	}
	out.path = "/" + strings.Join(segs, "/")
	if tmpl.Verb != "" {
		out.path += ":" + tmpl.Verb
	}
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
