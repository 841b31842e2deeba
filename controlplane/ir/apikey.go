package ir

import "encoding/json"

// APIKeyAuth authenticates a request by an API key and names its client: Envoy's
// envoy.filters.http.api_key_auth, emitted per route as an ApiKeyAuthPerRoute (credentials,
// key_sources, forwarding, allowed_clients). A request without a key, or with a key that is not
// one of Credentials, is answered 401; one whose client is not in AllowedClients 403.
type APIKeyAuth struct {
	// Sources are where the key is read from, in order; the first source that yields a
	// non-empty key is the one used (key_sources).
	Sources []APIKeySource `json:"sources" yaml:"sources"`
	// Credentials are the accepted keys and their clients (credentials). A key, and a key's
	// digest, is secret: neither is ever written when the IR is marshalled (JSON or YAML), only
	// the client.
	Credentials []APIKeyCredential `json:"credentials" yaml:"credentials"`
	// ClientHeader, when set, is the request header the authenticated client's name is put in
	// for the provider (forwarding.header), lower case; it is one of the policy's
	// IdentityHeaders.
	ClientHeader string `json:"clientHeader,omitempty" yaml:"clientHeader,omitempty"`
	// HideCredentials removes the key from the request (every source: header, query
	// parameter, cookie) before it goes upstream (forwarding.hide_credentials).
	HideCredentials bool `json:"hideCredentials,omitempty" yaml:"hideCredentials,omitempty"`
	// AllowedClients, when set, are the only clients the route accepts; any other
	// authenticated client is answered 403 (allowed_clients).
	AllowedClients []string `json:"allowedClients,omitempty" yaml:"allowedClients,omitempty"`
}

// APIKeySource is one place a key is read from: exactly one of its fields is set (Envoy's
// KeySource: header, query, cookie).
type APIKeySource struct {
	// Header is a request header; its first value is the key, without a "Bearer " prefix.
	Header string `json:"header,omitempty" yaml:"header,omitempty"`
	// Query is a query parameter; its first value is the key.
	Query string `json:"query,omitempty" yaml:"query,omitempty"`
	// Cookie is a cookie; its value is the key.
	Cookie string `json:"cookie,omitempty" yaml:"cookie,omitempty"`
}

// APIKeyCredential is one accepted key and the client it identifies (Envoy's Credential):
// exactly one of Key and Digest is set.
type APIKeyCredential struct {
	// Client is the client's name, which ClientHeader carries upstream.
	Client string `json:"client" yaml:"client"`
	// Key is the key itself. It is never marshalled: see MarshalJSON.
	Key string `json:"key,omitempty" yaml:"key,omitempty"`
	// Digest is the SHA-256 of the key, 64 lower-case hex digits, when the key file holds that
	// instead of the key (a hashed key). Only rpcbridge's gateways can verify a digest (the
	// contract's APIKeyDigestAuthFilter); Envoy's api_key_auth cannot, so the Envoy flavors
	// withhold a route whose credentials hold one. It is never marshalled either.
	Digest string `json:"digest,omitempty" yaml:"digest,omitempty"`
}

// HasDigests reports whether some credential of a is a digest.
func (a *APIKeyAuth) HasDigests() bool {
	if a == nil {
		return false
	}
	for _, c := range a.Credentials {
		if c.Digest != "" {
			return true
		}
	}
	return false
}

// RedactedKey is what a marshalled APIKeyCredential shows in place of its key.
const RedactedKey = "[redacted]"

// MarshalJSON writes the credential with its key (or digest) redacted, so that the IR (the
// admin API, diagnostics, dumps) never shows a key or a digest.
func (c APIKeyCredential) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.redacted())
}

// MarshalYAML is MarshalJSON for YAML (gopkg.in/yaml.v3's Marshaler).
func (c APIKeyCredential) MarshalYAML() (any, error) {
	return c.redacted(), nil
}

// redacted is what a marshalled credential shows: the client, and "key" or, for a hashed key,
// "digest" as RedactedKey.
func (c APIKeyCredential) redacted() map[string]string {
	if c.Digest != "" {
		return map[string]string{"client": c.Client, "digest": RedactedKey}
	}
	return map[string]string{"client": c.Client, "key": RedactedKey}
}
