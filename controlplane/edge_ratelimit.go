package controlplane

// The rate limit block of an edge policy. Envoy: envoy.filters.http.local_ratelimit in the
// connection manager (disabled there: no token bucket, no filter_enabled) and, per route, a
// LocalRateLimit with the route's token_bucket, filter_enabled and filter_enforced at 100 %,
// the x-ratelimit-* headers (DRAFT_VERSION_03) and Retry-After (enable_retry_after_header). Each
// per-client bucket is a wildcard descriptor (one entry with a key and no value: Envoy keeps a
// bucket per value, at most max_dynamic_descriptors of them, least recently used evicted;
// local_ratelimit_impl.cc, dynamic_descriptor.cc) whose entry the LocalRateLimit's own
// rate_limits produce (remote_address, request_headers). The rate_limits go in the
// LocalRateLimit, not on the route action: the filter then ignores the route's and virtual
// host's rate_limits (go-control-plane v1.40 documents it; Envoy warns that route-level
// descriptors for the local rate limit will be ignored in the future, local_ratelimit.cc).

import (
	"fmt"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// localRateLimitFilter is the HTTP filter that executes local rate limits.
const localRateLimitFilter = "envoy.filters.http.local_ratelimit"

// localRateLimitStatPrefix is the stat prefix of the filter and of every route's config.
const localRateLimitStatPrefix = "http_local_rate_limiter"

// remoteAddressKey is the descriptor key Envoy's remote_address action produces.
const remoteAddressKey = "remote_address"

// clientHeaderKeyPrefix prefixes the descriptor key of a per-client header bucket.
const clientHeaderKeyPrefix = "header:"

// localRateLimit is the per-route LocalRateLimit of p's rate limit block; nil when it has none.
func localRateLimit(p *ir.EdgePolicy) (*localratelimitv3.LocalRateLimit, error) {
	rl := p.RateLimit
	if rl == nil {
		return nil, nil
	}
	bucket, err := tokenBucket(rl.Bucket)
	if err != nil {
		return nil, fmt.Errorf("rate limit: %w", err)
	}
	always := &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{
		Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}}
	out := &localratelimitv3.LocalRateLimit{
		StatPrefix:                      localRateLimitStatPrefix,
		TokenBucket:                     bucket,
		FilterEnabled:                   always,
		FilterEnforced:                  always,
		EnableXRatelimitHeaders:         ratelimitv3.XRateLimitHeadersRFCVersion_DRAFT_VERSION_03,
		EnableRetryAfterHeader:          true,
		AlwaysConsumeDefaultTokenBucket: wrapperspb.Bool(true),
	}
	seen := map[string]bool{}
	for i, c := range rl.PerClient {
		b, err := tokenBucket(c.Bucket)
		if err != nil {
			return nil, fmt.Errorf("rate limit: client bucket %d: %w", i, err)
		}
		var key string
		var action *routev3.RateLimit_Action
		switch c.Key {
		case ir.ClientIP:
			key = remoteAddressKey
			action = &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{
				RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{}}}
		case ir.ClientHeader:
			if !httpMethodToken.MatchString(c.Header) {
				return nil, fmt.Errorf("rate limit: client bucket %d: %q is not a header name", i, c.Header)
			}
			key = clientHeaderKeyPrefix + c.Header
			action = &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{
				RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{HeaderName: c.Header, DescriptorKey: key}}}
		default:
			return nil, fmt.Errorf("rate limit: client bucket %d: unknown key %q", i, c.Key)
		}
		if seen[key] {
			return nil, fmt.Errorf("rate limit: client bucket %d: key %s used twice", i, key)
		}
		seen[key] = true
		out.RateLimits = append(out.RateLimits, &routev3.RateLimit{Actions: []*routev3.RateLimit_Action{action}})
		out.Descriptors = append(out.Descriptors, &ratelimitv3.LocalRateLimitDescriptor{
			Entries:     []*ratelimitv3.RateLimitDescriptor_Entry{{Key: key}},
			TokenBucket: b,
		})
	}
	if len(rl.PerClient) > 0 {
		if rl.MaxClients == 0 {
			return nil, fmt.Errorf("rate limit: max clients is 0")
		}
		out.MaxDynamicDescriptors = wrapperspb.UInt32(rl.MaxClients)
	}
	return out, nil
}

// tokenBucket is the Envoy TokenBucket of b; Envoy refuses fill intervals under 50ms.
func tokenBucket(b ir.TokenBucket) (*typev3.TokenBucket, error) {
	switch {
	case b.MaxTokens == 0:
		return nil, fmt.Errorf("max tokens is 0")
	case b.TokensPerFill == 0:
		return nil, fmt.Errorf("tokens per fill is 0")
	case b.FillInterval < 50*time.Millisecond || b.FillInterval%time.Millisecond != 0:
		return nil, fmt.Errorf("fill interval %s is not a whole number of milliseconds of at least 50ms", b.FillInterval)
	}
	return &typev3.TokenBucket{MaxTokens: b.MaxTokens, TokensPerFill: wrapperspb.UInt32(b.TokensPerFill),
		FillInterval: durationpb.New(b.FillInterval)}, nil
}

// localRateLimitHTTPFilter is the connection manager's local rate limit filter: disabled by
// itself (no filter_enabled), so only routes with a per-route LocalRateLimit are limited.
func localRateLimitHTTPFilter() (*hcmv3.HttpFilter, error) {
	cfg, err := typedConfig(&localratelimitv3.LocalRateLimit{StatPrefix: localRateLimitStatPrefix})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpFilter{Name: localRateLimitFilter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}}, nil
}
