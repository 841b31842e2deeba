// Command mint signs a JSON Web Token with examples/edge's test-only signing key, for the JWT
// policy of examples/edge/rpcbridge.yaml (issuer, audience and key ID match that file's
// provider). With -jwks it prints the key's public JSON Web Key Set instead, the file the policy
// verifies tokens with (examples/edge/testkey/jwks.json). Run it from the repository root:
//
//	go run ./examples/edge/mint -sub ada
//	go run ./examples/edge/mint -sub ada -ttl -1m      # an expired token (401 Jwt is expired)
//	go run ./examples/edge/mint -jwks > examples/edge/testkey/jwks.json
//
// The key is public: never trust its JWKS anywhere but in this example.
package main

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The provider examples/edge/rpcbridge.yaml configures.
const (
	defaultKeyFile = "examples/edge/testkey/signing-key.pem"
	defaultIssuer  = "https://issuer.edge-example.test"
	defaultAud     = "edge-example"
	keyID          = "edge-example-test-key"
)

func main() {
	keyFile := flag.String("key", defaultKeyFile, "PEM file of the P-256 signing key (PKCS #8)")
	sub := flag.String("sub", "ada", "the token's subject (sub claim)")
	iss := flag.String("iss", defaultIssuer, "the token's issuer (iss claim)")
	aud := flag.String("aud", defaultAud, "the token's audience (aud claim)")
	ttl := flag.Duration("ttl", time.Hour, "lifetime: exp is now + ttl (negative: already expired)")
	jwks := flag.Bool("jwks", false, "print the key's public JWKS instead of a token")
	flag.Parse()
	if err := run(os.Stdout, *keyFile, *jwks, claims{Sub: *sub, Iss: *iss, Aud: *aud}, *ttl, time.Now()); err != nil {
		fmt.Fprintln(os.Stderr, "mint:", err)
		os.Exit(1)
	}
}

// claims are the token's claims but for its times.
type claims struct {
	Sub, Iss, Aud string
}

// run writes a token (or with jwks the key set) to w.
func run(w io.Writer, keyFile string, jwks bool, c claims, ttl time.Duration, now time.Time) error {
	key, err := readKey(keyFile)
	if err != nil {
		return err
	}
	var out string
	if jwks {
		out, err = keySet(key)
	} else {
		out, err = sign(key, c, ttl, now)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, out)
	return err
}

// readKey reads a PKCS #8 P-256 private key; text before the PEM block (the test-only notice) is
// skipped.
func readKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the signing key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: no PEM block PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New(path + ": not an ECDSA key")
	}
	return ec, nil
}

// sign makes a compact ES256 token with kid, iss, sub, aud, iat, nbf (now) and exp (now + ttl).
func sign(key *ecdsa.PrivateKey, c claims, ttl time.Duration, now time.Time) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", keyID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("signer: %w", err)
	}
	payload, err := json.Marshal(map[string]any{
		"iss": c.Iss, "sub": c.Sub, "aud": c.Aud,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
	})
	if err != nil {
		return "", fmt.Errorf("claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return jws.CompactSerialize()
}

// keySet is the public JWKS of key, indented.
func keySet(key *ecdsa.PrivateKey) (string, error) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: keyID, Algorithm: string(jose.ES256), Use: "sig"}}}
	b, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return "", fmt.Errorf("key set: %w", err)
	}
	return string(b), nil
}
