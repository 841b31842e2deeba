// Package apikeyauth executes Envoy's envoy.filters.http.api_key_auth: it decodes the filter's
// own configuration (ApiKeyAuth, and the most specific ApiKeyAuthPerRoute of a route) and
// answers a request as the filter does (source/extensions/filters/http/api_key_auth/
// api_key_auth.cc in envoyproxy/envoy, decodeHeaders):
//
//   - the per-route config's credentials, key sources and forwarding each replace the
//     filter-level ones when set;
//   - no key sources, no credentials, no key in any source, or a key that is not a
//     credential's: 401 "Client authentication failed.";
//   - a per-route config whose allowed_clients do not name the key's client: 403
//     "Client is forbidden.";
//   - otherwise the client's name is set in the forwarding header, and with hide_credentials
//     the key is removed from every source, before the request goes on.
//
// Envoy's local replies carry no WWW-Authenticate header and a text/plain body; so do these.
// Keys are kept as SHA-256 digests and compared in constant time; they are never logged.
//
// NewDigest is the same filter for rpcbridge's contract filter of hashed keys
// (gatewayv1.APIKeyDigestAuthFilter): the credentials' keys are the hex SHA-256 digests of the
// keys, and the digest of the presented key is compared with them. A digest presented as a key
// is hashed like any key, so it matches nothing.
package apikeyauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
)

// The local replies, as api_key_auth.cc sends them.
const (
	// UnauthorizedBody is the body of a 401 (no key, or an unknown one).
	UnauthorizedBody = "Client authentication failed."
	// ForbiddenBody is the body of a 403 (a client the route does not allow).
	ForbiddenBody = "Client is forbidden."
)

// Filter is the filter-level configuration (ApiKeyAuth).
type Filter struct {
	base config
	// digests: the credentials' keys are hex SHA-256 digests (NewDigest).
	digests bool
}

// config is one ApiKeyAuth or ApiKeyAuthPerRoute; a nil field was not set.
type config struct {
	sources     []source
	credentials []credential
	forwarding  *forwarding
}

// source is one KeySource: exactly one of its names is set (Envoy takes header, else query,
// else cookie).
type source struct {
	header, query, cookie string
}

// credential is one accepted key, as its digest, and its client.
type credential struct {
	digest [sha256.Size]byte
	client string
}

// forwarding is the Forwarding config.
type forwarding struct {
	header string
	hide   bool
}

// New decodes the filter-level configuration; nil is the empty one.
func New(cfg *apikeyv3.ApiKeyAuth) (*Filter, error) {
	c, err := decode(cfg.GetCredentials(), cfg.GetKeySources(), cfg.GetForwarding(), false)
	if err != nil {
		return nil, err
	}
	return &Filter{base: c}, nil
}

// NewDigest is New for hashed keys: every credential's key, filter-level (cfg, nil for the
// empty configuration) and per route, is the SHA-256 of the key in lower-case hex.
func NewDigest(cfg *apikeyv3.ApiKeyAuth) (*Filter, error) {
	c, err := decode(cfg.GetCredentials(), cfg.GetKeySources(), cfg.GetForwarding(), true)
	if err != nil {
		return nil, err
	}
	return &Filter{base: c, digests: true}, nil
}

// decode checks and converts one configuration: a key source must name a place (Envoy's
// "One of 'header'/'query'/'cookie' must be set."), a credential must have a key and a client,
// and keys are unique. With digests, each key is a key's hex SHA-256 (64 lower-case digits).
func decode(creds []*apikeyv3.Credential, sources []*apikeyv3.KeySource, fwd *apikeyv3.Forwarding, digests bool) (config, error) {
	var c config
	for i, s := range sources {
		switch {
		case s.GetHeader() != "":
			c.sources = append(c.sources, source{header: http.CanonicalHeaderKey(s.GetHeader())})
		case s.GetQuery() != "":
			c.sources = append(c.sources, source{query: s.GetQuery()})
		case s.GetCookie() != "":
			c.sources = append(c.sources, source{cookie: s.GetCookie()})
		default:
			return config{}, fmt.Errorf("key source %d: one of header, query, cookie must be set", i)
		}
	}
	seen := make(map[[sha256.Size]byte]int, len(creds))
	for i, cr := range creds {
		if cr.GetKey() == "" || cr.GetClient() == "" {
			return config{}, fmt.Errorf("credential %d: key and client must be set", i)
		}
		d := sha256.Sum256([]byte(cr.GetKey()))
		if digests {
			b, err := hex.DecodeString(cr.GetKey())
			if err != nil || len(b) != sha256.Size || hex.EncodeToString(b) != cr.GetKey() {
				return config{}, fmt.Errorf("credential %d: the key is not a SHA-256 digest (64 lower-case hex digits)", i)
			}
			d = [sha256.Size]byte(b)
		}
		if first, dup := seen[d]; dup {
			return config{}, fmt.Errorf("credentials %d and %d have the same key", first, i)
		}
		seen[d] = i
		c.credentials = append(c.credentials, credential{digest: d, client: cr.GetClient()})
	}
	if fwd != nil {
		c.forwarding = &forwarding{header: http.CanonicalHeaderKey(fwd.GetHeader()), hide: fwd.GetHideCredentials()}
	}
	return c, nil
}

// Step is the filter's work for one route.
type Step struct {
	cfg config
	// allowed are the route's allowed clients; checked only when perRoute (Envoy checks them
	// only when the route has a per-route config, and an empty list allows every client).
	allowed  map[string]bool
	perRoute bool
}

// Step resolves the configuration of a route whose most specific per-route config is per (nil
// when the route and its virtual host have none).
func (f *Filter) Step(per *apikeyv3.ApiKeyAuthPerRoute) (*Step, error) {
	s := &Step{cfg: f.base}
	if per == nil {
		return s, nil
	}
	over, err := decode(per.GetCredentials(), per.GetKeySources(), per.GetForwarding(), f.digests)
	if err != nil {
		return nil, fmt.Errorf("per-route config: %w", err)
	}
	if len(per.GetCredentials()) > 0 {
		s.cfg.credentials = over.credentials
	}
	if len(over.sources) > 0 {
		s.cfg.sources = over.sources
	}
	if over.forwarding != nil {
		s.cfg.forwarding = over.forwarding
	}
	s.perRoute = true
	if len(per.GetAllowedClients()) > 0 {
		s.allowed = map[string]bool{}
		for _, c := range per.GetAllowedClients() {
			s.allowed[c] = true
		}
	}
	return s, nil
}

// Outcome is what Check decided, with Envoy's response code details.
type Outcome string

// The outcomes (the response code details api_key_auth.cc reports; "unkonwn_api_key" is
// spelled as Envoy spells it).
const (
	Allowed           Outcome = "allowed"
	MissingKeySources Outcome = "missing_key_sources"
	MissingCredential Outcome = "missing_credentials"
	MissingKey        Outcome = "missing_api_key"
	UnknownKey        Outcome = "unkonwn_api_key"
	ClientNotAllowed  Outcome = "client_not_allowed"
)

// Status is the HTTP status the outcome is answered with; 0 for Allowed.
func (o Outcome) Status() int {
	switch o {
	case Allowed:
		return 0
	case ClientNotAllowed:
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}

// Check authenticates r: the outcome and, when Allowed, the client.
func (s *Step) Check(r *http.Request) (Outcome, string) {
	if len(s.cfg.sources) == 0 {
		return MissingKeySources, ""
	}
	if len(s.cfg.credentials) == 0 {
		return MissingCredential, ""
	}
	key := s.key(r)
	if key == "" {
		return MissingKey, ""
	}
	d := sha256.Sum256([]byte(key))
	client, found := "", false
	for _, c := range s.cfg.credentials { // every credential, whatever matches: constant time
		if subtle.ConstantTimeCompare(d[:], c.digest[:]) == 1 && !found {
			client, found = c.client, true
		}
	}
	if !found {
		return UnknownKey, ""
	}
	if s.perRoute && s.allowed != nil && !s.allowed[client] {
		return ClientNotAllowed, client
	}
	return Allowed, client
}

// Serve implements the gateway's edge step: it answers a refused request itself, or returns
// the request with the client header set (and the key removed with hide_credentials).
func (s *Step) Serve(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	outcome, client := s.Check(r)
	if outcome != Allowed {
		body := UnauthorizedBody
		if outcome.Status() == http.StatusForbidden {
			body = ForbiddenBody
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(outcome.Status())
		_, _ = w.Write([]byte(body))
		return nil, false
	}
	fwd := s.cfg.forwarding
	if fwd == nil || (fwd.header == "" && !fwd.hide) {
		return r, true
	}
	r = r.Clone(r.Context())
	if fwd.header != "" {
		r.Header.Set(fwd.header, client)
	}
	if fwd.hide {
		for _, src := range s.cfg.sources {
			src.remove(r)
		}
	}
	return r, true
}

// key is the first non-empty key of the sources, in order (KeySources::getKey).
func (s *Step) key(r *http.Request) string {
	for _, src := range s.cfg.sources {
		if k := src.key(r); k != "" {
			return k
		}
	}
	return ""
}

// key reads the source: a header's first value without a "Bearer " prefix, a query
// parameter's first value (decoded), or a cookie's value.
func (src source) key(r *http.Request) string {
	switch {
	case src.header != "":
		if vs := r.Header.Values(src.header); len(vs) > 0 {
			return strings.TrimPrefix(vs[0], "Bearer ")
		}
	case src.query != "":
		for _, pair := range strings.Split(r.URL.RawQuery, "&") {
			if name, value, ok := queryPair(pair); ok && name == src.query {
				return value
			}
		}
	default:
		return cookieValue(r.Header, src.cookie)
	}
	return ""
}

// remove takes the source's key out of r (KeySources::removeKey): the header, every value of
// the query parameter, the cookie.
func (src source) remove(r *http.Request) {
	switch {
	case src.header != "":
		r.Header.Del(src.header)
	case src.query != "":
		var kept []string
		for _, pair := range strings.Split(r.URL.RawQuery, "&") {
			if name, _, ok := queryPair(pair); ok && name == src.query {
				continue
			}
			if pair != "" {
				kept = append(kept, pair)
			}
		}
		r.URL.RawQuery = strings.Join(kept, "&")
		r.URL.ForceQuery = false
		r.RequestURI = r.URL.RequestURI()
	default:
		removeCookie(r.Header, src.cookie)
	}
}

// queryPair decodes one name=value pair of a query string.
func queryPair(pair string) (name, value string, ok bool) {
	if pair == "" {
		return "", "", false
	}
	rawName, rawValue, _ := strings.Cut(pair, "=")
	name, err1 := url.QueryUnescape(rawName)
	value, err2 := url.QueryUnescape(rawValue)
	if err := errors.Join(err1, err2); err != nil {
		return rawName, rawValue, true
	}
	return name, value, true
}

// cookieValue is the value of the first cookie named name in the Cookie headers, without
// surrounding double quotes (Http::Utility::parseCookieValue).
func cookieValue(h http.Header, name string) string {
	for _, line := range h.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || k != name {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v
		}
	}
	return ""
}

// removeCookie removes every cookie named name from the Cookie headers, and a Cookie header
// left empty (Http::Utility::removeCookieValue).
func removeCookie(h http.Header, name string) {
	var lines []string
	for _, line := range h.Values("Cookie") {
		var kept []string
		for _, part := range strings.Split(line, ";") {
			p := strings.TrimSpace(part)
			if k, _, _ := strings.Cut(p, "="); k == name || p == "" {
				continue
			}
			kept = append(kept, p)
		}
		if len(kept) > 0 {
			lines = append(lines, strings.Join(kept, "; "))
		}
	}
	h.Del("Cookie")
	for _, l := range lines {
		h.Add("Cookie", l)
	}
}
