package jwtauthn

// Requirements and the authenticator, as Envoy's jwt_authn verifier.cc and authenticator.cc do
// them. A provider requirement reads the tokens of its provider; every token found must be valid
// (the last found is verified first). allow_missing reads the tokens of the providers of the
// requires_any list it is in, finds each token's provider by issuer, passes a request without a
// token and fails one with a bad token; allow_missing_or_failed passes everything. requires_any
// passes at the first child that passes, else fails with the last child's status; requires_all
// fails at the first child that fails. Per token the checks run in authenticator.cc's order:
// parse, issuer, time (nbf, exp with the clock skew, 60 s by default), audience, signature.

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
)

// defaultClockSkew is jwt_verify's kClockSkewInSecond.
const defaultClockSkew = 60

// provider is a decoded JwtProvider.
type provider struct {
	name      string
	cfg       *jwtv3.JwtProvider
	keys      *KeySet // nil: the local key set has no valid key (JwksNoValidKeys)
	audiences audienceCheck
	// payloadHeader (forward_payload_header) and the claim_to_headers headers, in canonical
	// form, so that setting them allocates no key per request.
	payloadHeader string
	claimHeaders  []claimHeader
	// cache holds the tokens already verified (jwt_cache_config); nil without one (cache.go).
	cache *tokenCache
}

// claimHeader is one claim_to_headers entry.
type claimHeader struct{ claim, header string }

// newProvider decodes the parts of pc a request needs.
func newProvider(name string, pc *jwtv3.JwtProvider) *provider {
	p := &provider{name: name, cfg: pc, audiences: newAudienceCheck(pc.GetAudiences()), cache: newTokenCache(pc.GetJwtCacheConfig())}
	if h := pc.GetForwardPayloadHeader(); h != "" {
		p.payloadHeader = http.CanonicalHeaderKey(h)
	}
	for _, c := range pc.GetClaimToHeaders() {
		p.claimHeaders = append(p.claimHeaders, claimHeader{claim: c.GetClaimName(), header: http.CanonicalHeaderKey(c.GetHeaderName())})
	}
	return p
}

// audienceCheck is Envoy's CheckAudience: configured audiences with a leading http:// or
// https:// and a trailing slash ignored; none configured allows any.
type audienceCheck map[string]bool

func newAudienceCheck(auds []string) audienceCheck {
	if len(auds) == 0 {
		return nil
	}
	out := audienceCheck{}
	for _, a := range auds {
		out[sanitizeAudience(a)] = true
	}
	return out
}

func sanitizeAudience(a string) string {
	if a == "" {
		return a
	}
	if rest, ok := strings.CutPrefix(a, "http://"); ok {
		a = rest
	} else {
		a = strings.TrimPrefix(a, "https://")
	}
	return strings.TrimSuffix(a, "/")
}

func (c audienceCheck) allowed(auds []string) bool {
	if len(c) == 0 {
		return true
	}
	for _, a := range auds {
		if c[sanitizeAudience(a)] {
			return true
		}
	}
	return false
}

// request is what verification reads and changes: the request's headers and query, and the
// time.
type request struct {
	r   *http.Request
	now uint64
}

// verifier is one node of a requirement.
type verifier interface {
	verify(req *request) Status
}

// authenticator verifies the tokens one extractor found (authenticator.cc AuthenticatorImpl).
type authenticator struct {
	extractor    *extractor
	provider     *provider   // nil: each token's provider is found by its issuer among all
	all          []*provider // every provider of the filter, by name
	audiences    audienceCheck
	hasAudiences bool
	allowFailed  bool
	allowMissing bool
}

func (a *authenticator) verify(req *request) Status {
	a.extractor.sanitizeHeaders(req.r.Header)
	tokens := a.extractor.extract(req.r)
	if len(tokens) == 0 {
		return a.done(JwtMissed)
	}
	for {
		loc := tokens[len(tokens)-1]
		tokens = tokens[:len(tokens)-1]
		status := a.verifyOne(req, loc)
		if (status != Ok && !a.allowFailed && !a.allowMissing) || len(tokens) == 0 {
			return a.done(status)
		}
	}
}

// done is authenticator.cc doneWithStatus's answer once no token is left.
func (a *authenticator) done(status Status) Status {
	if a.allowFailed || (a.allowMissing && status == JwtMissed) {
		return Ok
	}
	return status
}

// findByIssuer is the first provider with the token's issuer, else the first without an issuer
// (jwks_cache.cc findByIssuer).
func (a *authenticator) findByIssuer(iss string) *provider {
	for _, p := range a.all {
		if p.cfg.GetIssuer() == iss {
			return p
		}
	}
	for _, p := range a.all {
		if p.cfg.GetIssuer() == "" {
			return p
		}
	}
	return nil
}

func (a *authenticator) verifyOne(req *request, loc location) Status {
	// A token the route's provider verified before needs neither parsing nor its signature
	// checked again (cache.go); every other check runs as for a new token.
	t := a.provider.cachedToken(loc.token, req.now)
	verified := t != nil
	if t == nil {
		var status Status
		if t, status = parseToken(loc.token); status != Ok {
			return status
		}
	}
	if !loc.issuers.allowed(t.iss) {
		return JwtUnknownIssuer
	}
	p := a.provider
	if p == nil {
		if p = a.findByIssuer(t.iss); p == nil {
			return JwtUnknownIssuer
		}
	}
	skew := uint64(defaultClockSkew)
	if s := p.cfg.GetClockSkewSeconds(); s > 0 {
		skew = uint64(s)
	}
	if status := t.checkTime(req.now, skew); status != Ok {
		return status
	}
	auds := p.audiences
	if a.hasAudiences {
		auds = a.audiences
	}
	if !auds.allowed(t.audiences) {
		return JwtAudienceNotAllowed
	}
	if !verified {
		verified = p.cachedToken(loc.token, req.now) != nil
	}
	if !verified {
		if p.keys == nil {
			return JwksNoValidKeys
		}
		if status := verifySignature(t, p.keys); status != Ok {
			return status
		}
		p.cache.put(loc.token, t)
	}
	a.good(req, p, t, loc)
	return Ok
}

// good is authenticator.cc handleGoodJwt: the payload header, the claim headers, and the token
// removed unless forwarded.
func (a *authenticator) good(req *request, p *provider, t *token, loc location) {
	h := req.r.Header
	if name := p.payloadHeader; name != "" {
		v := t.payloadB64
		if p.cfg.GetPadForwardPayloadHeader() {
			b, _ := decodeB64URL(v)
			v = base64.URLEncoding.EncodeToString(b)
		}
		h.Add(name, v)
	}
	for _, c := range p.claimHeaders {
		if v, ok := claimText(t.payload, c.claim); ok {
			h.Add(c.header, v)
		}
	}
	if !p.cfg.GetForward() {
		switch {
		case loc.header != "":
			h.Del(loc.header)
		case loc.param != "":
			u := *req.r.URL
			u.RawQuery = removeParam(u.RawQuery, loc.param)
			req.r.URL = &u
		}
	}
}

// claimText is a claim as claim_to_headers writes it (authenticator.cc addJWTClaimToHeader):
// a string as it is, a number as an integer when it is a non-negative whole number below 2^64
// (else C++'s std::to_string of the double: six decimals), a boolean as true/false; nested claims
// by dots; anything else (objects, lists, null) sets nothing, nor does an empty string.
func claimText(payload map[string]any, name string) (string, bool) {
	var v any = payload
	for _, part := range strings.Split(name, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[part]; !ok {
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, x != ""
	case bool:
		return strconv.FormatBool(x), true
	case interface{ Float64() (float64, error) }:
		f, err := x.Float64()
		if err != nil {
			return "", false
		}
		if f >= 0 && f < 18446744073709551615.0 && f == float64(uint64(f)) {
			return strconv.FormatUint(uint64(f), 10), true
		}
		return fmt.Sprintf("%f", f), true
	}
	return "", false
}

// anyVerifier is requires_any.
type anyVerifier []verifier

func (vs anyVerifier) verify(req *request) Status {
	status := JwtMissed
	for _, v := range vs {
		if status = v.verify(req); status == Ok {
			return Ok
		}
	}
	return status
}

// allVerifier is requires_all.
type allVerifier []verifier

func (vs allVerifier) verify(req *request) Status {
	for _, v := range vs {
		if status := v.verify(req); status != Ok {
			return status
		}
	}
	return Ok
}

// allowAll is a requirement that is not set.
type allowAll struct{}

func (allowAll) verify(*request) Status { return Ok }

// buildVerifier is verifier.cc innerCreate: parents are the providers of the enclosing
// requires_any, which an allow_missing (or allow_missing_or_failed) in it reads tokens for.
func (f *Filter) buildVerifier(req *jwtv3.JwtRequirement, parents []string) (verifier, error) {
	switch rt := req.GetRequiresType().(type) {
	case nil:
		return allowAll{}, nil
	case *jwtv3.JwtRequirement_ProviderName:
		return f.providerVerifier(rt.ProviderName, nil)
	case *jwtv3.JwtRequirement_ProviderAndAudiences:
		return f.providerVerifier(rt.ProviderAndAudiences.GetProviderName(), rt.ProviderAndAudiences.GetAudiences())
	case *jwtv3.JwtRequirement_RequiresAny:
		var out anyVerifier
		var used []string
		var bypass *jwtv3.JwtRequirement
		for _, r := range rt.RequiresAny.GetRequirements() {
			switch r.GetRequiresType().(type) {
			case *jwtv3.JwtRequirement_AllowMissing, *jwtv3.JwtRequirement_AllowMissingOrFailed:
				// One bypass entry, run last: the last one, unless an allow_missing_or_failed came
				// before it (verifier.cc AnyVerifierImpl).
				if _, hadFailed := bypass.GetRequiresType().(*jwtv3.JwtRequirement_AllowMissingOrFailed); !hadFailed {
					bypass = r
				}
				continue
			case *jwtv3.JwtRequirement_ProviderName:
				used = append(used, r.GetProviderName())
			case *jwtv3.JwtRequirement_ProviderAndAudiences:
				used = append(used, r.GetProviderAndAudiences().GetProviderName())
			}
			v, err := f.buildVerifier(r, nil)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		if bypass != nil {
			v, err := f.buildVerifier(bypass, used)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *jwtv3.JwtRequirement_RequiresAll:
		var out allVerifier
		for _, r := range rt.RequiresAll.GetRequirements() {
			v, err := f.buildVerifier(r, nil)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *jwtv3.JwtRequirement_AllowMissing, *jwtv3.JwtRequirement_AllowMissingOrFailed:
		var ps []*jwtv3.JwtProvider
		for _, name := range parents {
			p, ok := f.providers[name]
			if !ok {
				return nil, fmt.Errorf("required provider [%q] is not configured", name)
			}
			ps = append(ps, p.cfg)
		}
		_, failed := rt.(*jwtv3.JwtRequirement_AllowMissingOrFailed)
		return &authenticator{extractor: newExtractor(ps), all: f.ordered, allowMissing: true, allowFailed: failed}, nil
	default:
		return nil, fmt.Errorf("requirement %T is not supported by this gateway", rt)
	}
}

// providerVerifier is the requirement of one provider (ProviderVerifierImpl), with its own
// audiences when auds is not nil (ProviderAndAudienceVerifierImpl).
func (f *Filter) providerVerifier(name string, auds []string) (verifier, error) {
	p, ok := f.providers[name]
	if !ok {
		return nil, fmt.Errorf("required provider [%q] is not configured", name)
	}
	a := &authenticator{extractor: newExtractor([]*jwtv3.JwtProvider{p.cfg}), provider: p, all: f.ordered}
	if auds != nil {
		a.audiences, a.hasAudiences = newAudienceCheck(slices.Clone(auds)), true
	}
	return a, nil
}

// cachedToken is p's cached verified token of text; nil for a nil provider, a provider without
// a cache, or a token it has not verified.
func (p *provider) cachedToken(text string, now uint64) *token {
	if p == nil {
		return nil
	}
	return p.cache.get(text, now)
}
