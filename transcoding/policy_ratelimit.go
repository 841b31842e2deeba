package transcoding

// The rateLimit: block of a policy: token buckets per route and per client. Emitted as Envoy's
// envoy.filters.http.local_ratelimit with a per-route LocalRateLimit
// (controlplane/edge_ratelimit.go).

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// DefaultMaxClients is how many client buckets a perClient entry keeps when maxClients is left
// out (Envoy's own default, 20, would let 21 clients take turns at fresh buckets).
const DefaultMaxClients = 1000

// RateLimitRule is a policy's local rate limit: every request of each of the policy's routes takes
// a token from the route's bucket and from its client's bucket of each perClient entry; a request
// that finds a bucket empty is answered 429 with Retry-After and x-ratelimit-* headers. Each
// gateway (and each Envoy) counts on its own.
type RateLimitRule struct {
	// TokenBucketRule is the route's bucket, shared by all its clients.
	TokenBucketRule `yaml:",inline"`
	// PerClient are buckets per client: one per client address (key: clientIP) or per value of a
	// request header (key: header, such as an identity header of the policy's authentication;
	// requests without it take from the route's bucket only).
	PerClient []ClientLimitRule `yaml:"perClient,omitempty"`
	// MaxClients is how many clients each perClient entry keeps a bucket for, the least recently
	// seen forgotten first (1000 when left out).
	MaxClients *uint32 `yaml:"maxClients,omitempty"`
}

// TokenBucketRule is a token bucket: it starts full and gains tokensPerFill tokens every
// fillInterval, up to maxTokens; each request takes one.
type TokenBucketRule struct {
	// MaxTokens is the bucket's size: the largest burst (at least 1).
	MaxTokens uint32 `yaml:"maxTokens"`
	// TokensPerFill is how many tokens each fillInterval adds (1 when left out).
	TokensPerFill *uint32 `yaml:"tokensPerFill,omitempty"`
	// FillInterval is how often tokensPerFill are added (at least 50ms, whole milliseconds).
	FillInterval yamltime.Duration `yaml:"fillInterval"`
}

// ClientLimitRule is one bucket per client.
type ClientLimitRule struct {
	// Key is what tells clients apart: clientIP (the address the connection manager trusts) or
	// header.
	Key ir.ClientKey `yaml:"key"`
	// Header is the request header of key: header.
	Header string `yaml:"header,omitempty"`
	// TokenBucketRule is each client's bucket.
	TokenBucketRule `yaml:",inline"`
}

// Validate reports every problem of the block, each a field.Error at its key.
func (r RateLimitRule) Validate() error {
	errs := []error{r.TokenBucketRule.validate()}
	seen := map[string]int{}
	for i, c := range r.PerClient {
		key := fmt.Sprintf("perClient[%d]", i)
		switch c.Key {
		case ir.ClientIP:
			if c.Header != "" {
				errs = append(errs, field.Errorf(key+".header", "only key: header takes a header"))
			}
		case ir.ClientHeader:
			if !headerToken.MatchString(c.Header) {
				errs = append(errs, field.Errorf(key+".header", "%q is not a header name", c.Header))
			}
		default:
			errs = append(errs, field.Errorf(key+".key", "%q is not a client key (clientIP, header)", c.Key))
		}
		id := string(c.Key) + ":" + strings.ToLower(c.Header)
		if first, dup := seen[id]; dup {
			errs = append(errs, field.Errorf(key, "the same client key as perClient[%d]", first))
		}
		seen[id] = i
		errs = append(errs, field.Under(key, c.TokenBucketRule.validate()))
	}
	if r.MaxClients != nil && *r.MaxClients == 0 {
		errs = append(errs, field.Errorf("maxClients", "must be at least 1"))
	}
	return errors.Join(errs...)
}

// validate reports the problems of a bucket.
func (b TokenBucketRule) validate() error {
	var errs []error
	if b.MaxTokens == 0 {
		errs = append(errs, field.Errorf("maxTokens", "must be at least 1"))
	}
	if b.TokensPerFill != nil && *b.TokensPerFill == 0 {
		errs = append(errs, field.Errorf("tokensPerFill", "must be at least 1"))
	}
	if d := b.FillInterval.Std(); d < 50*time.Millisecond || d%time.Millisecond != 0 {
		errs = append(errs, field.Errorf("fillInterval", "%s is not a whole number of milliseconds of at least 50ms (Envoy's minimum)", d))
	}
	return errors.Join(errs...)
}

// ir is the IR form of the bucket.
func (b TokenBucketRule) ir() ir.TokenBucket {
	out := ir.TokenBucket{MaxTokens: b.MaxTokens, TokensPerFill: 1, FillInterval: b.FillInterval.Std()}
	if b.TokensPerFill != nil {
		out.TokensPerFill = *b.TokensPerFill
	}
	return out
}

// ir is the IR form of the block.
func (r RateLimitRule) ir() *ir.RateLimit {
	out := &ir.RateLimit{Bucket: r.TokenBucketRule.ir()}
	for _, c := range r.PerClient {
		out.PerClient = append(out.PerClient, ir.ClientRateLimit{Key: c.Key, Header: strings.ToLower(c.Header), Bucket: c.TokenBucketRule.ir()})
	}
	if len(out.PerClient) > 0 {
		out.MaxClients = DefaultMaxClients
		if r.MaxClients != nil {
			out.MaxClients = *r.MaxClients
		}
	}
	return out
}
