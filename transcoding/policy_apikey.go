package transcoding

// The apiKey block of a policy: requests authenticated by an API key, as Envoy's
// envoy.filters.http.api_key_auth does. The keys live in a key file (or an environment
// variable), or hashed in the shared store (policy_apikey_store.go), never in rpcbridge.yaml;
// the file is read each time the gateway is built, so rewriting it rotates the keys. Nothing here ever prints a key:
// problems in the key file are reported by line number only.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/internal/field"
)

// MinAPIKeyLength is the shortest key a key file may hold: shorter ones are guessable.
const MinAPIKeyLength = 16

// APIKeyRule authenticates a policy's requests by an API key (Envoy: api_key_auth, per route).
// A request without a key is answered 401, one with a key that is not in the key file 401, one
// whose client is not in allowedClients 403.
type APIKeyRule struct {
	// Keys is where the key file is read from ({file: PATH} or {env: NAME}), or the key set
	// held hashed in the shared store that replaces it ({store: NAME}, docs/store.md): one
	// "<client>: <key>" line per key, "#" comments and blank lines ignored. A client may have
	// several keys (to rotate them). The file is re-read when it changes, the store's set
	// followed. A key is at least 16 characters of visible ASCII, or "sha256:" and the 64
	// lower-case hex digits of its SHA-256 (printf %s "$KEY" | sha256sum): rpcbridge's gateways
	// verify such a hashed key, Envoy cannot, so for Envoy the routes of a file with a hashed key
	// (and of every store-held set, which holds digests only) answer 503 (see docs/policies.md).
	Keys APIKeys `yaml:"keys"`
	// From are where the key is read from, in order (the first one present is used): each
	// exactly one of {header: NAME} (its first value, without a "Bearer " prefix),
	// {query: NAME} or {cookie: NAME}.
	From []APIKeySource `yaml:"from"`
	// ClientHeader, when set, is the request header that carries the authenticated client's
	// name to the provider (gRPC metadata, a Dubbo attachment). A copy sent by the client is
	// always removed first.
	ClientHeader string `yaml:"clientHeader,omitempty"`
	// HideCredentials removes the key (from every source) before the request goes upstream.
	HideCredentials bool `yaml:"hideCredentials,omitempty"`
	// AllowedClients, when set, are the only clients the policy's routes accept (403 for the
	// others); empty accepts every client of the key file.
	AllowedClients []string `yaml:"allowedClients,omitempty"`
}

// APIKeySource is one place the key is read from; exactly one field is set.
type APIKeySource struct {
	// Header is a request header name.
	Header string `yaml:"header,omitempty"`
	// Query is a query parameter name.
	Query string `yaml:"query,omitempty"`
	// Cookie is a cookie name.
	Cookie string `yaml:"cookie,omitempty"`
}

var (
	// headerNameRE is an HTTP header name (RFC 9110 token).
	headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	// apiKeyClientRE is a client name of the key file.
	apiKeyClientRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$`)
	// apiKeyRE is what a key may be: visible ASCII (it travels in headers, queries, cookies).
	apiKeyRE = regexp.MustCompile(`^[\x21-\x7e]+$`)
	// sha256HexRE is a SHA-256 digest as sha256sum prints it.
	sha256HexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// apiKeyDigestPrefix starts a hashed key of the key file.
const apiKeyDigestPrefix = "sha256:"

// Validate reports every problem of the block that shows without reading the key file, each a
// field.Error at its key ("from[1].header"), joined.
func (a APIKeyRule) Validate() error {
	var errs []error
	if a.Keys.IsZero() {
		errs = append(errs, field.Errorf("keys", "set {file: PATH}, {env: NAME} or {store: NAME}: where the keys are read from"))
	} else if err := a.Keys.Validate(); err != nil {
		errs = append(errs, field.Errorf("keys", "%v", err))
	}
	if len(a.From) == 0 {
		errs = append(errs, field.Errorf("from", "name at least one place the key is read from: {header: NAME}, {query: NAME} or {cookie: NAME}"))
	}
	for i, s := range a.From {
		key := fmt.Sprintf("from[%d]", i)
		set := 0
		for _, v := range []string{s.Header, s.Query, s.Cookie} {
			if v != "" {
				set++
			}
		}
		switch {
		case set != 1:
			errs = append(errs, field.Errorf(key, "set exactly one of header, query, cookie"))
		case s.Header != "" && !headerNameRE.MatchString(s.Header):
			errs = append(errs, field.Errorf(key+".header", "%q is not a header name", s.Header))
		case len(s.Header) > 1024 || len(s.Query) > 1024 || len(s.Cookie) > 1024:
			errs = append(errs, field.Errorf(key, "a name is at most 1024 characters"))
		}
	}
	if a.ClientHeader != "" && !headerNameRE.MatchString(a.ClientHeader) {
		errs = append(errs, field.Errorf("clientHeader", "%q is not a header name", a.ClientHeader))
	}
	for i, c := range a.AllowedClients {
		if !apiKeyClientRE.MatchString(c) {
			errs = append(errs, field.Errorf(fmt.Sprintf("allowedClients[%d]", i), "%q is not a client name (letters, digits, '.', '_', '@', '-')", c))
		}
	}
	return errors.Join(errs...)
}

// edge reads the key file (or takes the store-held set from sets) and gives the block's IR
// form; an error (the file cannot be read, a line is malformed, the set is not in the store) is
// a field.Error at "keys" that names lines, never keys, and code is the diagnostic reporting
// it: policy.invalid for the file, policy.keys-unavailable for a store-held set.
func (a APIKeyRule) edge(sets map[string]string) (_ *ir.APIKeyAuth, code diag.Code, _ error) {
	var creds []ir.APIKeyCredential
	if a.Keys.Store != "" {
		var err error
		if creds, err = storeEdgeCredentials(a.Keys.Store, sets); err != nil {
			return nil, diag.PolicyKeysUnavailable, field.Errorf("keys", "%v", err)
		}
	} else {
		text, _, err := a.Keys.ReadFile()
		if err != nil {
			return nil, diag.PolicyInvalid, field.Errorf("keys", "%v", err)
		}
		var problems []error
		if creds, problems = parseAPIKeys(text); len(problems) > 0 {
			errs := make([]error, len(problems))
			for i, p := range problems {
				errs[i] = field.Errorf("keys", "%s %v", a.Keys, p)
			}
			return nil, diag.PolicyInvalid, errors.Join(errs...)
		}
	}
	out := &ir.APIKeyAuth{Credentials: creds, ClientHeader: strings.ToLower(a.ClientHeader),
		HideCredentials: a.HideCredentials, AllowedClients: slices.Clone(a.AllowedClients)}
	for _, s := range a.From {
		out.Sources = append(out.Sources, ir.APIKeySource{Header: strings.ToLower(s.Header), Query: s.Query, Cookie: s.Cookie})
	}
	return out, "", nil
}

// parseAPIKeys parses a key file: "<client>: <key>" and "<client>: sha256:<hex>" lines. Problems
// name the line, never the key or the digest. A key and a digest of the same key are the same
// key twice.
func parseAPIKeys(text string) ([]ir.APIKeyCredential, []error) {
	var out []ir.APIKeyCredential
	var errs []error
	seen := map[[sha256.Size]byte]int{} // by the key's digest
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		client, key, ok := strings.Cut(line, ":")
		client, key = strings.TrimSpace(client), strings.TrimSpace(key)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("line %d: want \"<client>: <key>\"", n))
		case !apiKeyClientRE.MatchString(client):
			errs = append(errs, fmt.Errorf("line %d: the client name is not letters, digits, '.', '_', '@', '-'", n))
		case strings.HasPrefix(key, apiKeyDigestPrefix):
			digest := strings.TrimSpace(strings.TrimPrefix(key, apiKeyDigestPrefix))
			if !sha256HexRE.MatchString(digest) {
				errs = append(errs, fmt.Errorf("line %d: a hashed key is \"sha256:\" and 64 lower-case hex digits (printf %%s \"$KEY\" | sha256sum)", n))
				continue
			}
			var d [sha256.Size]byte
			_, _ = hex.Decode(d[:], []byte(digest)) // 64 hex digits: cannot fail
			if first, dup := seen[d]; dup {
				errs = append(errs, fmt.Errorf("line %d: the same key as line %d: give each its own", n, first))
				continue
			}
			seen[d] = n
			out = append(out, ir.APIKeyCredential{Client: client, Digest: digest})
		case !apiKeyRE.MatchString(key):
			errs = append(errs, fmt.Errorf("line %d: the key is empty or holds characters other than visible ASCII", n))
		case len(key) < MinAPIKeyLength:
			errs = append(errs, fmt.Errorf("line %d: the key has %d characters, want at least %d (e.g. openssl rand -hex 32)", n, len(key), MinAPIKeyLength))
		default:
			d := sha256.Sum256([]byte(key))
			if first, dup := seen[d]; dup {
				errs = append(errs, fmt.Errorf("line %d: the same key as line %d: give each its own", n, first))
				continue
			}
			seen[d] = n
			out = append(out, ir.APIKeyCredential{Client: client, Key: key})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(out) == 0 {
		return nil, []error{errors.New("holds no key")}
	}
	return out, nil
}
