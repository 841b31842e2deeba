package config

import (
	"slices"
	"testing"
)

// TestCanaryPolicyProblems: every problem of a canary block is reported at its file, line and
// key; a valid canary (weight, header, cookie) and a valid Dubbo tag routing parse.
func TestCanaryPolicyProblems(t *testing.T) {
	doc := `policies:
  - name: a
    canary:
      subset: {version: ""}
      weight: 120
      header: {name: "bad header", value: ""}
      cookie: {name: c, value: "a b"}
  - name: b
    canary: {weight: 0}
  - name: c
    canary:
      subset: {version: "2"}
      dubboTag: {}
  - name: d
    canary:
      dubboTag:
        header: x-tag
        forceHeader: X-Tag
`
	got := problems(t, doc)
	want := []string{
		`f.yaml:4: policies[0].canary.subset.version: empty label value`,
		`f.yaml:5: policies[0].canary.weight: 120 is not a percentage (0 to 100)`,
		`f.yaml:6: policies[0].canary.header.name: "bad header" is not an HTTP header name`,
		`f.yaml:6: policies[0].canary.header.value: "" is not a header value (visible characters and inner spaces)`,
		`f.yaml:7: policies[0].canary.cookie.value: "a b" is not a cookie value (RFC 6265)`,
		`f.yaml:9: policies[1].canary.subset: a canary needs a subset: the labels of its endpoints (or use dubboTag)`,
		`f.yaml:9: policies[1].canary.weight: the canary sends no request to its subset: set weight, header or cookie`,
		`f.yaml:13: policies[2].canary.dubboTag: dubboTag selects its subsets itself: it cannot be combined with subset, weight, header or cookie`,
		`f.yaml:18: policies[3].canary.dubboTag.forceHeader: the tag and the force flag need different headers`,
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%q\nwant\n%q", got, want)
	}
	valid := `policies:
  - name: canary
    canary: {subset: {version: "2.0", zone: z1}, weight: 10, header: {name: x-canary, value: "1"}, cookie: {name: canary, value: always}}
  - name: tags
    canary: {dubboTag: {force: true}}
`
	if _, err := Parse("f.yaml", []byte(valid)); err != nil {
		t.Errorf("valid canaries: %v", err)
	}
	if got := problems(t, "policies:\n  - name: x\n    canary: {subset: {a: b}, weight: 1, extra: 1}\n"); len(got) != 1 {
		t.Errorf("unknown canary key: %q, want one problem", got)
	}
}
