package config

import (
	"slices"
	"strings"
	"testing"
)

// TestPolicyReferences: a rule naming an undefined policy, a policy defined twice and a bad
// policy name are each reported with the file, line and key of the value at fault.
func TestPolicyReferences(t *testing.T) {
	doc := `registries:
  - name: local
    type: static
    static:
      services:
        - {name: hello, protocol: http, endpoints: [{address: 127.0.0.1, port: 8080}]}
policies:
  - name: web
  - name: web
  - name: Bad_Name
routes:
  - service: hello
    pathPrefix: /a/
    policy: web
  - service: hello
    pathPrefix: /b/
    policy: nowhere
`
	got := problems(t, doc)
	want := []string{
		`f.yaml:9: policies[1].name: policy "web" is already defined by policies[0]`,
		`f.yaml:10: policies[2].name: "Bad_Name" is not a policy name (lower-case letters, digits and dashes, at most 63)`,
		`f.yaml:17: routes[1].policy: no policy is named "nowhere" (policies: [Bad_Name web])`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%q\nwant\n%q", got, want)
	}
	valid := "registries:\n  - name: local\n    type: static\n    static:\n      services: [{name: hello, protocol: http, endpoints: [{address: 127.0.0.1, port: 8080}]}]\n" +
		"policies:\n  - {name: web, services: [hello]}\nroutes:\n  - {service: hello, pathPrefix: /a/, policy: web}\n"
	cfg, err := Parse("f.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	rules := cfg.Rules()
	if len(rules.Policies) != 1 || rules.Policies[0].Origin != "f.yaml policies[0]" || rules.HTTP[0].Policy != "web" {
		t.Errorf("Rules() policies = %+v, routes = %+v; want policy web from f.yaml policies[0], referenced by the route", rules.Policies, rules.HTTP)
	}
}

// TestAPIKeyPolicy: problems of an apiKey block are reported with file, line and key, and a key
// written inline (instead of a {file: PATH} reference) is refused without repeating it.
func TestAPIKeyPolicy(t *testing.T) {
	doc := `registries:
  - name: local
    type: static
    static:
      services:
        - {name: hello, protocol: http, endpoints: [{address: 127.0.0.1, port: 8080}]}
policies:
  - name: web
    apiKey:
      keys: {file: /etc/keys}
      from:
        - {header: x-api-key, query: api_key}
      clientHeader: "bad header"
      allowedClients: ["not ok"]
  - name: inline
    apiKey:
      keys: inline-secret-key-0123456789
      from: [{header: x-api-key}]
`
	got := problems(t, doc)
	want := []string{
		`f.yaml:12: policies[0].apiKey.from[0]: set exactly one of header, query, cookie`,
		`f.yaml:13: policies[0].apiKey.clientHeader: "bad header" is not a header name`,
		`f.yaml:14: policies[0].apiKey.allowedClients[0]: "not ok" is not a client name (letters, digits, '.', '_', '@', '-')`,
	}
	if len(got) != len(want)+1 || (!slices.Equal(got[:len(want)], want) && !slices.Equal(got[1:], want)) {
		t.Errorf("problems:\n%q\nwant\n%q and one for the inline key", got, want)
	}
	for _, p := range got {
		if strings.Contains(p, "inline-secret-key") {
			t.Errorf("a problem repeats the inline key: %s", p)
		}
	}
	if !slices.ContainsFunc(got, func(p string) bool {
		return strings.Contains(p, "f.yaml:17") && strings.Contains(p, "never written in the configuration")
	}) {
		t.Errorf("no problem at f.yaml:17 for the inline key: %q", got)
	}
}
