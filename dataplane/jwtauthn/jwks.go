package jwtauthn

// Key sets and signature verification as Envoy's source/common/jwt/verify.cc
// (verifyJwtWithoutTimeChecking) does: every key whose kid and alg do not contradict the token's
// is tried in order; JwtVerificationFail when some key was tried, JwksKidAlgMismatch when none.
// Keys are parsed by go-jose; a key that does not parse is skipped, as Envoy skips it.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// jwk is one usable key of a set.
type jwk struct {
	kid, alg string
	key      any // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey or []byte (oct)
}

// KeySet is the usable public keys of a JSON Web Key Set, in order.
type KeySet struct {
	keys []jwk
}

// ParseKeySet parses a JSON Web Key Set. It fails when the text is not a key set or holds no
// usable key (Envoy: "Jwks doesn't have any valid public key").
func ParseKeySet(text string) (*KeySet, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	var out []jwk
	var errs []error
	for i, r := range raw.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(r); err != nil {
			errs = append(errs, fmt.Errorf("keys[%d]: %w", i, err))
			continue
		}
		if _, symmetric := k.Key.([]byte); !symmetric && !k.IsPublic() {
			k = k.Public() // a private key's public half; an oct key (HS*) has none and stays
		}
		if !k.Valid() && k.Key == nil {
			continue
		}
		switch key := k.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey, []byte:
			if !algFitsKey(k.Algorithm, key) {
				errs = append(errs, fmt.Errorf("keys[%d]: alg %q does not fit its kty", i, k.Algorithm))
				continue
			}
			out = append(out, jwk{kid: k.KeyID, alg: k.Algorithm, key: key})
		default:
			errs = append(errs, fmt.Errorf("keys[%d]: unsupported key type %T", i, key))
		}
	}
	if len(out) == 0 {
		return nil, errors.Join(append([]error{errors.New("no valid public key")}, errs...)...)
	}
	return &KeySet{keys: out}, nil
}

// algFitsKey is Envoy's jwks.cc rule that a key's alg, when set, names its family.
func algFitsKey(alg string, key any) bool {
	if alg == "" {
		return true
	}
	switch key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return strings.HasPrefix(alg, "ES")
	case []byte:
		return strings.HasPrefix(alg, "HS")
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// hashOf is the digest the token's alg names (SHA-256 unless it says 384 or 512).
func hashOf(alg string) (crypto.Hash, func() hash.Hash) {
	switch {
	case strings.HasSuffix(alg, "384"):
		return crypto.SHA384, sha512.New384
	case strings.HasSuffix(alg, "512"):
		return crypto.SHA512, sha512.New
	}
	return crypto.SHA256, sha256.New
}

// verifySignature checks t's signature against keys.
func verifySignature(t *token, set *KeySet) Status {
	signed := []byte(t.headerB64 + "." + t.payloadB64)
	matched := false
	h, newHash := hashOf(t.alg)
	for _, k := range set.keys {
		if t.kid != "" && k.kid != "" && k.kid != t.kid {
			continue
		}
		if k.alg != "" && k.alg != t.alg {
			continue
		}
		matched = true
		switch key := k.key.(type) {
		case *ecdsa.PublicKey:
			d := newHash()
			d.Write(signed)
			half := len(t.signature) / 2
			r := new(big.Int).SetBytes(t.signature[:half])
			s := new(big.Int).SetBytes(t.signature[half : 2*half])
			if ecdsa.Verify(key, d.Sum(nil), r, s) {
				return Ok
			}
		case *rsa.PublicKey:
			d := newHash()
			d.Write(signed)
			switch {
			case strings.HasPrefix(t.alg, "RS"):
				if rsa.VerifyPKCS1v15(key, h, d.Sum(nil), t.signature) == nil {
					return Ok
				}
			case strings.HasPrefix(t.alg, "PS"):
				if rsa.VerifyPSS(key, h, d.Sum(nil), t.signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil {
					return Ok
				}
			}
		case []byte:
			m := hmac.New(newHash, key)
			m.Write(signed)
			if hmac.Equal(m.Sum(nil), t.signature) {
				return Ok
			}
		case ed25519.PublicKey:
			if len(t.signature) != ed25519.SignatureSize {
				return JwtEd25519SignatureWrongLength
			}
			if ed25519.Verify(key, signed, t.signature) {
				return Ok
			}
		}
	}
	if matched {
		return JwtVerificationFail
	}
	return JwksKidAlgMismatch
}
