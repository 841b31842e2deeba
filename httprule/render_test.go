package httprule

import (
	"regexp"
	"testing"
)

func TestRegex(t *testing.T) {
	cases := []struct {
		in, regex, capture string
		matches, misses    []string
	}{
		{"/v1/shelves", `^/v1/shelves$`, `^/v1/shelves$`, []string{"/v1/shelves"}, []string{"/v1/shelves/", "/v1/shelvesx"}},
		{"/v1/{name}", `^/v1/[^/]+$`, `^/v1/([^/]+)$`, []string{"/v1/x"}, []string{"/v1/", "/v1/x/y"}},
		{"/v1/{name=shelves/*}/books/{book.id}:publish", `^/v1/shelves/[^/]+/books/[^/]+:publish$`,
			`^/v1/(shelves/[^/]+)/books/([^/]+):publish$`, []string{"/v1/shelves/1/books/2:publish"}, []string{"/v1/shelves/1/books/2"}},
		{"/v1/*/files/**", `^/v1/[^/]+/files/.*$`, `^/v1/[^/]+/files/.*$`, []string{"/v1/a/files/", "/v1/a/files/b/c"}, []string{"/v1/a/files"}},
		{"/v1/{path=**}:get", `^/v1/.*:get$`, `^/v1/(.*):get$`, []string{"/v1/a/b:get"}, []string{"/v1/a/b"}},
		{"/v1.0/a+b/(x)$", `^/v1\.0/a\+b/\(x\)\$$`, `^/v1\.0/a\+b/\(x\)\$$`, []string{"/v1.0/a+b/(x)$"}, []string{"/v1x0/aab/x"}},
	}
	for _, c := range cases {
		tmpl, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := tmpl.Regex(); got != c.regex {
			t.Errorf("Parse(%q).Regex() = %s, want %s", c.in, got, c.regex)
		}
		if got := tmpl.CaptureRegex(); got != c.capture {
			t.Errorf("Parse(%q).CaptureRegex() = %s, want %s", c.in, got, c.capture)
		}
		re := regexp.MustCompile(tmpl.Regex())
		for _, p := range c.matches {
			if !re.MatchString(p) {
				t.Errorf("%s does not match %s", c.in, p)
			}
		}
		for _, p := range c.misses {
			if re.MatchString(p) {
				t.Errorf("%s matches %s", c.in, p)
			}
		}
	}
}
