package jwtauthn_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"

	"github.com/rpcbridge/rpcbridge/dataplane/jwtauthn"
	"github.com/rpcbridge/rpcbridge/internal/jwttest"
)

// BenchmarkServe is the filter's work on one request with a valid token (extraction, parsing,
// issuer, time and audience checks, signature, claim header, token removal), next to the
// signature verification alone (the standard library's, on the same token), per algorithm:
// the difference is what the filter adds to the cryptography.
//
//	go test ./dataplane/jwtauthn -run '^$' -bench BenchmarkServe -benchmem -count 3
func BenchmarkServe(b *testing.B) {
	for _, key := range []jwttest.Key{jwttest.NewEC(b, "ec"), jwttest.NewRSA(b, "rsa")} {
		f, err := jwtauthn.New(&jwtv3.JwtAuthentication{
			Providers:      map[string]*jwtv3.JwtProvider{"corp": provider(jwttest.JWKS(b, key))},
			RequirementMap: map[string]*jwtv3.JwtRequirement{"r": byName("corp")},
		}, func() time.Time { return now })
		if err != nil {
			b.Fatal(err)
		}
		s, err := f.ForRoute(&jwtv3.PerRouteConfig{RequirementSpecifier: &jwtv3.PerRouteConfig_RequirementName{RequirementName: "r"}})
		if err != nil {
			b.Fatal(err)
		}
		tok := jwttest.Sign(b, key, map[string]any{"iss": issuer, "aud": "orders", "sub": "alice", "exp": now.Add(time.Hour).Unix()})
		b.Run(key.Alg+"/filter", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, "http://gw.test/x", nil)
				r.Header.Set("Authorization", "Bearer "+tok)
				out, ok := s.Serve(httptest.NewRecorder(), r)
				if !ok || out.Header.Get("X-User-Sub") != "alice" {
					b.Fatal("the valid token did not pass")
				}
			}
		})
		b.Run(key.Alg+"/signature-only", func(b *testing.B) {
			verify := signatureCheck(b, key, tok)
			b.ReportAllocs()
			for b.Loop() {
				if !verify() {
					b.Fatal("signature does not verify")
				}
			}
		})
	}
}

// signatureCheck verifies tok's signature with the standard library alone.
func signatureCheck(b *testing.B, key jwttest.Key, tok string) func() bool {
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	signed := []byte(tok[:i])
	switch pub := key.Priv.Public().(type) {
	case *ecdsa.PublicKey:
		return func() bool {
			d := sha256.Sum256(signed)
			return ecdsa.Verify(pub, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
		}
	case *rsa.PublicKey:
		return func() bool {
			d := sha256.Sum256(signed)
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) == nil
		}
	}
	b.Fatalf("key type %T", key.Priv)
	return nil
}
