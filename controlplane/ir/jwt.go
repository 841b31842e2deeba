package ir

// JWT is a policy's JSON Web Token authentication. Envoy: envoy.filters.http.jwt_authn, one
// JwtProvider per provider (named "<policy>/<provider>") and a requirement_map entry named after
// the policy that each of its routes selects with a per-route PerRouteConfig.requirement_name.
type JWT struct {
	// Providers are the token issuers the policy accepts; a request passes with a valid token of
	// any of them (requires_any; provider_name when there is one).
	Providers []JWTProvider `json:"providers" yaml:"providers"`
	// AllowMissing lets a request without any token through unauthenticated (a requires_any
	// entry allow_missing); a token that is present must still be valid.
	AllowMissing bool `json:"allowMissing,omitempty" yaml:"allowMissing,omitempty"`
}

// JWTProvider is one token issuer. Envoy: JwtProvider.
type JWTProvider struct {
	// Name is unique within the policy (the Envoy provider is "<policy>/<name>").
	Name string `json:"name" yaml:"name"`
	// Issuer is the token's required iss claim; empty accepts any issuer (issuer).
	Issuer string `json:"issuer,omitempty" yaml:"issuer,omitempty"`
	// Audiences are the aud values accepted; empty accepts any (audiences).
	Audiences []string `json:"audiences,omitempty" yaml:"audiences,omitempty"`
	// JWKSSource names where the keys come from (a file path or URL), for diagnostics.
	JWKSSource string `json:"jwksSource,omitempty" yaml:"jwksSource,omitempty"`
	// JWKS is the JSON Web Key Set the tokens are verified with, as last read or fetched from
	// JWKSSource by the stage that holds the keys (local_jwks.inline_string). Empty means no
	// good key set is known yet: the route cannot be served and is withheld.
	JWKS string `json:"jwks,omitempty" yaml:"jwks,omitempty"`
	// ClockSkewSeconds is the leeway on exp and nbf; 0 means Envoy's 60 (clock_skew_seconds).
	ClockSkewSeconds uint32 `json:"clockSkewSeconds,omitempty" yaml:"clockSkewSeconds,omitempty"`
	// FromHeaders, FromParams and FromCookies are where the token is read from; all empty
	// means Envoy's default, "Authorization: Bearer <token>" and the access_token query
	// parameter (from_headers, from_params, from_cookies).
	FromHeaders []JWTHeader `json:"fromHeaders,omitempty" yaml:"fromHeaders,omitempty"`
	FromParams  []string    `json:"fromParams,omitempty" yaml:"fromParams,omitempty"`
	FromCookies []string    `json:"fromCookies,omitempty" yaml:"fromCookies,omitempty"`
	// Forward keeps the token header on the request sent upstream; false removes it (forward).
	Forward bool `json:"forward,omitempty" yaml:"forward,omitempty"`
	// ClaimHeaders copy claims of a verified token into request headers (claim_to_headers),
	// sorted by header.
	ClaimHeaders []JWTClaimHeader `json:"claimHeaders,omitempty" yaml:"claimHeaders,omitempty"`
}

// JWTHeader is a request header a token is read from. Envoy: JwtHeader.
type JWTHeader struct {
	// Name is the header name, lower case (name).
	Name string `json:"name" yaml:"name"`
	// ValuePrefix precedes the token in the value, e.g. "Bearer " (value_prefix).
	ValuePrefix string `json:"valuePrefix,omitempty" yaml:"valuePrefix,omitempty"`
}

// JWTClaimHeader copies one claim into a request header. Envoy: JwtClaimToHeader.
type JWTClaimHeader struct {
	// Claim is the claim's name; nested claims are separated by dots (claim_name).
	Claim string `json:"claim" yaml:"claim"`
	// Header is the request header, lower case (header_name).
	Header string `json:"header" yaml:"header"`
}
