package ir

// EdgePolicy is what a route requires of a request before the request goes upstream, and how the
// route's traffic is split: the resolved policies: entry the route references (or its service's).
// Each block has the semantics of the Envoy HTTP filter it is emitted as, named in its doc
// comment; the embedded gateway executes that filter's configuration, never this type, so Envoy
// and the gateway cannot drift. A block that cannot be translated withholds the route (fail
// closed): it is answered 503, never served without the block.
type EdgePolicy struct {
	// Name is the policy's name (policies[].name), for diagnostics and route metadata.
	Name string `json:"name" yaml:"name"`
	// IdentityHeaders are the request headers the policy's authentication sets for the provider
	// (chosen JWT claims, the API key's client name, the client address), lower case, sorted.
	// A client can never set them itself: they are removed from every request of the route
	// before authentication runs (Envoy's envoy.filters.http.header_mutation, per route). They
	// reach gRPC providers as metadata and Dubbo providers as attachments.
	IdentityHeaders []string `json:"identityHeaders,omitempty" yaml:"identityHeaders,omitempty"`
	// ClientAddressHeader, when set, is the identity header set to the client's address as the
	// connection manager trusts it, without the port (Envoy's
	// %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%, appended by the same header_mutation that
	// removes the client's copies), lower case.
	ClientAddressHeader string `json:"clientAddressHeader,omitempty" yaml:"clientAddressHeader,omitempty"`
	// CORS, when set, is the route's cross-origin resource sharing (envoy.filters.http.cors).
	CORS *CORS `json:"cors,omitempty" yaml:"cors,omitempty"`
	// RateLimit, when set, is the route's local rate limit (envoy.filters.http.local_ratelimit).
	RateLimit *RateLimit `json:"rateLimit,omitempty" yaml:"rateLimit,omitempty"`
	// JWT is the policy's token authentication (envoy.filters.http.jwt_authn); nil means none.
	JWT *JWT `json:"jwt,omitempty" yaml:"jwt,omitempty"`
	// APIKey, when set, authenticates the route's requests by an API key (Envoy's
	// envoy.filters.http.api_key_auth).
	APIKey *APIKeyAuth `json:"apiKey,omitempty" yaml:"apiKey,omitempty"`
}
