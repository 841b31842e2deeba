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
  - {name: addr, clientAddressHeader: "x client ip"}
  - {name: host, clientAddressHeader: Host}
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
		`f.yaml:11: policies[3].clientAddressHeader: "x client ip" is not a header name a policy may set`,
		`f.yaml:12: policies[4].clientAddressHeader: "Host" is not a header name a policy may set`,
		`f.yaml:19: routes[1].policy: no policy is named "nowhere" (policies: [Bad_Name addr host web])`,
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

// TestCORSAndRateLimitProblems: problems of the cors and rateLimit blocks are reported at their
// file, line and key; unknown keys inside them are errors.
func TestCORSAndRateLimitProblems(t *testing.T) {
	doc := `registries:
  - name: local
    type: static
    static:
      services:
        - {name: hello, protocol: http, endpoints: [{address: 127.0.0.1, port: 8080}]}
policies:
  - name: web
    cors:
      allowOrigins:
        - {exact: "https://a.example.com", suffix: ".example.com"}
        - {regex: "("}
      allowMethods: ["GET POST"]
      maxAge: 1500ms
  - name: limited
    rateLimit:
      maxTokens: 0
      fillInterval: 10ms
      perClient:
        - {key: cookie}
        - {key: header, header: "x user", maxTokens: 1, fillInterval: 1s}
      maxClients: 0
  - name: typo
    rateLimit: {maxTokens: 1, fillInterval: 1s, burst: 2}
`
	got := problems(t, doc)
	want := []string{
		`f.yaml:11: policies[0].cors.allowOrigins[0]: exactly one of exact, prefix, suffix and regex is required`,
		"f.yaml:12: policies[0].cors.allowOrigins[1].regex: error parsing regexp: missing closing ): `(`",
		`f.yaml:13: policies[0].cors.allowMethods[0]: "GET POST" is not a token`,
		`f.yaml:14: policies[0].cors.maxAge: 1.5s is not a whole number of seconds`,
		`f.yaml:17: policies[1].rateLimit.maxTokens: must be at least 1`,
		`f.yaml:18: policies[1].rateLimit.fillInterval: 10ms is not a whole number of milliseconds of at least 50ms (Envoy's minimum)`,
		`f.yaml:20: policies[1].rateLimit.perClient[0].key: "cookie" is not a client key (clientIP, header)`,
		`f.yaml:20: policies[1].rateLimit.perClient[0].maxTokens: must be at least 1`,
		`f.yaml:20: policies[1].rateLimit.perClient[0].fillInterval: 0s is not a whole number of milliseconds of at least 50ms (Envoy's minimum)`,
		`f.yaml:21: policies[1].rateLimit.perClient[1].header: "x user" is not a header name`,
		`f.yaml:22: policies[1].rateLimit.maxClients: must be at least 1`,
		`f.yaml:24: policies[2].rateLimit.burst: unknown key "burst"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%q\nwant\n%q", got, want)
	}
}

// TestJWTPolicyProblems: each problem of a jwt block is reported with the file, line and key of
// the value at fault, all in one run.
func TestJWTPolicyProblems(t *testing.T) {
	doc := `policies:
  - name: web
    jwt:
      providers:
        - name: corp
          jwks: {file: /a.json, url: "https://id.example.com/jwks"}
          clockSkew: 1500ms
        - name: corp
          jwks: {url: "ftp://id.example.com/jwks", timeout: -1s}
          fromHeaders: [{name: "bad header"}]
          fromCookies: ["a=b"]
          claimHeaders: {sub: "x user"}
        - name: Nope
  - name: empty
    jwt: {}
`
	got := problems(t, doc)
	want := []string{
		`f.yaml:6: policies[0].jwt.providers[0].jwks: jwks.file and jwks.url are exclusive`,
		`f.yaml:7: policies[0].jwt.providers[0].clockSkew: 1.5s is not a whole number of seconds`,
		`f.yaml:8: policies[0].jwt.providers[1].name: provider "corp" is already defined by providers[0]`,
		`f.yaml:9: policies[0].jwt.providers[1].jwks.timeout: duration "-1s" is negative`,
		`f.yaml:9: policies[0].jwt.providers[1].jwks.url: "ftp://id.example.com/jwks" is not an http(s) URL`,
		`f.yaml:10: policies[0].jwt.providers[1].fromHeaders[0].name: "bad header" is not a header name`,
		`f.yaml:11: policies[0].jwt.providers[1].fromCookies[0]: "a=b" is not a cookie name`,
		`f.yaml:12: policies[0].jwt.providers[1].claimHeaders.sub: "x user" is not a header name a claim may set`,
		`f.yaml:13: policies[0].jwt.providers[2].name: "Nope" is not a provider name (lower-case letters, digits and dashes, at most 63)`,
		`f.yaml:13: policies[0].jwt.providers[2].jwks: a provider needs its keys: jwks.file or jwks.url`,
		`f.yaml:15: policies[1].jwt.providers: a jwt block needs at least one provider`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%q\nwant\n%q", got, want)
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
