package jwtauthn

// Where tokens are read from, as Envoy's jwt_authn extractor.cc does: header locations first
// (ordered by header name + value prefix), then query parameters (by name, the first value),
// then cookies (by name). A location remembers the issuers that named it (empty: any), and how
// the token is removed when it is not forwarded (a header is removed whole, a query parameter
// is taken out of the path; cookies stay, as in Envoy).

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
)

// base64URLAndDot are the characters a JWT is made of (extractor.cc
// ConstantBase64UrlEncodingCharsPlusDot).
const base64URLAndDot = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

// issuers is the set of issuers that specified a location; anyIssuer when one did not.
type issuers struct {
	anyIssuer bool
	names     map[string]bool
}

func (is *issuers) add(iss string) {
	if iss == "" {
		is.anyIssuer = true
		return
	}
	if is.names == nil {
		is.names = map[string]bool{}
	}
	is.names[iss] = true
}

func (is *issuers) allowed(iss string) bool { return is.anyIssuer || is.names[iss] }

// headerLocation is a header and value prefix tokens are read from; header is in canonical form,
// so that reading and removing it allocates nothing per request.
type headerLocation struct {
	key, header, prefix string
	issuers             *issuers
}

// extractor reads the tokens of a set of providers.
type extractor struct {
	headers   []headerLocation
	params    []string
	paramIss  map[string]*issuers
	cookies   []string
	cookieIss map[string]*issuers
	sanitize  []string
}

// location is where one token was found.
type location struct {
	token   string
	issuers *issuers
	header  string // the header to remove, or ""
	param   string // the query parameter to remove, or ""
}

// newExtractor is the extractor of providers (Envoy: ExtractorImpl).
func newExtractor(providers []*jwtv3.JwtProvider) *extractor {
	e := &extractor{paramIss: map[string]*issuers{}, cookieIss: map[string]*issuers{}}
	byKey := map[string]*headerLocation{}
	addHeader := func(iss, name, prefix string) {
		name = strings.ToLower(name)
		key := name + prefix
		if l, ok := byKey[key]; ok {
			l.issuers.add(iss)
			return
		}
		l := &headerLocation{key: key, header: http.CanonicalHeaderKey(name), prefix: prefix, issuers: &issuers{}}
		l.issuers.add(iss)
		byKey[key] = l
	}
	addParam := func(iss, name string) {
		if e.paramIss[name] == nil {
			e.paramIss[name] = &issuers{}
			e.params = append(e.params, name)
		}
		e.paramIss[name].add(iss)
	}
	for _, p := range providers {
		for _, h := range p.GetFromHeaders() {
			addHeader(p.GetIssuer(), h.GetName(), h.GetValuePrefix())
		}
		for _, q := range p.GetFromParams() {
			addParam(p.GetIssuer(), q)
		}
		for _, c := range p.GetFromCookies() {
			if e.cookieIss[c] == nil {
				e.cookieIss[c] = &issuers{}
				e.cookies = append(e.cookies, c)
			}
			e.cookieIss[c].add(p.GetIssuer())
		}
		if len(p.GetFromHeaders()) == 0 && len(p.GetFromParams()) == 0 && len(p.GetFromCookies()) == 0 {
			addHeader(p.GetIssuer(), "authorization", "Bearer ")
			addParam(p.GetIssuer(), "access_token")
		}
		if h := p.GetForwardPayloadHeader(); h != "" {
			e.sanitize = append(e.sanitize, http.CanonicalHeaderKey(h))
		}
		for _, c := range p.GetClaimToHeaders() {
			e.sanitize = append(e.sanitize, http.CanonicalHeaderKey(c.GetHeaderName()))
		}
	}
	for _, l := range byKey {
		e.headers = append(e.headers, *l)
	}
	slices.SortFunc(e.headers, func(a, b headerLocation) int { return strings.Compare(a.key, b.key) })
	slices.Sort(e.params)
	slices.Sort(e.cookies)
	return e
}

// sanitizeHeaders removes the headers the providers set (forward_payload_header,
// claim_to_headers) before verification, as every verifier does first (verifier.cc).
func (e *extractor) sanitizeHeaders(h http.Header) {
	for _, name := range e.sanitize {
		h.Del(name)
	}
}

// extract returns the tokens of r, in Envoy's order.
func (e *extractor) extract(r *http.Request) []location {
	var out []location
	for _, l := range e.headers {
		for _, v := range r.Header.Values(l.header) {
			if l.prefix != "" {
				pos := strings.Index(v, l.prefix)
				if pos < 0 {
					continue
				}
				v = extractJWT(v, pos+len(l.prefix))
			}
			out = append(out, location{token: v, issuers: l.issuers, header: l.header})
		}
	}
	if len(e.params) > 0 {
		q := parseQuery(r.URL.RawQuery)
		for _, p := range e.params {
			if v, ok := q[p]; ok {
				out = append(out, location{token: v[0], issuers: e.paramIss[p], param: p})
			}
		}
	}
	if len(e.cookies) > 0 {
		for _, c := range e.cookies {
			if ck, err := r.Cookie(c); err == nil {
				out = append(out, location{token: ck.Value, issuers: e.cookieIss[c]})
			}
		}
	}
	return out
}

// extractJWT is extractor.cc's extractJWT: from after, skip to the first JWT character and take
// the rest; the whole value when there is none.
func extractJWT(v string, after int) string {
	i := strings.IndexAny(v[after:], base64URLAndDot)
	if i < 0 {
		return v
	}
	return v[after+i:]
}

// parseQuery decodes a query string, keeping what url.ParseQuery rejects out.
func parseQuery(raw string) url.Values {
	out := url.Values{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		out[dk] = append(out[dk], dv)
	}
	return out
}

// removeParam is the query string raw without the parameter name.
func removeParam(raw, name string) string {
	var keep []string
	for _, part := range strings.Split(raw, "&") {
		k, _, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); part == "" || (err == nil && dk == name) {
			continue
		}
		keep = append(keep, part)
	}
	return strings.Join(keep, "&")
}
