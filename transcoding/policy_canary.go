package transcoding

// The canary block of a policy: which endpoints of a route's service are the canary (by their
// labels) and which requests go to them (a share by weight, every request with a header or a
// cookie), or Dubbo tag routing with Dubbo's semantics. It is not an HTTP filter: canary.go
// turns it into subset clusters and routes.

import (
	"cmp"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/internal/field"
)

// Canary splits a route's traffic onto a subset of its service's endpoints. Set Subset with
// any of Weight, Header and Cookie, or DubboTag alone.
type Canary struct {
	// Subset selects the canary endpoints by their labels: an endpoint is in it when it has
	// every label with the value given. Labels are what the registries set: "version",
	// "group", "application", "dubbo.tag" (Dubbo URL parameters), "tags" (Consul's tags,
	// comma-joined; the value matches when it is one of them), "meta.<key>" (Consul
	// metadata), "zone", "region" (the endpoint's locality), "rpcbridge.io/source" (the
	// registry's name), or those of a static registry's endpoints.
	Subset map[string]string `yaml:"subset,omitempty"`
	// Weight is the percentage (0 to 100) of the route's requests, other than those Header or
	// Cookie select, that go to the subset; the others go to the rest of the endpoints.
	Weight int `yaml:"weight,omitempty"`
	// Header sends every request that has this header with this value to the subset.
	Header *CanaryMatch `yaml:"header,omitempty"`
	// Cookie sends every request that has this cookie with this value to the subset.
	Cookie *CanaryMatch `yaml:"cookie,omitempty"`
	// DubboTag routes requests by their Dubbo tag, as Dubbo's tag router does: a request
	// tagged T goes to the providers whose dubbo.tag is T, else (none is) to the untagged
	// ones unless it forces its tag (then 503); an untagged request goes to the untagged
	// providers only.
	DubboTag *DubboTagRouting `yaml:"dubboTag,omitempty"`
}

// CanaryMatch is a request condition: a header or cookie with a value.
type CanaryMatch struct {
	// Name is the header's name (any case) or the cookie's (exact).
	Name string `yaml:"name"`
	// Value is the value it must have, exactly.
	Value string `yaml:"value"`
}

// DubboTagRouting is where a request's Dubbo tag and force flag come from.
type DubboTagRouting struct {
	// Header is the request header that carries the tag (Dubbo's dubbo.tag attachment);
	// empty means x-dubbo-tag. Dubbo routes forward it as the dubbo.tag attachment.
	Header string `yaml:"header,omitempty"`
	// ForceHeader is the request header whose value "true" (any case) forces the tag: with no
	// provider of that tag the request fails (503) instead of going to the untagged ones
	// (Dubbo's dubbo.force.tag attachment, as which Dubbo routes forward it); empty means
	// x-dubbo-force-tag.
	ForceHeader string `yaml:"forceHeader,omitempty"`
	// Force is the flag of requests without ForceHeader (a Dubbo consumer's dubbo.force.tag
	// parameter); default false.
	Force bool `yaml:"force,omitempty"`
}

// The default headers of Dubbo tag routing.
const (
	DefaultDubboTagHeader      = "x-dubbo-tag"
	DefaultDubboForceTagHeader = "x-dubbo-force-tag"
)

// DubboTagLabel is the endpoint label that holds a Dubbo provider's tag (its URL's dubbo.tag
// parameter).
const DubboTagLabel = "dubbo.tag"

// labelKeyRE is what a subset's label key may be (no "!" or "~": they separate subset cluster
// names).
var labelKeyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,252}$`)

// tokenRE is an HTTP header name (an RFC 9110 token).
var tokenRE = regexp.MustCompile(`^[!#$%&'*+.^_|~0-9A-Za-z-]+$`)

// headerValueRE is a non-empty header value that a client can send as it is: visible
// characters with inner spaces (RFC 9110 field-value, no leading or trailing whitespace).
var headerValueRE = regexp.MustCompile(`^[\x21-\x7E]([\x20-\x7E]*[\x21-\x7E])?$`)

// cookieValueRE is what a cookie value may be (RFC 6265 cookie-octets).
var cookieValueRE = regexp.MustCompile(`^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$`)

// Validate reports every problem of the block, each a field.Error at its key, joined.
func (c Canary) Validate() error {
	if c.DubboTag != nil {
		return c.validateDubboTag()
	}
	return c.validateSplit()
}

// validateDubboTag checks a Dubbo tag routing block, which stands alone.
func (c Canary) validateDubboTag() error {
	var errs []error
	if len(c.Subset) > 0 || c.Weight != 0 || c.Header != nil || c.Cookie != nil {
		errs = append(errs, field.Errorf("dubboTag", "dubboTag selects its subsets itself: it cannot be combined with subset, weight, header or cookie"))
	}
	if h := c.DubboTag.Header; h != "" && (!tokenRE.MatchString(h) || isReservedHeader(h)) {
		errs = append(errs, field.Errorf("dubboTag.header", "%q is not an HTTP header name a client may set", h))
	}
	if h := c.DubboTag.ForceHeader; h != "" && (!tokenRE.MatchString(h) || isReservedHeader(h)) {
		errs = append(errs, field.Errorf("dubboTag.forceHeader", "%q is not an HTTP header name a client may set", h))
	}
	if tag, force := c.DubboTag.headers(); tag == force {
		errs = append(errs, field.Errorf("dubboTag.forceHeader", "the tag and the force flag need different headers"))
	}
	return errors.Join(errs...)
}

// validateSplit checks a canary: its subset and what sends requests to it.
func (c Canary) validateSplit() error {
	var errs []error
	if len(c.Subset) == 0 {
		errs = append(errs, field.Errorf("subset", "a canary needs a subset: the labels of its endpoints (or use dubboTag)"))
	}
	for _, k := range slices.Sorted(maps.Keys(c.Subset)) {
		if !labelKeyRE.MatchString(k) {
			errs = append(errs, field.Errorf("subset", "%q is not a label name (letters, digits, '.', '_', '/', '-')", k))
		}
		if c.Subset[k] == "" {
			errs = append(errs, field.Errorf("subset."+k, "empty label value"))
		}
	}
	if c.Weight < 0 || c.Weight > 100 {
		errs = append(errs, field.Errorf("weight", "%d is not a percentage (0 to 100)", c.Weight))
	}
	if c.Weight == 0 && c.Header == nil && c.Cookie == nil {
		errs = append(errs, field.Errorf("weight", "the canary sends no request to its subset: set weight, header or cookie"))
	}
	if h := c.Header; h != nil {
		if !tokenRE.MatchString(h.Name) {
			errs = append(errs, field.Errorf("header.name", "%q is not an HTTP header name", h.Name))
		} else if isReservedHeader(h.Name) {
			errs = append(errs, field.Errorf("header.name", "%q cannot select a canary", h.Name))
		}
		if !headerValueRE.MatchString(h.Value) {
			errs = append(errs, field.Errorf("header.value", "%q is not a header value (visible characters and inner spaces)", h.Value))
		}
	}
	if k := c.Cookie; k != nil {
		if !tokenRE.MatchString(k.Name) {
			errs = append(errs, field.Errorf("cookie.name", "%q is not a cookie name", k.Name))
		}
		if !cookieValueRE.MatchString(k.Value) {
			errs = append(errs, field.Errorf("cookie.value", "%q is not a cookie value (RFC 6265)", k.Value))
		}
	}
	return errors.Join(errs...)
}

// isReservedHeader: headers the connection manager owns or rewrites before routing.
func isReservedHeader(name string) bool {
	switch strings.ToLower(name) {
	case "host", "cookie", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "x-envoy-internal":
		return true
	}
	return false
}

// headers are the effective (lower-case) headers of tag routing.
func (t DubboTagRouting) headers() (tag, force string) {
	return strings.ToLower(cmp.Or(t.Header, DefaultDubboTagHeader)), strings.ToLower(cmp.Or(t.ForceHeader, DefaultDubboForceTagHeader))
}
