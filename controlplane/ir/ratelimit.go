package ir

import "time"

// RateLimit is a policy's local rate limit: Envoy's envoy.filters.http.local_ratelimit in the
// connection manager with a per-route
// envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit (filter_enabled and
// filter_enforced at 100 %, x-ratelimit-* headers DRAFT_VERSION_03, Retry-After on 429). Every
// request of the route takes a token from Bucket, and from its client's bucket for each of
// PerClient whose key the request has; without a token it is answered 429
// "local_rate_limited".
type RateLimit struct {
	// Bucket is the route's token bucket, shared by all its clients (token_bucket).
	Bucket TokenBucket `json:"bucket" yaml:"bucket"`
	// PerClient are the per-client buckets: each is a wildcard descriptor (an entry without a
	// value) with its rate_limits action, so that each value of its key gets a bucket of its own.
	PerClient []ClientRateLimit `json:"perClient,omitempty" yaml:"perClient,omitempty"`
	// MaxClients bounds how many client buckets each PerClient entry keeps, the least recently
	// used going first (max_dynamic_descriptors).
	MaxClients uint32 `json:"maxClients,omitempty" yaml:"maxClients,omitempty"`
}

// TokenBucket is Envoy's type.v3.TokenBucket: it starts full with MaxTokens and gains
// TokensPerFill every FillInterval (continuously, as Envoy's atomic token bucket does), never
// above MaxTokens.
type TokenBucket struct {
	MaxTokens     uint32        `json:"maxTokens" yaml:"maxTokens"`
	TokensPerFill uint32        `json:"tokensPerFill" yaml:"tokensPerFill"`
	FillInterval  time.Duration `json:"fillInterval" yaml:"fillInterval"`
}

// ClientKey is what identifies a client for a per-client bucket.
type ClientKey string

// The client keys.
const (
	// ClientIP keys on the client's address as the connection manager trusts it (the
	// remote_address rate limit action).
	ClientIP ClientKey = "clientIP"
	// ClientHeader keys on a request header's value (the request_headers action), such as an
	// identity header the policy's authentication sets; a request without it has no such bucket.
	ClientHeader ClientKey = "header"
)

// ClientRateLimit is one per-client bucket.
type ClientRateLimit struct {
	// Key is what tells clients apart.
	Key ClientKey `json:"key" yaml:"key"`
	// Header is the request header of ClientHeader, lower case.
	Header string `json:"header,omitempty" yaml:"header,omitempty"`
	// Bucket is each client's token bucket (the descriptor's token_bucket).
	Bucket TokenBucket `json:"bucket" yaml:"bucket"`
}
