package dataplane_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// rateLimitStack serves the forwarding stack with the routes of paths under policy, behind a
// trusted proxy (so that X-Forwarded-For says who the client is), and waits until path answers
// with x-ratelimit headers — which takes one token of probe's buckets.
func rateLimitStack(t *testing.T, policy *ir.EdgePolicy, path string, probe http.Header, tune ...func(*dataplane.Options)) *forwardingStack {
	t.Helper()
	s := startForwardingStack(t, tune...)
	g := s.base
	g.Forwarding = &ir.Forwarding{GenerateRequestID: true} // the last X-Forwarded-For address is the client
	g.Routes = nil
	for _, r := range s.base.Routes {
		r.Policy = policy
		g.Routes = append(g.Routes, r)
	}
	if err := s.xds.Update(g); err != nil {
		t.Fatal(err)
	}
	eventually(t, "rate limit served", func() error {
		if resp, body := s.get(t, path, probe); resp.StatusCode != http.StatusOK || resp.Header.Get("X-Ratelimit-Limit") == "" {
			return fmt.Errorf("%d %s without x-ratelimit-limit", resp.StatusCode, body)
		}
		return nil
	})
	return s
}

// burst sends n GETs to path with header and counts the 429s, checking each 429 is Envoy's.
func burst(t *testing.T, s *forwardingStack, path string, header http.Header, n int, limit, retryAfter string) (limited int) {
	t.Helper()
	for range n {
		resp, body := s.get(t, path, header)
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			limited++
			for k, v := range map[string]string{"X-Ratelimit-Limit": limit, "X-Ratelimit-Remaining": "0",
				"X-Ratelimit-Reset": retryAfter, "Retry-After": retryAfter, "Content-Type": "text/plain"} {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("429 of %s: %s = %q, want %q", path, k, got, v)
				}
			}
			if body != "local_rate_limited" {
				t.Errorf("429 of %s: body %q, want local_rate_limited", path, body)
			}
		default:
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	return limited
}

// TestRateLimitBurst: a route bucket of 5 that does not refill during the test answers exactly
// 3 of 8 requests 429 (the first of the 8 found the policy served), with the x-ratelimit
// headers and Retry-After, on the gRPC and the Dubbo route alike.
func TestRateLimitBurst(t *testing.T) {
	policy := &ir.EdgePolicy{Name: "limited", RateLimit: &ir.RateLimit{
		Bucket: ir.TokenBucket{MaxTokens: 5, TokensPerFill: 1, FillInterval: time.Hour}}}
	for _, path := range []string{grpcPath, dubboAllPath} {
		t.Run(path, func(t *testing.T) {
			access := &syncBuffer{}
			log, err := telemetry.OpenAccessLog(telemetry.AccessLogConfig{Enabled: true}, access, nil)
			if err != nil {
				t.Fatal(err)
			}
			s := rateLimitStack(t, policy, path, nil, func(o *dataplane.Options) { o.AccessLog = log })
			if got := burst(t, s, path, nil, 7, "5", "3600"); got != 3 {
				t.Errorf("%d of 8 requests limited, want 3", got)
			}
			if got := strings.Count(access.String(), `"response_flags":"RL","response_code_details":"local_rate_limited"`); got != 3 {
				t.Errorf("%d access log lines flag RL local_rate_limited, want 3:\n%s", got, access.String())
			}
			// A push that leaves the route's policy alone must not refill its bucket.
			g := s.base
			g.Forwarding = &ir.Forwarding{GenerateRequestID: true}
			g.Routes = []ir.Route{{Name: "new", Cluster: "http:echo", Match: ir.Match{PathPrefix: "/new/"}}}
			for _, r := range s.base.Routes {
				r.Policy = policy
				g.Routes = append(g.Routes, r)
			}
			if err := s.xds.Update(g); err != nil {
				t.Fatal(err)
			}
			eventually(t, "push served", func() error {
				if resp, _ := s.get(t, "/new/x", nil); resp.StatusCode != http.StatusOK {
					return fmt.Errorf("new route answers %d", resp.StatusCode)
				}
				return nil
			})
			if got := burst(t, s, path, nil, 1, "5", "3600"); got != 1 {
				t.Errorf("after an unrelated push the route was served again: its bucket was refilled")
			}
		})
	}
}

// TestRateLimitPerClient: each value of the identity header and each client address has a
// bucket of its own, on top of the route's; requests without the header are limited by the
// route's bucket only.
func TestRateLimitPerClient(t *testing.T) {
	policy := &ir.EdgePolicy{Name: "partners", RateLimit: &ir.RateLimit{
		Bucket: ir.TokenBucket{MaxTokens: 1000, TokensPerFill: 1000, FillInterval: time.Hour},
		PerClient: []ir.ClientRateLimit{
			{Key: ir.ClientHeader, Header: "x-user-sub", Bucket: ir.TokenBucket{MaxTokens: 3, TokensPerFill: 1, FillInterval: time.Hour}},
			{Key: ir.ClientIP, Bucket: ir.TokenBucket{MaxTokens: 4, TokensPerFill: 1, FillInterval: 2 * time.Hour}},
		},
		MaxClients: 100,
	}}
	s := rateLimitStack(t, policy, httpPath, http.Header{"X-User-Sub": {"probe"}, "X-Forwarded-For": {"203.0.113.99"}})
	for i, user := range []string{"alice", "bob"} {
		limited := 0
		for j := range 5 { // from a new address each time: only the user's bucket can run out
			h := http.Header{"X-User-Sub": {user}, "X-Forwarded-For": {fmt.Sprintf("198.51.100.%d", 10*i+j)}}
			limited += burst(t, s, httpPath, h, 1, "3", "3600")
		}
		if limited != 2 {
			t.Errorf("%s: %d of 5 limited, want 2 (3 tokens of their own)", user, limited)
		}
	}
	for _, ip := range []string{"203.0.113.1", "203.0.113.2"} {
		h := http.Header{"X-Forwarded-For": {ip}}
		if got := burst(t, s, httpPath, h, 6, "4", "7200"); got != 2 {
			t.Errorf("client %s: %d of 6 limited, want 2 (4 tokens of its own)", ip, got)
		}
	}
}

// TestRateLimitedAnswerCarriesCORS: the CORS filter runs before the rate limit, so a browser
// gets the 429 itself (with its Allow-Origin), as Envoy's local reply passes the CORS filter's
// encodeHeaders; a preflight takes no token.
func TestRateLimitedAnswerCarriesCORS(t *testing.T) {
	policy := &ir.EdgePolicy{Name: "web",
		CORS:      &ir.CORS{AllowOrigins: []ir.StringMatch{{Exact: "https://app.example.com"}}, AllowMethods: []string{"GET"}},
		RateLimit: &ir.RateLimit{Bucket: ir.TokenBucket{MaxTokens: 2, TokensPerFill: 1, FillInterval: time.Hour}}}
	origin := http.Header{"Origin": {"https://app.example.com"}}
	s := rateLimitStack(t, policy, grpcPath, origin) // one token taken
	for range 3 {
		if resp, _ := s.send(t, http.MethodOptions, grpcPath, preflightHeaders("https://app.example.com", "GET"), ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("preflight: %d", resp.StatusCode)
		}
	}
	resp, _ := s.get(t, grpcPath, origin)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("second request: %d, want 200 (preflights take no token)", resp.StatusCode)
	}
	resp, body := s.get(t, grpcPath, origin)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("third request: %d %q allow-origin %q, want 429 with the origin allowed", resp.StatusCode, body, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}
