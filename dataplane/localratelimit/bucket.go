package localratelimit

import (
	"math"
	"time"
)

// bucket is Envoy's RateLimitTokenBucket over AtomicTokenBucketImpl
// (source/common/common/token_bucket_impl.cc): it starts full, gains tokens continuously at
// tokens_per_fill per fill_interval (the fill happens when a token is asked for), never above
// max_tokens, and gives a token only when a whole one is there. The Limiter's mutex guards it.
type bucket struct {
	max      float64
	rate     float64 // tokens per second
	tokens   float64
	lastFill time.Time
}

// newBucket is a full bucket.
func newBucket(maxTokens, tokensPerFill uint32, fillInterval time.Duration, now time.Time) *bucket {
	return &bucket{max: float64(maxTokens), rate: float64(tokensPerFill) / fillInterval.Seconds(),
		tokens: float64(maxTokens), lastFill: now}
}

// consume fills the bucket for the time since the last fill and takes one token if a whole one
// is there (AtomicTokenBucketImpl::consume).
func (b *bucket) consume(now time.Time) bool {
	b.tokens = math.Min(b.max, b.tokens+now.Sub(b.lastFill).Seconds()*b.rate)
	b.lastFill = now
	if math.Floor(b.tokens) < 1 {
		return false
	}
	b.tokens--
	return true
}

// maxTokens is x-ratelimit-limit.
func (b *bucket) maxTokens() uint64 { return uint64(b.max) }

// remainingTokens is x-ratelimit-remaining: the whole tokens left after the last consume.
func (b *bucket) remainingTokens() uint64 { return uint64(b.tokens) }

// nextTokenAvailable is AtomicTokenBucketImpl::nextTokenAvailable: zero while a token is there,
// else the time one token takes to come (not what is left of it), in whole milliseconds
// rounded up.
func (b *bucket) nextTokenAvailable() time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil(1/b.rate*1000)) * time.Millisecond
}

// resetSeconds is x-ratelimit-reset: RateLimitTokenBucket::resetSeconds, which divides the
// milliseconds by 1000 in integers (so rounds down).
func (b *bucket) resetSeconds() uint64 {
	return uint64(b.nextTokenAvailable().Milliseconds() / 1000)
}

// retryAfterSeconds is Retry-After (enable_retry_after_header): the seconds until the bucket
// has a token again, rounded up and at least 1.
func (b *bucket) retryAfterSeconds() uint64 {
	return max(1, uint64(math.Ceil(b.nextTokenAvailable().Seconds())))
}
