package httprule

import (
	"maps"
	"slices"
	"testing"
)

func TestSplitPath(t *testing.T) {
	verbs := map[string]bool{"publish": true}
	cases := []struct {
		path    string
		anyVerb bool
		parts   []string
		verb    string
		ok      bool
	}{
		{"/v1/a/b", false, []string{"v1", "a", "b"}, "", true},
		{"/v1/a:publish", false, []string{"v1", "a"}, "publish", true},
		{"/v1/a:other", false, []string{"v1", "a:other"}, "", true},
		{"/v1/a:other", true, []string{"v1", "a"}, "other", true},
		{"v1", false, nil, "", false},
	}
	for _, c := range cases {
		parts, verb, ok := SplitPath(c.path, verbs, c.anyVerb)
		if !slices.Equal(parts, c.parts) || verb != c.verb || ok != c.ok {
			t.Errorf("SplitPath(%q, any=%v) = %q %q %v, want %q %q %v", c.path, c.anyVerb, parts, verb, ok, c.parts, c.verb, c.ok)
		}
	}
}

func TestMatchAndBind(t *testing.T) {
	L, S, M := KindLiteral, KindSingle, KindMulti
	cases := []struct {
		template, path string
		mode           Unescape
		rank           []SegmentKind // nil: no match
		vars           map[string]string
	}{
		{"/v1/shelves", "/v1/shelves", UnescapeAllExceptReserved, []SegmentKind{L, L}, nil},
		{"/v1/shelves", "/v1/books", UnescapeAllExceptReserved, nil, nil},
		{"/v1/{name}", "/v1/a%2Fb", UnescapeAllExceptReserved, []SegmentKind{L, S}, map[string]string{"name": "a/b"}},
		{"/v1/{name}", "/v1/a/b", UnescapeAllExceptReserved, nil, nil},
		{"/v1/{name=shelves/*}/books/{book.id}:publish", "/v1/shelves/s1/books/b%201:publish", UnescapeAllExceptReserved,
			[]SegmentKind{L, L, S, L, S}, map[string]string{"name": "shelves/s1", "book.id": "b 1"}},
		{"/v1/{name=**}", "/v1/a%2Fb/c%3Fd%20e", UnescapeAllExceptReserved, []SegmentKind{L, M, M}, map[string]string{"name": "a%2Fb/c%3Fd e"}},
		{"/v1/{name=**}", "/v1/a%2Fb/c%3Fd%20e", UnescapeAllExceptSlash, []SegmentKind{L, M, M}, map[string]string{"name": "a%2Fb/c?d e"}},
		{"/v1/{name=**}", "/v1/a%2Fb/c%3Fd%20e", UnescapeAll, []SegmentKind{L, M, M}, map[string]string{"name": "a/b/c?d e"}},
		{"/v1/{name=**}", "/v1", UnescapeAll, []SegmentKind{L}, map[string]string{"name": ""}},
		{"/v1/{name=**}", "/v1/x", UnescapeAllExceptReserved, []SegmentKind{L, M}, map[string]string{"name": "x"}},
		{"/v1/{name}", "/v1/bad%zz", UnescapeAll, []SegmentKind{L, S}, map[string]string{"name": "bad%zz"}},
		{"/v1/{name}:move", "/v1/x", UnescapeAll, nil, nil},
	}
	for _, c := range cases {
		tmpl, err := Parse(c.template)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.template, err)
		}
		parts, verb, _ := SplitPath(c.path, map[string]bool{tmpl.Verb: tmpl.Verb != ""}, false)
		rank, ok := tmpl.Match(parts, verb)
		if ok != (c.rank != nil) || !slices.Equal(rank, c.rank) {
			t.Errorf("%s on %s: rank %v %v, want %v", c.template, c.path, rank, ok, c.rank)
			continue
		}
		if !ok {
			continue
		}
		if got := tmpl.Bind(parts, c.mode); !maps.Equal(got, c.vars) {
			t.Errorf("%s on %s (mode %d): bound %q, want %q", c.template, c.path, c.mode, got, c.vars)
		}
	}
}
