package ir

import "time"

// CORS is a policy's cross-origin resource sharing: Envoy's envoy.filters.http.cors in the
// connection manager with a per-route envoy.extensions.filters.http.cors.v3.CorsPolicy. A
// preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered at the edge; an
// actual request from an allowed origin gets the allow-origin (echoing its Origin), credentials
// and expose headers on its response; a request from any other origin passes unchanged.
type CORS struct {
	// AllowOrigins are the origins allowed (allow_origin_string_match); at least one.
	AllowOrigins []StringMatch `json:"allowOrigins" yaml:"allowOrigins"`
	// AllowMethods are sent as Access-Control-Allow-Methods (allow_methods, joined with ",");
	// "*" echoes the preflight's Access-Control-Request-Method.
	AllowMethods []string `json:"allowMethods,omitempty" yaml:"allowMethods,omitempty"`
	// AllowHeaders are sent as Access-Control-Allow-Headers (allow_headers); "*" echoes the
	// preflight's Access-Control-Request-Headers.
	AllowHeaders []string `json:"allowHeaders,omitempty" yaml:"allowHeaders,omitempty"`
	// ExposeHeaders are sent as Access-Control-Expose-Headers on actual responses
	// (expose_headers).
	ExposeHeaders []string `json:"exposeHeaders,omitempty" yaml:"exposeHeaders,omitempty"`
	// MaxAge is sent as Access-Control-Max-Age in whole seconds (max_age); zero sends none.
	MaxAge time.Duration `json:"maxAge,omitempty" yaml:"maxAge,omitempty"`
	// AllowCredentials sends Access-Control-Allow-Credentials: true (allow_credentials).
	AllowCredentials bool `json:"allowCredentials,omitempty" yaml:"allowCredentials,omitempty"`
	// AllowPrivateNetworkAccess answers a preflight's Access-Control-Request-Private-Network:
	// true with Access-Control-Allow-Private-Network: true (allow_private_network_access).
	AllowPrivateNetworkAccess bool `json:"allowPrivateNetworkAccess,omitempty" yaml:"allowPrivateNetworkAccess,omitempty"`
}

// StringMatch is Envoy's type.matcher.v3.StringMatcher: exactly one of Exact, Prefix, Suffix and
// Regex (RE2, matching the whole value), optionally ignoring case (ignore_case, not for Regex).
type StringMatch struct {
	Exact      string `json:"exact,omitempty" yaml:"exact,omitempty"`
	Prefix     string `json:"prefix,omitempty" yaml:"prefix,omitempty"`
	Suffix     string `json:"suffix,omitempty" yaml:"suffix,omitempty"`
	Regex      string `json:"regex,omitempty" yaml:"regex,omitempty"`
	IgnoreCase bool   `json:"ignoreCase,omitempty" yaml:"ignoreCase,omitempty"`
}
