// Package jwttest makes signing keys, their JSON Web Key Sets and signed tokens for tests of JWT
// authentication.
package jwttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// Key is a signing key with its key ID and algorithm.
type Key struct {
	KID  string
	Alg  string
	Priv crypto.Signer
}

// NewEC is a new P-256 key (ES256).
func NewEC(t testing.TB, kid string) Key {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return Key{KID: kid, Alg: "ES256", Priv: k}
}

// NewRSA is a new 2048-bit RSA key (RS256).
func NewRSA(t testing.TB, kid string) Key {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return Key{KID: kid, Alg: "RS256", Priv: k}
}

// JWKS is the public key set of keys.
func JWKS(t testing.TB, keys ...Key) string {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Priv.Public(), KeyID: k.KID, Algorithm: k.Alg, Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Sign makes a compact JWT of claims signed by k.
func Sign(t testing.TB, k Key, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]any{"alg": k.Alg, "typ": "JWT", "kid": k.KID})
	p, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	d := sha256.Sum256([]byte(in))
	var sig []byte
	switch priv := k.Priv.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, priv, d[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case *rsa.PrivateKey:
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, d[:]); err != nil {
			t.Fatal(err)
		}
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}
