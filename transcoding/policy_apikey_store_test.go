package transcoding

import (
	"encoding/json"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/internal/field"
)

// storeKeyRoute builds the gateway for one policy on orders with the store-held set "partners"
// and the given sets as input, and returns its route and the diagnostics.
func storeKeyRoute(t *testing.T, sets map[string]string) (ir.Route, []diag.Diagnostic) {
	t.Helper()
	rules := Rules{APIKeySets: sets, Policies: []Policy{{Name: "partners", Services: []string{"orders"}, APIKey: &APIKeyRule{
		Keys: APIKeys{Store: "partners"}, From: []APIKeySource{{Header: "x-api-key"}}, ClientHeader: "x-client-id"}}}}
	g, ds := Build(apiKeyCatalog(t), nil, rules)
	if len(g.Routes) != 1 {
		t.Fatalf("%d routes, want 1 (diagnostics %v)", len(g.Routes), ds)
	}
	return g.Routes[0], ds
}

// TestAPIKeyStoreSet: a policy with keys: {store: NAME} gets the set Build is given, as
// digests (so the Envoy flavors withhold it, rpcbridge's gateways verify it); a missing set or
// one that holds a plaintext key withholds the routes with policy.keys-unavailable, and the
// diagnostics and the IR's JSON show no key and no digest.
func TestAPIKeyStoreSet(t *testing.T) {
	const key = "acme-key-0123456789"
	hashed, err := HashAPIKeys("# a comment\nacme: " + key + "\ninitech: sha256:" + hashedDigest + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(hashed, key) || strings.Contains(hashed, "comment") || strings.Count(hashed, "sha256:") != 2 {
		t.Fatalf("HashAPIKeys = %q: want two digest lines and no key", hashed)
	}
	r, ds := storeKeyRoute(t, map[string]string{"partners": hashed})
	if r.Withheld != "" || r.Policy == nil || r.Policy.APIKey == nil {
		t.Fatalf("route withheld %q (diagnostics %v)", r.Withheld, ds)
	}
	creds := r.Policy.APIKey.Credentials
	if len(creds) != 2 || creds[0].Client != "acme" || creds[0].Key != "" || creds[0].Digest != credentialDigest(ir.APIKeyCredential{Key: key}) ||
		creds[1] != (ir.APIKeyCredential{Client: "initech", Digest: hashedDigest}) || !r.Policy.APIKey.HasDigests() {
		t.Fatalf("credentials %+v: want the two digests", creds)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), hashedDigest) || strings.Contains(string(b), creds[0].Digest) {
		t.Errorf("the route's JSON shows a digest: %s", b)
	}

	for name, sets := range map[string]map[string]string{
		"missing":   {"other": hashed},
		"no sets":   nil,
		"plaintext": {"partners": "acme: " + key + "\n"},
		"malformed": {"partners": "acme sha256:" + hashedDigest + "\n"},
	} {
		r, ds := storeKeyRoute(t, sets)
		if r.Withheld == "" || r.Policy != nil {
			t.Errorf("%s: route not withheld: %+v", name, r)
		}
		found := false
		for _, d := range ds {
			if d.Code == diag.PolicyKeysUnavailable && strings.Contains(d.Message, `"partners"`) {
				found = true
			}
			if strings.Contains(d.Message, key) || strings.Contains(d.Message, hashedDigest[:16]) {
				t.Errorf("%s: a diagnostic shows a key or digest: %s", name, d.Message)
			}
		}
		if !found {
			t.Errorf("%s: no policy.keys-unavailable naming the set: %v", name, ds)
		}
	}
}

// TestAPIKeysPlace: keys is exactly one of file, env, store, decoded strictly; a plain string
// is refused without repeating it.
func TestAPIKeysPlace(t *testing.T) {
	var k APIKeys
	if err := yaml.Unmarshal([]byte("{store: partners}"), &k); err != nil || k != (APIKeys{Store: "partners"}) || k.Validate() != nil {
		t.Errorf("{store: partners} = %+v, %v", k, err)
	}
	if err := yaml.Unmarshal([]byte("{file: /k}"), &k); err != nil || k != (APIKeys{File: "/k"}) {
		t.Errorf("{file: /k} = %+v, %v", k, err)
	}
	if err := yaml.Unmarshal([]byte("acme-key-0123456789"), &k); err == nil || strings.Contains(err.Error(), "acme-key") {
		t.Errorf("a plain string: %v", err)
	}
	if err := yaml.Unmarshal([]byte("{stor: x}"), &k); err == nil || !strings.Contains(err.Error(), "stor") {
		t.Errorf("an unknown key: %v", err)
	}
	for _, bad := range []APIKeys{{File: "/k", Store: "s"}, {Env: "E", Store: "s"}, {Store: "Not_A_Name"}} {
		err := Policy{Name: "p", APIKey: &APIKeyRule{Keys: bad, From: []APIKeySource{{Header: "x-api-key"}}}}.Validate()
		if fe := field.List(err); len(fe) != 1 || fe[0].Path != "apiKey.keys" {
			t.Errorf("%+v: %v, want one problem at apiKey.keys", bad, err)
		}
	}
	got := StoreAPIKeySets([]Policy{{APIKey: &APIKeyRule{Keys: APIKeys{Store: "b"}}}, {}, {APIKey: &APIKeyRule{Keys: APIKeys{File: "f"}}},
		{APIKey: &APIKeyRule{Keys: APIKeys{Store: "a"}}}, {APIKey: &APIKeyRule{Keys: APIKeys{Store: "b"}}}})
	if strings.Join(got, ",") != "b,a" {
		t.Errorf("StoreAPIKeySets = %v, want [b a]", got)
	}
}

// TestSummarizeStoredAPIKeys: clients in order with their counts; a plaintext key is refused.
func TestSummarizeStoredAPIKeys(t *testing.T) {
	hashed, err := HashAPIKeys("b: key-one-0123456789\na: key-two-0123456789\nb: key-three-0123456789\n")
	if err != nil {
		t.Fatal(err)
	}
	got, err := SummarizeStoredAPIKeys(hashed)
	if err != nil || len(got) != 2 || got[0] != (APIKeyClient{Client: "b", Keys: 2}) || got[1] != (APIKeyClient{Client: "a", Keys: 1}) {
		t.Errorf("summary = %+v, %v", got, err)
	}
	if _, err := SummarizeStoredAPIKeys("a: key-one-0123456789\n"); err == nil || strings.Contains(err.Error(), "key-one") {
		t.Errorf("a plaintext key in the store: %v", err)
	}
}
