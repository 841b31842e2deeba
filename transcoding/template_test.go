package transcoding

import (
	"slices"
	"strings"
	"testing"
)

func TestParseTemplate(t *testing.T) {
	valid := map[string]string{ // template → normalized
		"/v1/shelves":                        "/v1/shelves",
		"/v1/{name}":                         "/v1/*",
		"/v1/{name=shelves/*}":               "/v1/shelves/*",
		"/v1/{book.shelf.name=shelves/*}/x":  "/v1/shelves/*/x",
		"/v1/{name=shelves/**}:download":     "/v1/shelves/**:download",
		"/v1/*/books/**":                     "/v1/*/books/**",
		"/v1/books:batchGet":                 "/v1/books:batchGet",
		"/v1/{name=shelves/*/books/*}:move":  "/v1/shelves/*/books/*:move",
		"/dubbo/g/com.foo.Svc/find~long,int": "/dubbo/g/com.foo.Svc/find~long,int",
	}
	for in, want := range valid {
		tmpl, err := parseTemplate(in)
		if err != nil {
			t.Errorf("parseTemplate(%q): %v", in, err)
			continue
		}
		if got := tmpl.normalized(); got != want {
			t.Errorf("parseTemplate(%q).normalized() = %q, want %q", in, got, want)
		}
	}
	invalid := map[string]string{ // template → part of the error
		"v1/x":               "must start with '/'",
		"/":                  "empty segment",
		"/v1//x":             "empty segment",
		"/v1/x/":             "empty segment",
		"/v1/{name":          "unclosed '{'",
		"/v1/name}":          "unbalanced '}'",
		"/v1/{a={b}}":        "nested variables",
		"/v1/{a.}":           "malformed variable name",
		"/v1/{a=}":           "empty pattern",
		"/v1/**/x":           "'**' must be the last segment",
		"/v1/{a}/{a}":        "binds \"a\" twice",
		"/v1/x:":             "malformed verb",
		"/v1/a b":            "malformed segment",
		"/v1/{a}x":           "malformed segment",
		"/v1/{name=**}/tail": "'**' must be the last segment",
	}
	for in, want := range invalid {
		_, err := parseTemplate(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseTemplate(%q) error = %v, want one containing %q", in, err, want)
		}
	}
}

func TestCompareTemplatesOrdersSpecificFirst(t *testing.T) {
	want := []string{
		"/v1/shelves/{id}/books",
		"/v1/shelves/{id}:publish",
		"/v1/shelves/{id}",
		"/v1/shelves",
		"/v1/{name}/books",
		"/v1/{name=**}",
	}
	var tmpls []pathTemplate
	for i := len(want) - 1; i >= 0; i-- {
		tmpl, err := parseTemplate(want[i])
		if err != nil {
			t.Fatal(err)
		}
		tmpls = append(tmpls, tmpl)
	}
	slices.SortFunc(tmpls, compareTemplates)
	var got []string
	for _, tmpl := range tmpls {
		got = append(got, tmpl.normalized())
	}
	var wantNorm []string
	for _, w := range want {
		tmpl, _ := parseTemplate(w)
		wantNorm = append(wantNorm, tmpl.normalized())
	}
	if !slices.Equal(got, wantNorm) {
		t.Errorf("order = %q, want %q", got, wantNorm)
	}
}
