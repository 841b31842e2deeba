package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/rpcbridge/rpcbridge/config"
)

// root is the repository root, where the example's paths are relative to.
const root = "../../.."

// TestCheckedInJWKSIsTheKeysPublicKey: examples/edge/testkey/jwks.json is what -jwks prints for
// the checked-in signing key, so the example's tokens verify.
func TestCheckedInJWKSIsTheKeysPublicKey(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, filepath.Join(root, defaultKeyFile), true, claims{}, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(root, "examples/edge/testkey/jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(file) {
		t.Errorf("jwks.json is not the signing key's JWKS; regenerate it with go run ./examples/edge/mint -jwks\nfile:\n%s\nkey:\n%s", file, out.String())
	}
}

// TestTokenVerifiesWithTheJWKS: a minted token is an ES256 JWT with the key's kid, verified by the
// checked-in JWKS, carrying the claims asked for and exp = now + ttl.
func TestTokenVerifiesWithTheJWKS(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var out bytes.Buffer
	want := claims{Sub: "ada", Iss: defaultIssuer, Aud: defaultAud}
	if err := run(&out, filepath.Join(root, defaultKeyFile), false, want, -time.Minute, now); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out.String())
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("parse %q: %v", token, err)
	}
	h := jws.Signatures[0].Header
	if h.KeyID != keyID || h.ExtraHeaders["typ"] != "JWT" {
		t.Errorf("header kid %q typ %v, want %q JWT", h.KeyID, h.ExtraHeaders["typ"], keyID)
	}
	b, err := os.ReadFile(filepath.Join(root, "examples/edge/testkey/jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	keys := set.Key(keyID)
	if len(keys) != 1 {
		t.Fatalf("jwks.json has %d keys with kid %q, want 1", len(keys), keyID)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("the JWKS does not verify the token: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(payload, &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"sub": "ada", "iss": defaultIssuer, "aud": defaultAud,
		"iat": float64(now.Unix()), "nbf": float64(now.Unix()), "exp": float64(now.Unix() - 60)} {
		if got[k] != v {
			t.Errorf("claim %s = %v, want %v", k, got[k], v)
		}
	}
}

// TestDefaultsMatchTheExample: the example's configuration is valid, and its JWT provider is
// the one mint signs for (issuer, audience, the checked-in JWKS).
func TestDefaultsMatchTheExample(t *testing.T) {
	cfg, err := config.Load(filepath.Join(root, "examples/edge/rpcbridge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var found int
	for _, p := range cfg.Policies {
		if p.JWT == nil {
			continue
		}
		for _, pr := range p.JWT.Providers {
			found++
			if pr.Issuer != defaultIssuer || !slices.Contains(pr.Audiences, defaultAud) || pr.JWKS.File != "examples/edge/testkey/jwks.json" {
				t.Errorf("policy %s provider %s: issuer %q audiences %v jwks file %q; want %q, %q, the checked-in JWKS",
					p.Name, pr.Name, pr.Issuer, pr.Audiences, pr.JWKS.File, defaultIssuer, defaultAud)
			}
		}
	}
	if found != 1 {
		t.Errorf("the example has %d JWT providers, want 1", found)
	}
}
