package transcoding

// The jwt block of a policy: JSON Web Token authentication with the semantics of Envoy's
// envoy.filters.http.jwt_authn. Key sets come from files or URLs; the stage that reads and
// fetches them (package jwks, wired in cmd/rpcbridge) hands the latest good ones to Build in
// Rules.KeySets, so that Build stays pure and the IR carries the keys inline (local_jwks), the
// way Istio's pilot inlines the jwks_uri it fetched (istio/istio pilot/pkg/model/jwks_resolver.go).

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// JWTRule is a policy's token authentication: a request must carry a valid token of one of the
// providers (unless AllowMissing and it carries none).
type JWTRule struct {
	// Providers are the token issuers the policy accepts; a token of any of them passes.
	Providers []JWTProviderRule `yaml:"providers"`
	// AllowMissing lets requests without a token through unauthenticated (jwt_authn's
	// allow_missing, e.g. for anonymous callers under a rate limit); a token that is present must
	// still be valid.
	AllowMissing bool `yaml:"allowMissing,omitempty"`
}

// JWTProviderRule is one token issuer of a policy.
type JWTProviderRule struct {
	// Name identifies the provider within the policy: lower-case letters, digits and dashes.
	Name string `yaml:"name"`
	// Issuer is the iss claim tokens must carry; empty accepts any issuer.
	Issuer string `yaml:"issuer,omitempty"`
	// Audiences are the aud values accepted (one is enough); empty accepts any.
	Audiences []string `yaml:"audiences,omitempty"`
	// JWKS is where the public keys the tokens are verified with come from.
	JWKS JWKSSource `yaml:"jwks"`
	// ClockSkew is the leeway on exp and nbf, in whole seconds; 0 means 60s (Envoy's default).
	ClockSkew yamltime.Duration `yaml:"clockSkew,omitempty"`
	// FromHeaders are request headers the token is read from, each with the prefix before the
	// token. With none of fromHeaders, fromParams and fromCookies the token is read from
	// "Authorization: Bearer <token>" and the access_token query parameter.
	FromHeaders []JWTHeaderRule `yaml:"fromHeaders,omitempty"`
	// FromParams are query parameters the token is read from.
	FromParams []string `yaml:"fromParams,omitempty"`
	// FromCookies are cookies the token is read from.
	FromCookies []string `yaml:"fromCookies,omitempty"`
	// Forward keeps the token's header on the request sent upstream; by default it is removed.
	Forward bool `yaml:"forward,omitempty"`
	// ClaimHeaders copy claims of a verified token into request headers (claim: header; nested
	// claims with dots, "realm.role"): strings as they are, numbers and booleans as text, other
	// values not at all. The headers are the policy's identity headers: a client's own copies are
	// removed, and Dubbo providers get them as attachments, gRPC providers as metadata.
	ClaimHeaders map[string]string `yaml:"claimHeaders,omitempty"`
}

// JWTHeaderRule is a header a token is read from.
type JWTHeaderRule struct {
	// Name is the header's name.
	Name string `yaml:"name"`
	// ValuePrefix is what precedes the token in the value ("Bearer "); empty means the whole value.
	ValuePrefix string `yaml:"valuePrefix,omitempty"`
}

// JWKSSource is where a provider's JSON Web Key Set comes from: exactly one of a file and a URL.
type JWKSSource struct {
	// File is a JWKS file, re-read when it changes (checked every refresh).
	File string `yaml:"file,omitempty"`
	// URL is an http(s) URL the key set is fetched from, every refresh; a failed fetch or a bad
	// key set keeps the last good keys.
	URL string `yaml:"url,omitempty"`
	// Refresh is how often the file is checked or the URL fetched; 0 means 5s for a file, 5m for
	// a URL.
	Refresh yamltime.Duration `yaml:"refresh,omitempty"`
	// Timeout bounds one fetch of the URL; 0 means 5s.
	Timeout yamltime.Duration `yaml:"timeout,omitempty"`
}

// Default refresh intervals and fetch timeout of a JWKSSource.
const (
	DefaultJWKSFileRefresh = 5 * time.Second
	DefaultJWKSURLRefresh  = 5 * time.Minute
	DefaultJWKSTimeout     = 5 * time.Second
)

// Key identifies the source among every policy's sources ("file:<path>" or the URL).
func (s JWKSSource) Key() string {
	if s.File != "" {
		return "file:" + s.File
	}
	return s.URL
}

// RefreshOrDefault is the source's refresh interval.
func (s JWKSSource) RefreshOrDefault() time.Duration {
	if s.File != "" {
		return s.Refresh.Or(DefaultJWKSFileRefresh)
	}
	return s.Refresh.Or(DefaultJWKSURLRefresh)
}

// KeySet is what the key-set stage knows of one JWKSSource: the last good key set (JSON, empty
// when none was ever read) and the problem of the latest attempt, if it failed.
type KeySet struct {
	JSON    string `yaml:"json,omitempty"`
	Problem string `yaml:"problem,omitempty"`
}

// JWKSSources are the key-set sources of every policy, by Key, each once.
func JWKSSources(policies []Policy) []JWKSSource {
	var out []JWKSSource
	seen := map[string]bool{}
	for _, p := range policies {
		if p.JWT == nil {
			continue
		}
		for _, pr := range p.JWT.Providers {
			if k := pr.JWKS.Key(); k != "" && !seen[k] {
				seen[k] = true
				out = append(out, pr.JWKS)
			}
		}
	}
	return out
}

// headerTokenRE is an HTTP header name (an RFC 9110 token).
var headerTokenRE = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

// Validate reports every problem of the block, each at its key.
func (j JWTRule) Validate() error {
	var errs []error
	if len(j.Providers) == 0 {
		errs = append(errs, field.Errorf("providers", "a jwt block needs at least one provider"))
	}
	names := map[string]int{}
	for i, p := range j.Providers {
		at := fmt.Sprintf("providers[%d]", i)
		if first, dup := names[p.Name]; dup {
			errs = append(errs, field.Errorf(at+".name", "provider %q is already defined by providers[%d]", p.Name, first))
		}
		names[p.Name] = i
		errs = append(errs, field.Under(at, p.Validate()))
	}
	return errors.Join(errs...)
}

// Validate reports every problem of the provider, each at its key.
func (p JWTProviderRule) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) { errs = append(errs, field.Errorf(key, format, args...)) }
	if !policyNameRE.MatchString(p.Name) {
		add("name", "%q is not a provider name (lower-case letters, digits and dashes, at most 63)", p.Name)
	}
	switch {
	case p.JWKS.File == "" && p.JWKS.URL == "":
		add("jwks", "a provider needs its keys: jwks.file or jwks.url")
	case p.JWKS.File != "" && p.JWKS.URL != "":
		add("jwks", "jwks.file and jwks.url are exclusive")
	case p.JWKS.URL != "":
		if u, err := url.Parse(p.JWKS.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("jwks.url", "%q is not an http(s) URL", p.JWKS.URL)
		}
	}
	if p.JWKS.File != "" && p.JWKS.Timeout != 0 {
		add("jwks.timeout", "only a jwks.url is fetched")
	}
	if s := p.ClockSkew.Std(); s < 0 || s%time.Second != 0 || s/time.Second > math.MaxUint32 {
		add("clockSkew", "%v is not a whole number of seconds", s)
	}
	for i, h := range p.FromHeaders {
		if !headerTokenRE.MatchString(h.Name) {
			add(fmt.Sprintf("fromHeaders[%d].name", i), "%q is not a header name", h.Name)
		}
	}
	for i, q := range p.FromParams {
		if q == "" {
			add(fmt.Sprintf("fromParams[%d]", i), "empty query parameter name")
		}
	}
	for i, c := range p.FromCookies {
		if c == "" || strings.ContainsAny(c, "=; ") {
			add(fmt.Sprintf("fromCookies[%d]", i), "%q is not a cookie name", c)
		}
	}
	for _, claim := range slices.Sorted(maps.Keys(p.ClaimHeaders)) {
		h := p.ClaimHeaders[claim]
		if claim == "" || strings.HasPrefix(claim, ".") || strings.HasSuffix(claim, ".") {
			add("claimHeaders."+claim, "%q is not a claim name", claim)
		}
		if !headerTokenRE.MatchString(h) || strings.EqualFold(h, "host") {
			add("claimHeaders."+claim, "%q is not a header name a claim may set", h)
		}
	}
	return errors.Join(errs...)
}

// ir is the IR form of the block, with each provider's keys from keys; an error when a provider
// has no good key set yet (the policy's routes are then withheld).
func (j JWTRule) ir(keys map[string]KeySet) (*ir.JWT, error) {
	out := &ir.JWT{AllowMissing: j.AllowMissing}
	var errs []error
	for _, p := range j.Providers {
		ks := keys[p.JWKS.Key()]
		if ks.JSON == "" {
			why := "not read yet"
			if ks.Problem != "" {
				why = ks.Problem
			}
			errs = append(errs, fmt.Errorf("provider %q has no key set from %s (%s)", p.Name, p.JWKS.Key(), why))
			continue
		}
		ip := ir.JWTProvider{
			Name: p.Name, Issuer: p.Issuer, Audiences: slices.Clone(p.Audiences),
			JWKSSource: p.JWKS.Key(), JWKS: ks.JSON,
			ClockSkewSeconds: uint32(p.ClockSkew.Std() / time.Second),
			FromParams:       slices.Clone(p.FromParams), FromCookies: slices.Clone(p.FromCookies),
			Forward: p.Forward,
		}
		for _, h := range p.FromHeaders {
			ip.FromHeaders = append(ip.FromHeaders, ir.JWTHeader{Name: strings.ToLower(h.Name), ValuePrefix: h.ValuePrefix})
		}
		for claim, h := range p.ClaimHeaders {
			ip.ClaimHeaders = append(ip.ClaimHeaders, ir.JWTClaimHeader{Claim: claim, Header: strings.ToLower(h)})
		}
		slices.SortFunc(ip.ClaimHeaders, func(a, b ir.JWTClaimHeader) int {
			return strings.Compare(a.Header+"\x00"+a.Claim, b.Header+"\x00"+b.Claim)
		})
		out.Providers = append(out.Providers, ip)
	}
	return out, errors.Join(errs...)
}

// identityHeaders are the headers the block sets for the provider: every claim header.
func (j JWTRule) identityHeaders() []string {
	var out []string
	for _, p := range j.Providers {
		for _, h := range p.ClaimHeaders {
			if h = strings.ToLower(h); !slices.Contains(out, h) {
				out = append(out, h)
			}
		}
	}
	slices.Sort(out)
	return out
}

// stale are the problems of the latest attempts at the block's key sets that still have last
// good keys, one per source.
func (j JWTRule) stale(keys map[string]KeySet) []string {
	var out []string
	for _, src := range JWKSSources([]Policy{{JWT: &j}}) {
		if ks := keys[src.Key()]; ks.JSON != "" && ks.Problem != "" {
			out = append(out, fmt.Sprintf("key set %s: %s", src.Key(), ks.Problem))
		}
	}
	return out
}
