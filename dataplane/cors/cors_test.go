package cors

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// compileForTest is a StringMatcher compiler for exact and suffix matchers.
func compileForTest(m *matcherv3.StringMatcher) (func(string) bool, error) {
	switch p := m.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		return func(v string) bool { return v == p.Exact }, nil
	case *matcherv3.StringMatcher_Suffix:
		return func(v string) bool { return strings.HasSuffix(v, p.Suffix) }, nil
	}
	panic("unexpected matcher")
}

func exact(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}}
}

func suffix(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: s}}
}

// policyForTest is the policy the tests start from: what rpcbridge emits.
func policyForTest() *corsv3.CorsPolicy {
	return &corsv3.CorsPolicy{
		AllowOriginStringMatch:       []*matcherv3.StringMatcher{exact("https://app.example.com"), suffix(".example.org")},
		AllowMethods:                 "GET,POST",
		AllowHeaders:                 "content-type,authorization",
		ExposeHeaders:                "x-request-id",
		MaxAge:                       "600",
		AllowCredentials:             wrapperspb.Bool(true),
		AllowPrivateNetworkAccess:    wrapperspb.Bool(true),
		ForwardNotMatchingPreflights: wrapperspb.Bool(false),
	}
}

// serve runs f on a request and reports whether it continued, with the response headers.
func serve(t *testing.T, f *Filter, method string, h http.Header) (bool, *httptest.ResponseRecorder) {
	t.Helper()
	r := httptest.NewRequest(method, "/v1/x", nil)
	for k, v := range h {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	_, next := f.Serve(w, r)
	return next, w
}

func newFilter(t *testing.T, ps ...*corsv3.CorsPolicy) *Filter {
	t.Helper()
	f, err := New(compileForTest, ps...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func preflight(origin string) http.Header {
	return http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"POST"},
		"Access-Control-Request-Headers": {"content-type"}, "Access-Control-Request-Private-Network": {"true"}}
}

// TestPreflightAllowedOrigin: a preflight from an allowed origin is answered 200 by the filter
// with every allow header, the origin echoed.
func TestPreflightAllowedOrigin(t *testing.T) {
	next, w := serve(t, newFilter(t, policyForTest()), http.MethodOptions, preflight("https://a.example.org"))
	if next || w.Code != http.StatusOK {
		t.Fatalf("continued=%v status=%d, want the filter to answer 200", next, w.Code)
	}
	want := map[string]string{
		"Access-Control-Allow-Origin":          "https://a.example.org",
		"Access-Control-Allow-Credentials":     "true",
		"Access-Control-Allow-Methods":         "GET,POST",
		"Access-Control-Allow-Headers":         "content-type,authorization",
		"Access-Control-Max-Age":               "600",
		"Access-Control-Allow-Private-Network": "true",
		"Access-Control-Expose-Headers":        "x-request-id",
	}
	for k, v := range want {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if w.Header().Get("Vary") != "" {
		t.Errorf("Vary = %q; Envoy sends none", w.Header().Get("Vary"))
	}
}

// TestPreflightDisallowedOrigin: with forward_not_matching_preflights false the filter answers
// 200 without Allow-Origin (the browser refuses); with Envoy's default (true) the preflight is
// passed on.
func TestPreflightDisallowedOrigin(t *testing.T) {
	next, w := serve(t, newFilter(t, policyForTest()), http.MethodOptions, preflight("https://evil.example.com"))
	if next || w.Code != http.StatusOK {
		t.Fatalf("continued=%v status=%d, want the filter to answer 200", next, w.Code)
	}
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("Access-Control-Allow-Origin = %q, want none", got)
	}
	if got := w.Header().Get("Access-Control-Allow-Methods"); got != "GET,POST" {
		t.Errorf("Access-Control-Allow-Methods = %q; Envoy sends the allow headers anyway", got)
	}
	if got := w.Header().Get("Access-Control-Expose-Headers"); got != "" {
		t.Errorf("Access-Control-Expose-Headers = %q, want none for a disallowed origin", got)
	}
	p := policyForTest()
	p.ForwardNotMatchingPreflights = nil
	if next, w := serve(t, newFilter(t, p), http.MethodOptions, preflight("https://evil.example.com")); !next || len(w.Header()) != 0 {
		t.Errorf("default forward_not_matching_preflights: continued=%v headers=%v, want passed on untouched", next, w.Header())
	}
}

// TestActualRequests: a request from an allowed origin continues with allow-origin, credentials
// and expose headers set for its response; one from another origin, or without an Origin, or
// an OPTIONS without Access-Control-Request-Method, continues without any.
func TestActualRequests(t *testing.T) {
	f := newFilter(t, policyForTest())
	next, w := serve(t, f, http.MethodGet, http.Header{"Origin": {"https://app.example.com"}})
	if !next {
		t.Fatal("an actual request was answered by the filter")
	}
	for k, v := range map[string]string{"Access-Control-Allow-Origin": "https://app.example.com",
		"Access-Control-Allow-Credentials": "true", "Access-Control-Expose-Headers": "x-request-id"} {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if w.Header().Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("an actual response got Access-Control-Allow-Methods")
	}
	for name, h := range map[string]http.Header{
		"other origin": {"Origin": {"https://evil.example.com"}},
		"no origin":    {},
		"empty origin": {"Origin": {""}},
	} {
		if next, w := serve(t, f, http.MethodPost, h); !next || len(w.Header()) != 0 {
			t.Errorf("%s: continued=%v headers=%v, want passed on untouched", name, next, w.Header())
		}
	}
	if next, _ := serve(t, f, http.MethodOptions, http.Header{"Origin": {"https://app.example.com"}}); !next {
		t.Errorf("an OPTIONS without Access-Control-Request-Method was answered as a preflight")
	}
}

// TestWildcardsAndPolicyOrder: "*" methods/headers echo the request's; each setting comes from
// the first policy that sets it (route before virtual host); a disabled most specific policy
// turns the filter off.
func TestWildcardsAndPolicyOrder(t *testing.T) {
	route := &corsv3.CorsPolicy{AllowMethods: "*", AllowHeaders: "*"}
	vhost := policyForTest()
	next, w := serve(t, newFilter(t, route, vhost), http.MethodOptions, preflight("https://app.example.com"))
	if next {
		t.Fatal("preflight passed on")
	}
	if got := w.Header().Get("Access-Control-Allow-Methods"); got != "POST" {
		t.Errorf("Allow-Methods = %q, want the requested POST", got)
	}
	if got := w.Header().Get("Access-Control-Allow-Headers"); got != "content-type" {
		t.Errorf("Allow-Headers = %q, want the requested content-type", got)
	}
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("Allow-Origin = %q, want the virtual host's origins to apply", got)
	}
	off := &corsv3.CorsPolicy{FilterEnabled: &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{}}}
	if next, w := serve(t, newFilter(t, off, vhost), http.MethodOptions, preflight("https://app.example.com")); !next || len(w.Header()) != 0 {
		t.Errorf("disabled route policy: continued=%v headers=%v, want the filter off", next, w.Header())
	}
	half := &corsv3.CorsPolicy{FilterEnabled: &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 50}}}
	if _, err := New(compileForTest, half); err == nil {
		t.Errorf("a 50 %% filter_enabled was accepted; the gateway cannot sample")
	}
	if f, err := New(compileForTest); f != nil || err != nil {
		t.Errorf("no policy: New = %v, %v; want nil, nil", f, err)
	}
}
