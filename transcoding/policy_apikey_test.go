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
		Keys: APIKeys{File: keys}, From: []APIKeySource{{Header: "x-api-key"}}, ClientHeader: "x-client-id"}}}}
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
	secrets := []string{"acme-key-0123456789", "globex-key-0123456789", "some-key-0123456789", "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8",
		"5e884898da28047151d0e56f8dc6", "5dfdc41a2e55540c54ae606999e2ed7753fa48e6643041ff1d4e0d9171f3c6e4", "short"}
	rules := Rules{Policies: []Policy{
		{Name: "broken", Services: []string{"orders"}, APIKey: &APIKeyRule{Keys: APIKeys{File: "testdata/apikeys/broken"}, From: []APIKeySource{{Header: "x-api-key"}}}},
	}}
	_, ds := Build(apiKeyCatalog(t), nil, rules)
	if len(ds) < 7 {
		t.Fatalf("%d diagnostics, want one per bad line: %v", len(ds), ds)
	}
	for _, d := range ds {
		for _, s := range secrets {
			if strings.Contains(d.Message, s) {
				t.Errorf("diagnostic shows a key: %s", d.Message)
			}
		}
	}
	for _, file := range []string{"testdata/apikeys/partners", "testdata/apikeys/hashed"} {
		r := apiKeyRoute(t, file)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "-0123456789") || strings.Contains(string(b), hashedDigest) || !strings.Contains(string(b), ir.RedactedKey) {
			t.Errorf("%s: the route's JSON shows a key, a digest or no redaction: %s", file, b)
		}
	}
}

// hashedDigest is the SHA-256 of initech's key in testdata/apikeys/hashed.
const hashedDigest = "aa67d9f88465b85ef12a2f72059e12da6e822995d254d9a56552dec64036eb70"

// TestAPIKeyHashedLines: a "sha256:<hex>" line is a credential with a digest, beside plaintext
// ones; a malformed digest, or the digest of a key the file also holds, is a problem naming the
// line only.
func TestAPIKeyHashedLines(t *testing.T) {
	creds, errs := parseAPIKeys("initech: sha256:" + hashedDigest + "\n# comment\nacme: acme-key-0123456789\n")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []ir.APIKeyCredential{{Client: "initech", Digest: hashedDigest}, {Client: "acme", Key: "acme-key-0123456789"}}
	if len(creds) != 2 || creds[0] != want[0] || creds[1] != want[1] {
		t.Fatalf("credentials = %+v, want %+v", creds, want)
	}
	for name, text := range map[string]string{
		"upper case": "a: sha256:" + strings.ToUpper(hashedDigest),
		"short":      "a: sha256:" + hashedDigest[:63],
		"long":       "a: sha256:" + hashedDigest + "0",
		"not hex":    "a: sha256:" + strings.Repeat("g", 64),
		"empty":      "a: sha256:",
		"key twice":  "a: initech-key-0123456789\nb: sha256:" + hashedDigest,
	} {
		_, errs := parseAPIKeys(text)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "line ") {
			t.Errorf("%s: problems %v, want one naming its line", name, errs)
			continue
		}
		if msg := errs[0].Error(); strings.Contains(msg, hashedDigest[:16]) || strings.Contains(msg, strings.ToUpper(hashedDigest[:16])) || strings.Contains(msg, "initech-key") {
			t.Errorf("%s: the problem shows the digest or the key: %s", name, msg)
		}
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
	if err := (Policy{Name: "p", APIKey: &APIKeyRule{Keys: APIKeys{File: "k"}}}).Validate(); len(field.List(err)) != 1 || field.List(err)[0].Path != "apiKey.from" {
		t.Errorf("no source: %v, want one problem at apiKey.from", err)
	}
	if err := (Policy{Name: "p", APIKey: &APIKeyRule{Keys: APIKeys{File: "k"}, From: []APIKeySource{{Cookie: "c"}}}}).Validate(); err != nil {
		t.Errorf("valid block: %v", err)
	}
}
