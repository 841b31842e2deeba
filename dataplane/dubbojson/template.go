package dubbojson

import (
	"fmt"
	"net/url"
	"regexp"

	"github.com/rpcbridge/rpcbridge/httprule"
)

// template extracts the variables of a google.api.http path template with the regex the
// control plane builds for the route match (httprule's Regex), one capture group per variable.
type template struct {
	re   *regexp.Regexp
	vars []string
}

// compileTemplate compiles a match pattern; patterns without variables give a template that
// extracts nothing.
func compileTemplate(pattern string) (*template, error) {
	tmpl, err := httprule.Parse(pattern)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(tmpl.CaptureRegex())
	if err != nil {
		return nil, fmt.Errorf("path template %q: %w", pattern, err)
	}
	t := &template{re: re}
	for _, v := range tmpl.Variables {
		t.vars = append(t.vars, v.FieldPath)
	}
	return t, nil
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
