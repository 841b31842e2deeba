package jwtauthn_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	jose "github.com/go-jose/go-jose/v4"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/rpcbridge/rpcbridge/dataplane/jwtauthn"
	"github.com/rpcbridge/rpcbridge/internal/jwttest"
)

const issuer = "https://id.example.com"

// now is the fixed clock of these tests.
var now = time.Unix(1_800_000_000, 0)

func provider(keys string) *jwtv3.JwtProvider {
	return &jwtv3.JwtProvider{
		Issuer: issuer, Audiences: []string{"orders"},
		JwksSourceSpecifier: &jwtv3.JwtProvider_LocalJwks{LocalJwks: &corev3.DataSource{
			Specifier: &corev3.DataSource_InlineString{InlineString: keys}}},
		ClaimToHeaders: []*jwtv3.JwtClaimToHeader{{HeaderName: "x-user-sub", ClaimName: "sub"}},
	}
}

func byName(name string) *jwtv3.JwtRequirement {
	return &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: name}}
}

// step builds the filter of cfg and the step of requirement req.
func step(t *testing.T, cfg *jwtv3.JwtAuthentication, req string) *jwtauthn.Step {
	t.Helper()
	f, err := jwtauthn.New(cfg, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.ForRoute(&jwtv3.PerRouteConfig{RequirementSpecifier: &jwtv3.PerRouteConfig_RequirementName{RequirementName: req}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// result is what the step did with one request.
type result struct {
	passed  bool
	out     *http.Request
	code    int
	body    string
	wwwAuth string
}

func serve(s *jwtauthn.Step, r *http.Request) result {
	rec := httptest.NewRecorder()
	out, ok := s.Serve(rec, r)
	return result{passed: ok, out: out, code: rec.Code, body: rec.Body.String(), wwwAuth: rec.Header().Get("WWW-Authenticate")}
}

func request(token string) *http.Request {
	r := httptest.NewRequest("GET", "http://api.example.com/orders/1?x=y", nil)
	r.Header.Set("X-Forwarded-Proto", "https")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// TestStatusesAndAnswers: each kind of token gets the status code, body and WWW-Authenticate
// header Envoy's jwt_authn answers (filter.cc onComplete: 403 only for a disallowed audience),
// and a good one passes with its claim header set and the token header removed.
func TestStatusesAndAnswers(t *testing.T) {
	key, other := jwttest.NewEC(t, "k1"), jwttest.NewEC(t, "k1")
	rotated := jwttest.NewRSA(t, "k2")
	cfg := &jwtv3.JwtAuthentication{
		Providers:      map[string]*jwtv3.JwtProvider{"p/corp": provider(jwttest.JWKS(t, key, rotated))},
		RequirementMap: map[string]*jwtv3.JwtRequirement{"p": byName("p/corp")},
	}
	s := step(t, cfg, "p")
	good := map[string]any{"iss": issuer, "aud": "orders", "sub": "alice", "exp": now.Unix() + 60}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range good {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	const realm = `Bearer realm="https://api.example.com/orders/1?x=y"`
	const invalid = realm + `, error="invalid_token"`
	cases := []struct {
		name    string
		token   string
		code    int
		body    string
		wwwAuth string
	}{
		{"valid ES256", jwttest.Sign(t, key, good), 0, "", ""},
		{"valid RS256 (second key)", jwttest.Sign(t, rotated, good), 0, "", ""},
		{"no exp never expires", jwttest.Sign(t, key, with("exp", nil)), 0, "", ""},
		{"expired within the 60s skew", jwttest.Sign(t, key, with("exp", now.Unix()-59)), 0, "", ""},
		{"missing", "", 401, "Jwt is missing", realm},
		{"expired", jwttest.Sign(t, key, with("exp", now.Unix()-61)), 401, "Jwt is expired", invalid},
		{"not yet valid", jwttest.Sign(t, key, with("nbf", now.Unix()+61)), 401, "Jwt not yet valid", invalid},
		{"wrong issuer", jwttest.Sign(t, key, with("iss", "https://evil.example.com")), 401, "Jwt issuer is not configured", invalid},
		{"wrong audience", jwttest.Sign(t, key, with("aud", []string{"billing"})), 403, "Audiences in Jwt are not allowed", invalid},
		{"audience before signature", jwttest.Sign(t, other, with("aud", "billing")), 403, "Audiences in Jwt are not allowed", invalid},
		{"bad signature", jwttest.Sign(t, other, good), 401, "Jwt verification fails", invalid},
		{"unknown kid", jwttest.Sign(t, jwttest.NewEC(t, "k9"), good), 401, "Jwks doesn't have key to match kid or alg from Jwt", invalid},
		{"malformed", "abc.def", 401, "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections", invalid},
		{"bad header base64", "a*b.e30.c2ln", 401, "Jwt header is an invalid Base64url encoded", invalid},
		{"exp not a number", jwttest.Sign(t, key, with("exp", "tomorrow")), 401, "Jwt payload [exp] field is not an integer", invalid},
	}
	for _, c := range cases {
		r := request(c.token)
		r.Header.Set("X-User-Sub", "forged")
		got := serve(s, r)
		if c.code == 0 {
			if !got.passed {
				t.Errorf("%s: refused %d %q, want passed", c.name, got.code, got.body)
				continue
			}
			if h := got.out.Header; h.Get("Authorization") != "" || h.Values("X-User-Sub")[0] != "alice" || len(h.Values("X-User-Sub")) != 1 {
				t.Errorf("%s: upstream headers %v, want the token removed and x-user-sub alice only", c.name, h)
			}
			continue
		}
		if got.passed || got.code != c.code || got.body != c.body || got.wwwAuth != c.wwwAuth {
			t.Errorf("%s: passed=%v %d %q WWW-Authenticate %q; want %d %q %q", c.name, got.passed, got.code, got.body, got.wwwAuth, c.code, c.body, c.wwwAuth)
		}
	}
}

// TestLocationsForwardAndClaims: tokens from a header with a prefix, a query parameter (removed
// from the query unless forwarded) and a cookie; forward keeps the token header; claims become
// headers as Envoy formats them (numbers, booleans, nested claims; objects are not copied).
func TestLocationsForwardAndClaims(t *testing.T) {
	key := jwttest.NewEC(t, "k1")
	p := provider(jwttest.JWKS(t, key))
	p.FromHeaders = []*jwtv3.JwtHeader{{Name: "x-token", ValuePrefix: "Token "}}
	p.FromParams = []string{"tok"}
	p.FromCookies = []string{"session"}
	p.ClaimToHeaders = []*jwtv3.JwtClaimToHeader{
		{HeaderName: "x-n", ClaimName: "n"}, {HeaderName: "x-f", ClaimName: "f"}, {HeaderName: "x-neg", ClaimName: "neg"},
		{HeaderName: "x-b", ClaimName: "b"}, {HeaderName: "x-tenant", ClaimName: "org.tenant"}, {HeaderName: "x-obj", ClaimName: "org"},
	}
	fwd := provider(jwttest.JWKS(t, key))
	fwd.Forward = true
	cfg := &jwtv3.JwtAuthentication{
		Providers:      map[string]*jwtv3.JwtProvider{"p/corp": p, "f/corp": fwd},
		RequirementMap: map[string]*jwtv3.JwtRequirement{"p": byName("p/corp"), "f": byName("f/corp")},
	}
	tok := jwttest.Sign(t, key, map[string]any{"iss": issuer, "aud": "orders", "n": 42, "f": 1.5, "neg": -3, "b": true,
		"org": map[string]any{"tenant": "t1"}})
	s := step(t, cfg, "p")

	r := request("")
	r.Header.Set("X-Token", "Token "+tok)
	got := serve(s, r)
	want := map[string]string{"X-N": "42", "X-F": "1.500000", "X-Neg": "-3.000000", "X-B": "true", "X-Tenant": "t1", "X-Obj": "", "X-Token": ""}
	if !got.passed {
		t.Fatalf("header token refused: %d %q", got.code, got.body)
	}
	for h, v := range want {
		if g := got.out.Header.Get(h); g != v {
			t.Errorf("header token: %s = %q, want %q", h, g, v)
		}
	}

	r = httptest.NewRequest("GET", "http://api.example.com/a?tok="+tok+"&keep=1", nil)
	if got = serve(s, r); !got.passed || got.out.URL.RawQuery != "keep=1" {
		t.Errorf("query token: passed=%v query %q, want passed with tok removed", got.passed, got.out.URL.RawQuery)
	}
	r = httptest.NewRequest("GET", "http://api.example.com/a", nil)
	r.AddCookie(&http.Cookie{Name: "session", Value: tok})
	if got = serve(s, r); !got.passed {
		t.Errorf("cookie token refused: %d %q", got.code, got.body)
	}
	r = request(tok) // Authorization is not a location of this provider
	if got = serve(s, r); got.passed || got.body != "Jwt is missing" {
		t.Errorf("Authorization with explicit locations: passed=%v %q, want Jwt is missing", got.passed, got.body)
	}
	if got = serve(step(t, cfg, "f"), request(tok)); !got.passed || got.out.Header.Get("Authorization") != "Bearer "+tok {
		t.Errorf("forward: passed=%v Authorization %q, want kept", got.passed, got.out.Header.Get("Authorization"))
	}
}

// TestAllowMissingAndPreflight: requires_any [provider, allow_missing] passes a request without a
// token (unauthenticated, no claim headers) and still refuses a bad token; a CORS preflight
// bypasses the filter when bypass_cors_preflight is set, and only then.
func TestAllowMissingAndPreflight(t *testing.T) {
	key := jwttest.NewEC(t, "k1")
	cfg := &jwtv3.JwtAuthentication{
		Providers: map[string]*jwtv3.JwtProvider{"p/corp": provider(jwttest.JWKS(t, key))},
		RequirementMap: map[string]*jwtv3.JwtRequirement{
			"anon": {RequiresType: &jwtv3.JwtRequirement_RequiresAny{RequiresAny: &jwtv3.JwtRequirementOrList{Requirements: []*jwtv3.JwtRequirement{
				byName("p/corp"), {RequiresType: &jwtv3.JwtRequirement_AllowMissing{AllowMissing: &emptypb.Empty{}}}}}}},
			"strict": byName("p/corp"),
		},
		BypassCorsPreflight: true,
	}
	anon := step(t, cfg, "anon")
	r := request("")
	r.Header.Set("X-User-Sub", "forged")
	if got := serve(anon, r); !got.passed || got.out.Header.Get("X-User-Sub") != "" {
		t.Errorf("allow missing without token: passed=%v x-user-sub %q, want passed without the header", got.passed, got.out.Header.Get("X-User-Sub"))
	}
	expired := jwttest.Sign(t, key, map[string]any{"iss": issuer, "aud": "orders", "exp": now.Unix() - 3600})
	if got := serve(anon, request(expired)); got.passed || got.code != 401 || got.body != "Jwt is expired" {
		t.Errorf("allow missing with an expired token: passed=%v %d %q, want 401 Jwt is expired", got.passed, got.code, got.body)
	}
	good := jwttest.Sign(t, key, map[string]any{"iss": issuer, "aud": "orders", "sub": "bob"})
	if got := serve(anon, request(good)); !got.passed || got.out.Header.Get("X-User-Sub") != "bob" {
		t.Errorf("allow missing with a good token: passed=%v, want passed as bob", got.passed)
	}
	preflight := func() *http.Request {
		r := httptest.NewRequest("OPTIONS", "http://api.example.com/a", nil)
		r.Header.Set("Origin", "https://app.example.com")
		r.Header.Set("Access-Control-Request-Method", "POST")
		return r
	}
	if got := serve(step(t, cfg, "strict"), preflight()); !got.passed {
		t.Errorf("preflight refused with bypass_cors_preflight: %d", got.code)
	}
	cfg.BypassCorsPreflight = false
	if got := serve(step(t, cfg, "strict"), preflight()); got.passed || got.code != 401 {
		t.Errorf("preflight without bypass_cors_preflight: passed=%v %d, want 401", got.passed, got.code)
	}
}

// TestRouteConfigs: a wrong requirement_name answers Envoy's 403; a disabled per-route config
// or none checks nothing; configuration the gateway does not execute (remote_jwks) refuses the
// route instead of serving it unchecked; a bad key set verifies nothing.
func TestRouteConfigs(t *testing.T) {
	key := jwttest.NewEC(t, "k1")
	cfg := &jwtv3.JwtAuthentication{
		Providers:      map[string]*jwtv3.JwtProvider{"p/corp": provider(jwttest.JWKS(t, key)), "bad/corp": provider(`{"keys":[]}`)},
		RequirementMap: map[string]*jwtv3.JwtRequirement{"p": byName("p/corp"), "bad": byName("bad/corp")},
	}
	got := serve(step(t, cfg, "nope"), request(""))
	if want := "Failed JWT authentication: Wrong requirement_name: nope. It should be one of [bad,p]"; got.passed || got.code != 403 || got.body != want {
		t.Errorf("wrong requirement_name: passed=%v %d %q, want 403 %q", got.passed, got.code, got.body, want)
	}
	tok := jwttest.Sign(t, key, map[string]any{"iss": issuer, "aud": "orders"})
	if got := serve(step(t, cfg, "bad"), request(tok)); got.passed || got.body != "Jwks doesn't have any valid public key" {
		t.Errorf("bad key set: passed=%v %q", got.passed, got.body)
	}
	f, _ := jwtauthn.New(cfg, nil)
	for _, per := range []*jwtv3.PerRouteConfig{nil, {RequirementSpecifier: &jwtv3.PerRouteConfig_Disabled{Disabled: true}}} {
		if s, err := f.ForRoute(per); s != nil || err != nil {
			t.Errorf("per-route %v: step %v, err %v; want none", per, s, err)
		}
	}
	cfg.Providers["p/corp"].JwksSourceSpecifier = &jwtv3.JwtProvider_RemoteJwks{RemoteJwks: &jwtv3.RemoteJwks{}}
	f, _ = jwtauthn.New(cfg, nil)
	if _, err := f.ForRoute(&jwtv3.PerRouteConfig{RequirementSpecifier: &jwtv3.PerRouteConfig_RequirementName{RequirementName: "p"}}); err == nil || !strings.Contains(err.Error(), "remote_jwks") {
		t.Errorf("remote_jwks: err %v, want the route refused", err)
	}
}

// TestCachedTokensAnswerAsNew: with jwt_cache_config a verified token is cached, and a cached
// token still gets every check a new one gets: it passes again with its claim header, a
// requirement with other audiences refuses it (403), and once expired (past the clock skew) it
// is refused (401) — a cache hit never answers differently from a miss.
func TestCachedTokensAnswerAsNew(t *testing.T) {
	key := jwttest.NewEC(t, "k1")
	p := provider(jwttest.JWKS(t, key))
	p.JwtCacheConfig = &jwtv3.JwtCacheConfig{JwtCacheSize: 10}
	clock := now
	f, err := jwtauthn.New(&jwtv3.JwtAuthentication{
		Providers: map[string]*jwtv3.JwtProvider{"p/corp": p},
		RequirementMap: map[string]*jwtv3.JwtRequirement{
			"p": byName("p/corp"),
			"billing": {RequiresType: &jwtv3.JwtRequirement_ProviderAndAudiences{ProviderAndAudiences: &jwtv3.ProviderWithAudiences{
				ProviderName: "p/corp", Audiences: []string{"billing"}}}},
		},
	}, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	route := func(name string) *jwtauthn.Step {
		s, err := f.ForRoute(&jwtv3.PerRouteConfig{RequirementSpecifier: &jwtv3.PerRouteConfig_RequirementName{RequirementName: name}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	orders, billing := route("p"), route("billing")
	tok := jwttest.Sign(t, key, map[string]any{"iss": issuer, "aud": "orders", "sub": "alice", "exp": now.Unix() + 30})
	for i := range 3 {
		if res := serve(orders, request(tok)); !res.passed || res.out.Header.Get("X-User-Sub") != "alice" {
			t.Fatalf("request %d: passed=%v x-user-sub=%q, want passed with alice", i, res.passed, res.out.Header.Get("X-User-Sub"))
		}
	}
	if res := serve(billing, request(tok)); res.passed || res.code != 403 || res.body != "Audiences in Jwt are not allowed" {
		t.Errorf("cached token on a route of other audiences: %d %q, want 403 Audiences in Jwt are not allowed", res.code, res.body)
	}
	clock = now.Add(30*time.Second + 61*time.Second)
	if res := serve(orders, request(tok)); res.passed || res.code != 401 || res.body != "Jwt is expired" {
		t.Errorf("cached token past exp and skew: %d %q, want 401 Jwt is expired", res.code, res.body)
	}
}

// TestHMACKeys: a key set of a symmetric (kty oct) key verifies HS256 tokens, as Envoy's jwks.cc
// accepts oct keys; a token signed with another secret fails its signature.
func TestHMACKeys(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	keys := `{"keys":[{"kty":"oct","kid":"h1","alg":"HS256","k":"` + base64.RawURLEncoding.EncodeToString(secret) + `"}]}`
	s := step(t, &jwtv3.JwtAuthentication{
		Providers:      map[string]*jwtv3.JwtProvider{"p/corp": provider(keys)},
		RequirementMap: map[string]*jwtv3.JwtRequirement{"p": byName("p/corp")},
	}, "p")
	sign := func(secret []byte) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret},
			(&jose.SignerOptions{}).WithHeader("kid", "h1").WithType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(map[string]any{"iss": issuer, "aud": "orders", "sub": "hal", "exp": now.Unix() + 60})
		obj, err := signer.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		out, err := obj.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if res := serve(s, request(sign(secret))); !res.passed || res.out.Header.Get("X-User-Sub") != "hal" {
		t.Errorf("HS256 token: %d %q, want passed", res.code, res.body)
	}
	if res := serve(s, request(sign([]byte("another-secret-another-secret-00")))); res.passed || res.code != 401 {
		t.Errorf("HS256 token of another secret: passed=%v %d, want 401", res.passed, res.code)
	}
}
