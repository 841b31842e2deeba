// Package jwtauthn executes Envoy's envoy.filters.http.jwt_authn configuration (its
// JwtAuthentication and per-route PerRouteConfig protos) with the filter's semantics, read from
// Envoy's source/extensions/filters/http/jwt_authn (filter.cc, filter_config.cc, verifier.cc,
// authenticator.cc, extractor.cc) and source/common/jwt (jwt.cc, verify.cc, check_audience.cc,
// status.cc). Key sets must be local (local_jwks inline): the control plane fetches remote ones.
// Configuration the gateway does not execute is refused, which withholds the routes that use it.
package jwtauthn

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
)

// maximumURILength bounds the path in the WWW-Authenticate realm (filter.cc MaximumUriLength).
const maximumURILength = 256

// Filter is a decoded JwtAuthentication.
type Filter struct {
	providers   map[string]*provider
	ordered     []*provider // by name
	names       string      // the requirement names, sorted, comma-separated
	verifiers   map[string]verifier
	bypassCORS  bool
	strip       bool
	unsupported error // configuration the gateway does not execute: every route using the filter is refused
	now         func() time.Time
}

// New decodes cfg; now is the clock tokens are checked against (nil: time.Now).
func New(cfg *jwtv3.JwtAuthentication, now func() time.Time) (*Filter, error) {
	if now == nil {
		now = time.Now
	}
	f := &Filter{providers: map[string]*provider{}, verifiers: map[string]verifier{},
		bypassCORS: cfg.GetBypassCorsPreflight(), strip: cfg.GetStripFailureResponse(), now: now}
	var problems []string
	for name, pc := range cfg.GetProviders() {
		p := newProvider(name, pc)
		if why := unsupportedProvider(pc); why != "" {
			problems = append(problems, fmt.Sprintf("provider %q: %s", name, why))
		} else if set, err := ParseKeySet(pc.GetLocalJwks().GetInlineString() + string(pc.GetLocalJwks().GetInlineBytes())); err == nil {
			p.keys = set // a bad key set leaves none: tokens fail with JwksNoValidKeys, as in Envoy
		}
		f.providers[name] = p
		f.ordered = append(f.ordered, p)
	}
	slices.SortFunc(f.ordered, func(a, b *provider) int { return strings.Compare(a.name, b.name) })
	if len(cfg.GetRules()) > 0 || cfg.GetFilterStateRules() != nil {
		problems = append(problems, "rules and filter_state_rules are not supported (only per-route requirement_name)")
	}
	var names []string
	for name, req := range cfg.GetRequirementMap() {
		v, err := f.buildVerifier(req, nil)
		if err != nil {
			problems = append(problems, fmt.Sprintf("requirement %q: %v", name, err))
			continue
		}
		f.verifiers[name] = v
		names = append(names, name)
	}
	slices.Sort(names)
	f.names = strings.Join(names, ",")
	if len(problems) > 0 {
		slices.Sort(problems)
		f.unsupported = fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return f, nil
}

// unsupportedProvider says what of pc the gateway does not execute; "" when nothing.
func unsupportedProvider(pc *jwtv3.JwtProvider) string {
	switch {
	case pc.GetRemoteJwks() != nil:
		return "remote_jwks is not supported (the control plane inlines fetched keys as local_jwks)"
	case pc.GetLocalJwks().GetFilename() != "" || pc.GetLocalJwks().GetEnvironmentVariable() != "":
		return "local_jwks must be inline"
	case pc.GetSubjects() != nil, pc.GetRequireExpiration(), pc.GetMaxLifetime() != nil:
		return "subjects, require_expiration and max_lifetime are not supported"
	case pc.GetNormalizePayloadInMetadata() != nil, pc.GetClearRouteCache():
		return "normalize_payload_in_metadata and clear_route_cache are not supported"
	}
	for _, c := range pc.GetClaimToHeaders() {
		if len(c.GetClaimPath()) > 0 {
			return "claim_to_headers claim_path is not supported"
		}
	}
	return ""
}

// Step is the filter's work on the requests of one route.
type Step struct {
	f *Filter
	// verifier is the route's requirement; nil with a wrong requirement name (wrongName).
	verifier  verifier
	wrongName string
}

// ForRoute is the step of a route with per-route config per (the most specific of the route's
// and its virtual host's); nil when the route is not checked: no per-route config (the filter
// has no rules) or disabled.
func (f *Filter) ForRoute(per *jwtv3.PerRouteConfig) (*Step, error) {
	if per == nil || per.GetDisabled() {
		return nil, nil
	}
	if f.unsupported != nil {
		return nil, f.unsupported
	}
	name := per.GetRequirementName()
	v, ok := f.verifiers[name]
	if !ok {
		// filter_config.cc findPerRouteVerifier: answered 403 per request, not refused.
		return &Step{f: f, wrongName: fmt.Sprintf("Wrong requirement_name: %s. It should be one of [%s]", name, f.names)}, nil
	}
	return &Step{f: f, verifier: v}, nil
}

// Serve verifies r (filter.cc decodeHeaders/onComplete): a CORS preflight passes untouched when
// bypass_cors_preflight is set; otherwise the route's requirement decides, and a failure is
// answered 401, or 403 when only the audience is wrong, with the status text as body and
// WWW-Authenticate: Bearer realm="<original URI>" (plus error="invalid_token" unless the token
// was missing). On success the request continues with the claim headers added and, unless
// forwarded, the token removed.
func (s *Step) Serve(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if s.f.bypassCORS && r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		return r, true
	}
	if s.verifier == nil {
		s.reply(w, http.StatusForbidden, "Failed JWT authentication: "+s.wrongName, "")
		return nil, false
	}
	c := r.Clone(r.Context())
	req := &request{r: c, now: uint64(s.f.now().Unix())}
	status := s.verifier.verify(req)
	if status == Ok {
		return req.r, true
	}
	code := http.StatusUnauthorized
	if status == JwtAudienceNotAllowed {
		code = http.StatusForbidden
	}
	// The realm is the request as it arrived: verification changed only the clone.
	challenge := `Bearer realm="` + originalURI(r) + `"`
	if status != JwtMissed {
		challenge += `, error="invalid_token"`
	}
	s.reply(w, code, status.String(), challenge)
	return nil, false
}

// reply is Envoy's sendLocalReply of the filter: a text body, or nothing at all with
// strip_failure_response.
func (s *Step) reply(w http.ResponseWriter, code int, body, challenge string) {
	if s.f.strip {
		w.WriteHeader(code)
		return
	}
	if challenge != "" {
		w.Header().Set("WWW-Authenticate", challenge)
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// originalURI is Envoy's Http::Utility::buildOriginalUri: x-forwarded-proto, "://", the host and
// the path with its query, cut at 256 bytes.
func originalURI(r *http.Request) string {
	path := r.URL.RequestURI()
	if len(path) > maximumURILength {
		path = path[:maximumURILength]
	}
	return r.Header.Get("X-Forwarded-Proto") + "://" + r.Host + path
}
