package transcoding

// The cors: block of a policy: which browser origins may call the policy's routes. Emitted as
// Envoy's envoy.filters.http.cors with a per-route CorsPolicy (controlplane/edge_cors.go).

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// CORSRule is a policy's cross-origin resource sharing. A preflight from an allowed origin is
// answered 200 at the edge with the allow headers, never reaching the provider; an actual request
// from an allowed origin gets Access-Control-Allow-Origin (its own Origin), and the credentials and
// expose headers; requests from other origins get no CORS headers (the browser refuses them).
type CORSRule struct {
	// AllowOrigins are the allowed origins, each exactly one of exact, prefix, suffix or regex
	// (RE2, the whole origin), optionally ignoreCase; at least one.
	AllowOrigins []OriginMatch `yaml:"allowOrigins"`
	// AllowMethods are the methods a preflight allows (Access-Control-Allow-Methods); ["*"]
	// allows the one the preflight asks for.
	AllowMethods []string `yaml:"allowMethods,omitempty"`
	// AllowHeaders are the request headers a preflight allows (Access-Control-Allow-Headers);
	// ["*"] allows the ones the preflight asks for.
	AllowHeaders []string `yaml:"allowHeaders,omitempty"`
	// ExposeHeaders are the response headers a page may read (Access-Control-Expose-Headers).
	ExposeHeaders []string `yaml:"exposeHeaders,omitempty"`
	// MaxAge is how long a browser may cache a preflight's answer (Access-Control-Max-Age),
	// whole seconds; none is sent when it is left out.
	MaxAge *yamltime.Duration `yaml:"maxAge,omitempty"`
	// AllowCredentials lets pages send cookies and authorization
	// (Access-Control-Allow-Credentials: true).
	AllowCredentials bool `yaml:"allowCredentials,omitempty"`
	// AllowPrivateNetworkAccess answers a preflight that asks for private network access
	// (Access-Control-Request-Private-Network: true) with Access-Control-Allow-Private-Network.
	AllowPrivateNetworkAccess bool `yaml:"allowPrivateNetworkAccess,omitempty"`
}

// OriginMatch is how an allowed origin is written: exactly one of its fields but IgnoreCase.
type OriginMatch struct {
	// Exact is the whole origin ("https://app.example.com").
	Exact string `yaml:"exact,omitempty"`
	// Prefix is the origin's beginning.
	Prefix string `yaml:"prefix,omitempty"`
	// Suffix is the origin's end (".example.com").
	Suffix string `yaml:"suffix,omitempty"`
	// Regex is an RE2 expression the whole origin matches.
	Regex string `yaml:"regex,omitempty"`
	// IgnoreCase compares exact, prefix and suffix without case.
	IgnoreCase bool `yaml:"ignoreCase,omitempty"`
}

// headerToken is what a header name or method may be (RFC 9110 token).
var headerToken = regexp.MustCompile(`^[!#$%&'*+.^_|~0-9A-Za-z-]+$`)

// Validate reports every problem of the block, each a field.Error at its key.
func (c CORSRule) Validate() error {
	var errs []error
	if len(c.AllowOrigins) == 0 {
		errs = append(errs, field.Errorf("allowOrigins", "at least one origin is required"))
	}
	for i, o := range c.AllowOrigins {
		errs = append(errs, field.Under(fmt.Sprintf("allowOrigins[%d]", i), o.validate()))
	}
	for _, list := range []struct {
		key    string
		values []string
	}{{"allowMethods", c.AllowMethods}, {"allowHeaders", c.AllowHeaders}, {"exposeHeaders", c.ExposeHeaders}} {
		for i, v := range list.values {
			if !headerToken.MatchString(v) {
				errs = append(errs, field.Errorf(fmt.Sprintf("%s[%d]", list.key, i), "%q is not a token", v))
			}
		}
	}
	if c.MaxAge != nil && (c.MaxAge.Std() < 0 || c.MaxAge.Std()%time.Second != 0) {
		errs = append(errs, field.Errorf("maxAge", "%s is not a whole number of seconds", c.MaxAge.Std()))
	}
	return errors.Join(errs...)
}

// validate reports the problems of one origin matcher.
func (o OriginMatch) validate() error {
	set := 0
	for _, s := range []string{o.Exact, o.Prefix, o.Suffix, o.Regex} {
		if s != "" {
			set++
		}
	}
	switch {
	case set != 1:
		return errors.New("exactly one of exact, prefix, suffix and regex is required")
	case o.Regex != "" && o.IgnoreCase:
		return field.Errorf("ignoreCase", "does not apply to regex (write (?i) in it)")
	case o.Regex != "":
		if _, err := regexp.Compile(o.Regex); err != nil {
			return field.Errorf("regex", "%v", err)
		}
	}
	return nil
}

// ir is the IR form of the block.
func (c CORSRule) ir() *ir.CORS {
	out := &ir.CORS{AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders, ExposeHeaders: c.ExposeHeaders,
		AllowCredentials: c.AllowCredentials, AllowPrivateNetworkAccess: c.AllowPrivateNetworkAccess}
	if c.MaxAge != nil {
		out.MaxAge = c.MaxAge.Std()
	}
	for _, o := range c.AllowOrigins {
		out.AllowOrigins = append(out.AllowOrigins, ir.StringMatch(o))
	}
	return out
}
