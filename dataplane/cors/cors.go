// Package cors executes Envoy's CORS filter (envoy.filters.http.cors) from its per-route
// configuration, envoy.extensions.filters.http.cors.v3.CorsPolicy, with the semantics of
// Envoy's source/extensions/filters/http/cors/cors_filter.cc:
//
//   - The policies are the route's and its virtual host's, most specific first; each setting is
//     the first policy's that sets it (allowOrigins(), allowMethods(), ...), and whether the
//     filter is enabled is the most specific policy's (filter_enabled, default 100 %).
//   - A request without a non-empty Origin, or on a disabled policy, passes untouched.
//   - A preflight (OPTIONS, a non-empty Origin and a non-empty Access-Control-Request-Method) is
//     answered 200 by the filter: Access-Control-Allow-Origin echoing the Origin when the origin
//     is allowed, Allow-Credentials, Allow-Methods (or the requested method for "*"),
//     Allow-Headers (or the requested headers for "*"), Max-Age and Allow-Private-Network as
//     configured. A preflight from an origin that is not allowed is passed on instead when
//     forward_not_matching_preflights is true (Envoy's default), else answered 200 in the same
//     way, without Allow-Origin, so the browser refuses it.
//   - Any other request from an allowed origin gets Access-Control-Allow-Origin (its Origin),
//     Allow-Credentials and Expose-Headers on its response, whoever answers it; a request from an
//     origin that is not allowed is not refused, it just gets none (encodeHeaders). The filter's
//     encodeHeaders also runs on the preflight answer it sends itself (filter_manager.cc:
//     ActiveStreamDecoderFilter::encodeHeaders starts the encoder chain from its first filter),
//     so an allowed origin's preflight answer carries Expose-Headers too.
//
// Envoy sends no Vary header, and neither does the gateway.
package cors

import (
	"fmt"
	"net/http"

	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/rpcbridge/rpcbridge/dataplane/fraction"
)

// The CORS headers.
const (
	headerOrigin                       = "Origin"
	headerRequestMethod                = "Access-Control-Request-Method"
	headerRequestHeaders               = "Access-Control-Request-Headers"
	headerRequestPrivateNetwork        = "Access-Control-Request-Private-Network"
	headerAllowOrigin                  = "Access-Control-Allow-Origin"
	headerAllowCredentials             = "Access-Control-Allow-Credentials"
	headerAllowMethods                 = "Access-Control-Allow-Methods"
	headerAllowHeaders                 = "Access-Control-Allow-Headers"
	headerMaxAge                       = "Access-Control-Max-Age"
	headerExposeHeaders                = "Access-Control-Expose-Headers"
	headerAllowPrivateNetwork          = "Access-Control-Allow-Private-Network"
	valueTrue                          = "true"
	wildcard                           = "*"
	preflightMethod                    = http.MethodOptions
	defaultForwardNotMatchingPreflight = true
)

// StringMatcherCompiler compiles an Envoy StringMatcher into a predicate, with the gateway's one
// implementation of Envoy's matching (routetable's).
type StringMatcherCompiler func(*matcherv3.StringMatcher) (func(string) bool, error)

// policy is one decoded CorsPolicy; nil pointers are settings it leaves to the next policy.
type policy struct {
	enabled                   bool
	origins                   []func(string) bool
	allowMethods              string
	allowHeaders              string
	exposeHeaders             string
	maxAge                    string
	allowCredentials          *bool
	allowPrivateNetworkAccess *bool
	forwardNotMatching        *bool
}

// Filter is the CORS filter of one route: its policies, most specific first.
type Filter struct {
	policies []policy
}

// New decodes the route's policies, most specific first (nil entries are skipped); it returns
// nil when there is none, then the filter does nothing for the route.
func New(compile StringMatcherCompiler, configs ...*corsv3.CorsPolicy) (*Filter, error) {
	f := &Filter{}
	for _, c := range configs {
		if c == nil {
			continue
		}
		p, err := decode(compile, c)
		if err != nil {
			return nil, err
		}
		f.policies = append(f.policies, p)
	}
	if len(f.policies) == 0 {
		return nil, nil
	}
	return f, nil
}

// decode decodes one CorsPolicy.
func decode(compile StringMatcherCompiler, c *corsv3.CorsPolicy) (policy, error) {
	enabled, err := fraction.AllOrNothing(c.GetFilterEnabled(), true)
	if err != nil {
		return policy{}, fmt.Errorf("filter_enabled: %w", err)
	}
	p := policy{
		enabled:       enabled,
		allowMethods:  c.GetAllowMethods(),
		allowHeaders:  c.GetAllowHeaders(),
		exposeHeaders: c.GetExposeHeaders(),
		maxAge:        c.GetMaxAge(),
	}
	if v := c.GetAllowCredentials(); v != nil {
		p.allowCredentials = &v.Value
	}
	if v := c.GetAllowPrivateNetworkAccess(); v != nil {
		p.allowPrivateNetworkAccess = &v.Value
	}
	if v := c.GetForwardNotMatchingPreflights(); v != nil {
		p.forwardNotMatching = &v.Value
	}
	for i, m := range c.GetAllowOriginStringMatch() {
		match, err := compile(m)
		if err != nil {
			return policy{}, fmt.Errorf("allow_origin_string_match[%d]: %w", i, err)
		}
		p.origins = append(p.origins, match)
	}
	return p, nil
}

// Serve implements the gateway's edge step: it answers a preflight, or sets the CORS headers of
// the request's response and lets it continue.
func (f *Filter) Serve(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if !f.policies[0].enabled {
		return r, true
	}
	origin := r.Header.Get(headerOrigin)
	if origin == "" {
		return r, true
	}
	allowed := f.originAllowed(origin)
	if r.Method != preflightMethod || r.Header.Get(headerRequestMethod) == "" {
		if allowed {
			f.responseHeaders(w.Header(), origin)
		}
		return r, true
	}
	if !allowed && f.forwardNotMatchingPreflights() {
		return r, true
	}
	h := w.Header()
	if allowed {
		h.Set(headerAllowOrigin, origin)
	}
	if f.allowCredentials() {
		h.Set(headerAllowCredentials, valueTrue)
	}
	if m := f.first(func(p policy) string { return p.allowMethods }); m == wildcard {
		h.Set(headerAllowMethods, r.Header.Get(headerRequestMethod))
	} else if m != "" {
		h.Set(headerAllowMethods, m)
	}
	if a := f.first(func(p policy) string { return p.allowHeaders }); a == wildcard {
		h.Set(headerAllowHeaders, r.Header.Get(headerRequestHeaders))
	} else if a != "" {
		h.Set(headerAllowHeaders, a)
	}
	if age := f.first(func(p policy) string { return p.maxAge }); age != "" {
		h.Set(headerMaxAge, age)
	}
	if f.allowPrivateNetworkAccess() && r.Header.Get(headerRequestPrivateNetwork) == valueTrue {
		h.Set(headerAllowPrivateNetwork, valueTrue)
	}
	if allowed {
		f.responseHeaders(h, origin)
	}
	w.WriteHeader(http.StatusOK)
	return r, false
}

// ResponseDetails implements the gateway's routetable.Answering: Envoy's details of a preflight
// the filter answered.
func (f *Filter) ResponseDetails() string { return "cors_response" }

// responseHeaders are the headers of a response to a request from an allowed origin
// (encodeHeaders).
func (f *Filter) responseHeaders(h http.Header, origin string) {
	h.Set(headerAllowOrigin, origin)
	if f.allowCredentials() {
		h.Set(headerAllowCredentials, valueTrue)
	}
	if e := f.first(func(p policy) string { return p.exposeHeaders }); e != "" {
		h.Set(headerExposeHeaders, e)
	}
}

// originAllowed: an origin is allowed when a matcher of the first policy that has any matches
// it, or matches "*" (isOriginAllowed).
func (f *Filter) originAllowed(origin string) bool {
	for _, p := range f.policies {
		if len(p.origins) == 0 {
			continue
		}
		for _, m := range p.origins {
			if m(wildcard) || m(origin) {
				return true
			}
		}
		return false
	}
	return false
}

// first is the first non-empty value of a string setting.
func (f *Filter) first(get func(policy) string) string {
	for _, p := range f.policies {
		if v := get(p); v != "" {
			return v
		}
	}
	return ""
}

// firstBool is the first set value of a boolean setting, else def.
func (f *Filter) firstBool(get func(policy) *bool, def bool) bool {
	for _, p := range f.policies {
		if v := get(p); v != nil {
			return *v
		}
	}
	return def
}

// allowCredentials is allowCredentials(): false unless a policy sets it.
func (f *Filter) allowCredentials() bool {
	return f.firstBool(func(p policy) *bool { return p.allowCredentials }, false)
}

// allowPrivateNetworkAccess is allowPrivateNetworkAccess(): false unless a policy sets it.
func (f *Filter) allowPrivateNetworkAccess() bool {
	return f.firstBool(func(p policy) *bool { return p.allowPrivateNetworkAccess }, false)
}

// forwardNotMatchingPreflights is forwardNotMatchingPreflights(): true unless a policy sets it.
func (f *Filter) forwardNotMatchingPreflights() bool {
	return f.firstBool(func(p policy) *bool { return p.forwardNotMatching }, defaultForwardNotMatchingPreflight)
}
