package httprule

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseNormalizes(t *testing.T) {
	cases := []struct {
		in, normalized string
		vars           []Variable
		verb           string
	}{
		{"/v1/shelves", "/v1/shelves", nil, ""},
		{"/v1/{name}", "/v1/*", []Variable{{"name", 1, 2}}, ""},
		{"/v1/{name=shelves/*}", "/v1/shelves/*", []Variable{{"name", 1, 3}}, ""},
		{"/v1/{book.shelf.name=shelves/*}/x", "/v1/shelves/*/x", []Variable{{"book.shelf.name", 1, 3}}, ""},
		{"/v1/{name=shelves/**}:download", "/v1/shelves/**:download", []Variable{{"name", 1, 3}}, "download"},
		{"/v1/*/books/**", "/v1/*/books/**", nil, ""},
		{"/v1/books:batchGet", "/v1/books:batchGet", nil, "batchGet"},
		{"/v1/{name=shelves/*/books/*}:move", "/v1/shelves/*/books/*:move", []Variable{{"name", 1, 5}}, "move"},
		{"/v1/{a}/x/{b.c=**}", "/v1/*/x/**", []Variable{{"a", 1, 2}, {"b.c", 3, 4}}, ""},
		{"/dubbo/g/com.foo.Svc/find~long,int", "/dubbo/g/com.foo.Svc/find~long,int", nil, ""},
	}
	for _, c := range cases {
		tmpl, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := tmpl.Normalized(); got != c.normalized {
			t.Errorf("Parse(%q).Normalized() = %q, want %q", c.in, got, c.normalized)
		}
		if !slices.Equal(tmpl.Variables, c.vars) || tmpl.Verb != c.verb {
			t.Errorf("Parse(%q) variables %v verb %q, want %v %q", c.in, tmpl.Variables, tmpl.Verb, c.vars, c.verb)
		}
		if got, want := tmpl.Literal(), !strings.ContainsAny(c.normalized, "*"); got != want {
			t.Errorf("Parse(%q).Literal() = %v, want %v", c.in, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		in, reason string
		pos        int
	}{
		{"v1/x", "must start with '/'", 0},
		{"/", "empty segment", 1},
		{"/v1//x", "empty segment", 4},
		{"/v1/x/", "empty segment", 6},
		{"/v1/{name", "unclosed '{'", 4},
		{"/v1/name}", "unbalanced '}'", 8},
		{"/v1/{a={b}}", "nested variables are not allowed", 7},
		{"/v1/{a.}", `malformed variable name "a."`, 5},
		{"/v1/{a=}", `variable "a" has an empty pattern`, 7},
		{"/v1/**/x", "'**' must be the last segment", 4},
		{"/v1/{a}/{a}", `binds "a" twice`, 8},
		{"/v1/x:", `malformed verb ""`, 6},
		{"/v1/x:a b", `malformed verb "a b"`, 6},
		{"/v1/a b", `malformed segment "a b"`, 4},
		{"/v1/{a}x", `malformed segment "{a}x"`, 4},
		{"/v1/{a=x/b c}", `variable "a": malformed segment "b c"`, 9},
		{"/v1/{name=**}/tail", "'**' must be the last segment", 10},
	}
	for _, c := range cases {
		_, err := Parse(c.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error = %v, want a *ParseError", c.in, err)
			continue
		}
		if pe.Reason != c.reason || pe.Pos != c.pos || pe.Template != c.in {
			t.Errorf("Parse(%q) = %q at %d, want %q at %d", c.in, pe.Reason, pe.Pos, c.reason, c.pos)
		}
		if want := `path template "` + c.in + `": ` + c.reason; err.Error() != want {
			t.Errorf("Parse(%q).Error() = %q, want %q", c.in, err, want)
		}
	}
}

func TestCompareOrdersSpecificFirst(t *testing.T) {
	want := []string{
		"/v1/shelves/{id}/books",
		"/v1/shelves/{id}:publish",
		"/v1/shelves/{id}",
		"/v1/shelves",
		"/v1/{name}/books",
		"/v1/{name=**}",
	}
	var tmpls []*Template
	for _, s := range slices.Backward(want) {
		tmpl, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		tmpls = append(tmpls, tmpl)
	}
	slices.SortFunc(tmpls, Compare)
	for i, tmpl := range tmpls {
		w, _ := Parse(want[i])
		if tmpl.Normalized() != w.Normalized() {
			t.Errorf("position %d = %q, want %q", i, tmpl.Normalized(), w.Normalized())
		}
	}
}
