package localratelimit

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/dataplane/hcm"
)

// clock is a settable clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func tokenBucket(maxTokens, perFill uint32, interval time.Duration) *typev3.TokenBucket {
	return &typev3.TokenBucket{MaxTokens: maxTokens, TokensPerFill: wrapperspb.UInt32(perFill), FillInterval: durationpb.New(interval)}
}

// always is filter_enabled / filter_enforced at 100 %.
var always = &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100}}

// config is what rpcbridge emits for a route bucket and optional per-client descriptors.
func config(b *typev3.TokenBucket) *localratelimitv3.LocalRateLimit {
	return &localratelimitv3.LocalRateLimit{StatPrefix: "http_local_rate_limiter", TokenBucket: b,
		FilterEnabled: always, FilterEnforced: always,
		EnableXRatelimitHeaders: ratelimitv3.XRateLimitHeadersRFCVersion_DRAFT_VERSION_03, EnableRetryAfterHeader: true,
		AlwaysConsumeDefaultTokenBucket: wrapperspb.Bool(true)}
}

// perClientHeader adds a wildcard descriptor keyed on a request header.
func perClientHeader(c *localratelimitv3.LocalRateLimit, header string, b *typev3.TokenBucket) {
	c.RateLimits = append(c.RateLimits, &routev3.RateLimit{Actions: []*routev3.RateLimit_Action{{
		ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{
			HeaderName: header, DescriptorKey: "header:" + header}}}}})
	c.Descriptors = append(c.Descriptors, &ratelimitv3.LocalRateLimitDescriptor{
		Entries: []*ratelimitv3.RateLimitDescriptor_Entry{{Key: "header:" + header}}, TokenBucket: b})
}

// perClientIP adds a wildcard descriptor keyed on the client address.
func perClientIP(c *localratelimitv3.LocalRateLimit, b *typev3.TokenBucket) {
	c.RateLimits = append(c.RateLimits, &routev3.RateLimit{Actions: []*routev3.RateLimit_Action{{
		ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{}}}}})
	c.Descriptors = append(c.Descriptors, &ratelimitv3.LocalRateLimitDescriptor{
		Entries: []*ratelimitv3.RateLimitDescriptor_Entry{{Key: "remote_address"}}, TokenBucket: b})
}

func newLimiter(t *testing.T, c *localratelimitv3.LocalRateLimit, clk *clock) *Limiter {
	t.Helper()
	l, err := New(c, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// request sends one request through l; it reports whether l let it through, and the response.
func request(l *Limiter, client string, h http.Header) (bool, *httptest.ResponseRecorder) {
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	for k, v := range h {
		r.Header[k] = v
	}
	if client != "" {
		r = r.WithContext(hcm.NewContext(r.Context(), hcm.Downstream{RemoteAddress: netip.MustParseAddr(client)}))
	}
	w := httptest.NewRecorder()
	_, next := l.Serve(w, r)
	return next, w
}

// TestBurstAndRefill: a full bucket of 3 lets 3 requests through and rejects the rest with 429
// "local_rate_limited", the x-ratelimit headers and Retry-After; tokens come back at
// tokens_per_fill per fill_interval, continuously, never above max_tokens.
func TestBurstAndRefill(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	l := newLimiter(t, config(tokenBucket(3, 1, 10*time.Second)), clk)
	var rejected int
	for i := range 5 {
		next, w := request(l, "", nil)
		if next {
			if got, want := w.Header().Get("X-Ratelimit-Remaining"), fmt.Sprint(2-i); got != want {
				t.Errorf("request %d: x-ratelimit-remaining = %q, want %q", i, got, want)
			}
			continue
		}
		rejected++
		if w.Code != http.StatusTooManyRequests || w.Body.String() != "local_rate_limited" {
			t.Errorf("request %d: %d %q, want 429 local_rate_limited", i, w.Code, w.Body.String())
		}
		for k, v := range map[string]string{"X-Ratelimit-Limit": "3", "X-Ratelimit-Remaining": "0",
			"X-Ratelimit-Reset": "10", "Retry-After": "10", "Content-Type": "text/plain"} {
			if got := w.Header().Get(k); got != v {
				t.Errorf("request %d: %s = %q, want %q", i, k, got, v)
			}
		}
		if w.Header().Get("X-Envoy-Ratelimited") != "" {
			t.Errorf("x-envoy-ratelimited sent; Envoy's local rate limit does not send it")
		}
	}
	if rejected != 2 {
		t.Errorf("%d of 5 rejected, want 2", rejected)
	}
	clk.t = clk.t.Add(9 * time.Second) // 0.9 token: not yet
	if next, _ := request(l, "", nil); next {
		t.Errorf("a request went through with 0.9 tokens")
	}
	clk.t = clk.t.Add(time.Second) // 0.9 + 0.1 (the rejected request still filled)
	if next, _ := request(l, "", nil); !next {
		t.Errorf("a request was rejected after a whole fill interval")
	}
	clk.t = clk.t.Add(time.Hour)
	passed := 0
	for range 5 {
		if next, _ := request(l, "", nil); next {
			passed++
		}
	}
	if passed != 3 {
		t.Errorf("after an hour %d of 5 passed, want max_tokens = 3", passed)
	}
}

// TestPerClientBuckets: each client IP and each header value has its own bucket, on top of the
// route's; a request without the header takes from the route's bucket only.
func TestPerClientBuckets(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	c := config(tokenBucket(100, 100, time.Minute))
	perClientIP(c, tokenBucket(2, 1, time.Minute))
	perClientHeader(c, "x-user-sub", tokenBucket(3, 1, time.Minute))
	c.MaxDynamicDescriptors = wrapperspb.UInt32(10)
	l := newLimiter(t, c, clk)
	count := func(client string, h http.Header) (passed int) {
		for range 5 {
			if next, _ := request(l, client, h); next {
				passed++
			}
		}
		return passed
	}
	if got := count("10.0.0.1", nil); got != 2 {
		t.Errorf("client 10.0.0.1: %d of 5 passed, want 2", got)
	}
	if got := count("10.0.0.2", nil); got != 2 {
		t.Errorf("client 10.0.0.2: %d of 5 passed, want 2 (its own bucket)", got)
	}
	if got := count("10.0.0.3", http.Header{"X-User-Sub": {"alice"}}); got != 2 {
		t.Errorf("client 10.0.0.3 as alice: %d of 5 passed, want 2 (the IP bucket is the stricter)", got)
	}
	passedBob := 0
	for i := range 5 {
		if next, _ := request(l, fmt.Sprintf("10.0.1.%d", i), http.Header{"X-User-Sub": {"bob"}}); next {
			passedBob++
		}
	}
	if passedBob != 3 {
		t.Errorf("bob from 5 addresses: %d of 5 passed, want 3 (his header bucket)", passedBob)
	}
	_, w := request(l, "", http.Header{"X-User-Sub": {"bob"}})
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "60" || w.Header().Get("X-Ratelimit-Limit") != "3" {
		t.Errorf("bob over his limit: %d, Retry-After %q, limit %q; want 429 with his bucket's figures (60, 3)",
			w.Code, w.Header().Get("Retry-After"), w.Header().Get("X-Ratelimit-Limit"))
	}
}

// TestDynamicDescriptorsAreBounded: a wildcard descriptor keeps at most max_dynamic_descriptors
// buckets, evicting the least recently used (whose client then starts over with a full bucket).
func TestDynamicDescriptorsAreBounded(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	c := config(tokenBucket(1000, 1000, time.Minute))
	perClientIP(c, tokenBucket(1, 1, time.Minute))
	c.MaxDynamicDescriptors = wrapperspb.UInt32(3)
	l := newLimiter(t, c, clk)
	for i := range 50 {
		request(l, fmt.Sprintf("10.0.0.%d", i), nil)
	}
	if got := l.buckets(); got != 1+3 {
		t.Errorf("%d buckets after 50 clients, want the route's and 3", got)
	}
	if next, _ := request(l, "10.0.0.49", nil); next {
		t.Errorf("the most recent client got a fresh bucket")
	}
	if next, _ := request(l, "10.0.0.0", nil); !next {
		t.Errorf("an evicted client did not start over")
	}
}

// TestUnsupportedSettingsAreErrors: settings the gateway does not execute are refused, so the
// route is withheld rather than limited differently.
func TestUnsupportedSettingsAreErrors(t *testing.T) {
	for name, mutate := range map[string]func(*localratelimitv3.LocalRateLimit){
		"per connection": func(c *localratelimitv3.LocalRateLimit) { c.LocalRateLimitPerDownstreamConnection = true },
		"sampled":        func(c *localratelimitv3.LocalRateLimit) { c.FilterEnforced.DefaultValue.Numerator = 50 },
		"route-level descriptors": func(c *localratelimitv3.LocalRateLimit) {
			c.Descriptors = []*ratelimitv3.LocalRateLimitDescriptor{{Entries: []*ratelimitv3.RateLimitDescriptor_Entry{{Key: "k"}},
				TokenBucket: tokenBucket(1, 1, time.Second)}}
		},
		"formatter": func(c *localratelimitv3.LocalRateLimit) {
			c.ResponseHeadersToAdd = []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x", Value: "%START_TIME%"}}}
		},
		"fast fill": func(c *localratelimitv3.LocalRateLimit) {
			c.TokenBucket.FillInterval = durationpb.New(time.Millisecond)
		},
	} {
		c := config(tokenBucket(1, 1, time.Second))
		c.FilterEnforced = &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100}}
		mutate(c)
		if _, err := New(c, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestNotEnforcedAndDisabled: without filter_enforced requests over the limit go through (with
// the x-ratelimit headers); without filter_enabled the filter does nothing.
func TestNotEnforcedAndDisabled(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	c := config(tokenBucket(1, 1, time.Minute))
	c.FilterEnforced = nil
	l := newLimiter(t, c, clk)
	request(l, "", nil)
	if next, w := request(l, "", nil); !next || w.Header().Get("X-Ratelimit-Remaining") != "0" {
		t.Errorf("not enforced: continued=%v remaining=%q, want through with remaining 0", next, w.Header().Get("X-Ratelimit-Remaining"))
	}
	c.FilterEnabled = nil
	l = newLimiter(t, c, clk)
	for range 3 {
		if next, w := request(l, "", nil); !next || len(w.Header()) != 0 {
			t.Fatalf("disabled: continued=%v headers=%v", next, w.Header())
		}
	}
}

// TestConcurrentRequests: requests in parallel take exactly max_tokens tokens between them.
func TestConcurrentRequests(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	c := config(tokenBucket(100, 1, time.Hour))
	perClientHeader(c, "x-user-sub", tokenBucket(1000, 1, time.Hour))
	l := newLimiter(t, c, clk)
	var passed atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			for range 10 {
				if next, _ := request(l, "", http.Header{"X-User-Sub": {fmt.Sprint(i % 3)}}); next {
					passed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := passed.Load(); got != 100 {
		t.Errorf("%d of 200 parallel requests passed, want 100", got)
	}
}
