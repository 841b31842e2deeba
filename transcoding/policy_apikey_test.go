package transcoding

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/internal/secret"
)

// apiKeyCatalog is one HTTP service for the API key tests.
func apiKeyCatalog(t *testing.T) bridge.Catalog {
	t.Helper()
	var c bridge.Catalog
	if err := yaml.Unmarshal([]byte(`services: [{id: http:orders, name: orders, protocol: http, sources: [a],
  endpoints: [{address: 10.0.0.1, port: 80, weight: 1, healthy: true, source: a}]}]`), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// apiKeyRoute builds the gateway for one API key policy on orders and returns its route.
func apiKeyRoute(t *testing.T, keys string) ir.Route {
	t.Helper()
	rules := Rules{Policies: []Policy{{Name: "partners", Services: []string{"orders"}, APIKey: &APIKeyRule{
		Keys: secret.Ref{File: keys}, From: []APIKeySource{{Header: "x-api-key"}}, ClientHeader: "x-client-id"}}}}
	g, ds := Build(apiKeyCatalog(t), nil, rules)
	if len(g.Routes) != 1 {
		t.Fatalf("%d routes, want 1 (diagnostics %v)", len(g.Routes), ds)
	}
	return g.Routes[0]
}

// TestAPIKeyFileRotation: the key file is read each time the gateway is built, so a rewritten
// file replaces the keys; a file that becomes unreadable or malformed withholds the routes
// (fail closed) until it is fixed.
func TestAPIKeyFileRotation(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys")
	write := func(text string) {
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keysOf := func(r ir.Route) []string {
		if r.Policy == nil || r.Policy.APIKey == nil {
			t.Fatalf("route %q has no api key block (withheld: %q)", r.Name, r.Withheld)
		}
		var out []string
		for _, c := range r.Policy.APIKey.Credentials {
			out = append(out, c.Client+"="+c.Key)
		}
		return out
	}
	write("acme: acme-key-0123456789\n")
	if got := keysOf(apiKeyRoute(t, file)); strings.Join(got, ",") != "acme=acme-key-0123456789" {
		t.Fatalf("keys = %v", got)
	}
	write("acme: acme-rotated-0123456789\nglobex: globex-key-0123456789\n")
	if got := keysOf(apiKeyRoute(t, file)); strings.Join(got, ",") != "acme=acme-rotated-0123456789,globex=globex-key-0123456789" {
		t.Fatalf("after rotation keys = %v", got)
	}
	write("acme: short\n")
	if r := apiKeyRoute(t, file); r.Withheld == "" || r.Policy != nil {
		t.Fatalf("malformed key file: route not withheld: %+v", r)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if r := apiKeyRoute(t, file); r.Withheld == "" {
		t.Fatal("missing key file: route not withheld")
	}
}

// TestAPIKeysNeverShown: neither the diagnostics of a malformed key file nor the IR marshalled
// as JSON (what the admin API shows) hold a key.
func TestAPIKeysNeverShown(t *testing.T) {
	secrets := []string{"acme-key-0123456789", "globex-key-0123456789", "some-key-0123456789", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", "short"}
	rules := Rules{Policies: []Policy{
		{Name: "broken", Services: []string{"orders"}, APIKey: &APIKeyRule{Keys: secret.Ref{File: "testdata/apikeys/broken"}, From: []APIKeySource{{Header: "x-api-key"}}}},
	}}
	_, ds := Build(apiKeyCatalog(t), nil, rules)
	if len(ds) < 5 {
		t.Fatalf("%d diagnostics, want one per bad line: %v", len(ds), ds)
	}
	for _, d := range ds {
		for _, s := range secrets {
			if strings.Contains(d.Message, s) {
				t.Errorf("diagnostic shows a key: %s", d.Message)
			}
		}
	}
	r := apiKeyRoute(t, "testdata/apikeys/partners")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "-0123456789") || !strings.Contains(string(b), ir.RedactedKey) {
		t.Errorf("the route's JSON shows a key or no redaction: %s", b)
	}
}

// TestAPIKeyRuleValidate: every problem of the block, at its key.
func TestAPIKeyRuleValidate(t *testing.T) {
	err := Policy{Name: "p", APIKey: &APIKeyRule{
		From:           []APIKeySource{{}, {Header: "x-a", Query: "a"}, {Header: "bad header"}},
		ClientHeader:   "bad:header",
		AllowedClients: []string{"ok", "not ok"},
	}}.Validate()
	var got []string
	for _, fe := range field.List(err) {
		got = append(got, fe.Path)
	}
	want := "apiKey.keys apiKey.from[0] apiKey.from[1] apiKey.from[2].header apiKey.clientHeader apiKey.allowedClients[1]"
	if strings.Join(got, " ") != want {
		t.Errorf("problems at %v, want %s (%v)", got, want, err)
	}
	if err := (Policy{Name: "p", APIKey: &APIKeyRule{Keys: secret.Ref{File: "k"}}}).Validate(); len(field.List(err)) != 1 || field.List(err)[0].Path != "apiKey.from" {
		t.Errorf("no source: %v, want one problem at apiKey.from", err)
	}
	if err := (Policy{Name: "p", APIKey: &APIKeyRule{Keys: secret.Ref{File: "k"}, From: []APIKeySource{{Cookie: "c"}}}}).Validate(); err != nil {
		t.Errorf("valid block: %v", err)
	}
}
