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
	// Credentials are the accepted keys and their clients (credentials). A key is secret: it
	// is never written when the IR is marshalled (JSON or YAML), only its client.
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

// APIKeyCredential is one accepted key and the client it identifies (Envoy's Credential).
type APIKeyCredential struct {
	// Client is the client's name, which ClientHeader carries upstream.
	Client string `json:"client" yaml:"client"`
	// Key is the key itself. It is never marshalled: see MarshalJSON.
	Key string `json:"key" yaml:"key"`
}

// RedactedKey is what a marshalled APIKeyCredential shows in place of its key.
const RedactedKey = "[redacted]"

// MarshalJSON writes the credential with its key redacted, so that the IR (the admin API,
// diagnostics, dumps) never shows a key.
func (c APIKeyCredential) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Client string `json:"client"`
		Key    string `json:"key"`
	}{c.Client, RedactedKey})
}

// MarshalYAML is MarshalJSON for YAML (gopkg.in/yaml.v3's Marshaler).
func (c APIKeyCredential) MarshalYAML() (any, error) {
	return map[string]string{"client": c.Client, "key": RedactedKey}, nil
}
