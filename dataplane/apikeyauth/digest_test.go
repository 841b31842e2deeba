package apikeyauth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"strings"
	"testing"

	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
)

// hexDigest is the key's SHA-256 as the control plane writes it for the digest filter.
func hexDigest(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}

// TestDigestCredentials: with NewDigest the credentials' keys are digests: the key whose digest
// is listed passes (with its client), the digest itself presented as a key is refused (401), as
// is a wrong key; with New the same configuration would take the digest as the key, which is
// why only the contract's filter name carries it.
func TestDigestCredentials(t *testing.T) {
	per := &apikeyv3.ApiKeyAuthPerRoute{
		Credentials: []*apikeyv3.Credential{{Key: hexDigest(acmeKey), Client: "acme"}, {Key: hexDigest(globexKey), Client: "globex"}},
		KeySources:  []*apikeyv3.KeySource{{Header: "x-api-key"}},
		Forwarding:  &apikeyv3.Forwarding{Header: "x-client-id"},
	}
	f, err := NewDigest(nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.Step(per)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]Outcome{
		acmeKey: Allowed, globexKey: Allowed, hexDigest(acmeKey): UnknownKey, "wrong-key-0123456789": UnknownKey,
		strings.ToUpper(hexDigest(acmeKey)): UnknownKey, "": MissingKey,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if key != "" {
			r.Header.Set("X-Api-Key", key)
		}
		if got, _ := s.Check(r); got != want {
			t.Errorf("key %.12s…: %s, want %s", key, got, want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Api-Key", globexKey)
	if w, next := serve(s, r); w != nil || next.Header.Get("X-Client-Id") != "globex" {
		t.Errorf("globex's key: answered %v, x-client-id %q", w, next.Header.Get("X-Client-Id"))
	}

	// Filter-level credentials are digests too.
	fl, err := NewDigest(&apikeyv3.ApiKeyAuth{Credentials: per.GetCredentials(), KeySources: per.GetKeySources()})
	if err != nil {
		t.Fatal(err)
	}
	base, err := fl.Step(nil)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]Outcome{acmeKey: Allowed, hexDigest(acmeKey): UnknownKey} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Api-Key", key)
		if got, _ := base.Check(r); got != want {
			t.Errorf("filter-level digests, key %.12s…: %s, want %s", key, got, want)
		}
	}

	plain := step(t, nil, per)
	r = httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Api-Key", hexDigest(acmeKey))
	if got, _ := plain.Check(r); got != Allowed {
		t.Errorf("api_key_auth's semantics with digests for keys: %s, want the digest accepted as a key (the risk the contract filter avoids)", got)
	}
}

// TestDigestDecodeErrors: a digest filter's credential that is not 64 lower-case hex digits is
// refused (the route is withheld), without showing it.
func TestDigestDecodeErrors(t *testing.T) {
	f, err := NewDigest(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := hexDigest(acmeKey)
	for name, key := range map[string]string{
		"plaintext": acmeKey, "upper case": strings.ToUpper(d), "short": d[:62], "long": d + "00",
	} {
		_, err := f.Step(&apikeyv3.ApiKeyAuthPerRoute{Credentials: []*apikeyv3.Credential{{Key: key, Client: "acme"}}})
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), key) {
			t.Errorf("%s: the error shows the credential: %v", name, err)
		}
	}
	if _, err := f.Step(&apikeyv3.ApiKeyAuthPerRoute{Credentials: []*apikeyv3.Credential{{Key: d, Client: "a"}, {Key: d, Client: "b"}}}); err == nil {
		t.Error("duplicate digest accepted")
	}
}
