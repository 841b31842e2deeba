// Package localratelimit executes Envoy's local rate limit filter
// (envoy.filters.http.local_ratelimit) from its configuration,
// envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit, with the semantics of
// Envoy's source/extensions/filters/http/local_ratelimit/local_ratelimit.cc and
// source/extensions/filters/common/local_ratelimit/local_ratelimit_impl.cc:
//
//   - The filter runs only where filter_enabled says (unset: never); it rejects only where
//     filter_enforced says (unset: never). The gateway takes either as all or nothing.
//   - The config's own rate_limits turn the request into descriptors; each descriptor that
//     matches a configured one (exactly, or a wildcard entry without a value, which keeps a
//     bucket per value, at most max_dynamic_descriptors, least recently used evicted) takes a
//     token from its bucket, lowest fill rate first, and the first empty one rejects the request;
//     the default bucket (token_bucket) takes one too when no descriptor matched or
//     always_consume_default_token_bucket (default true).
//   - A rejected request is answered with status (429 unless a status >= 400 is set) and body
//     "local_rate_limited" (text/plain, as Envoy's local replies), response_headers_to_add, and
//     Retry-After when enable_retry_after_header. Envoy's local rate limit does not send
//     x-envoy-ratelimited (only the global ratelimit filter does), nor does the gateway.
//   - With enable_x_ratelimit_headers DRAFT_VERSION_03, every response of a request the filter
//     counted carries x-ratelimit-limit, x-ratelimit-remaining and x-ratelimit-reset of the
//     bucket that decided (the one that rejected, else the first matched descriptor's, else the
//     default bucket). Envoy computes them when the response starts; the gateway when it decides.
//
// Buckets live in the Limiter: a routing table that keeps a route's Limiter when its
// configuration is unchanged keeps its buckets (routetable).
package localratelimit

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"

	"github.com/rpcbridge/rpcbridge/dataplane/fraction"
)

// Body is the body of a rate-limited answer.
const Body = "local_rate_limited"

// Details is the %RESPONSE_CODE_DETAILS% of a rate-limited answer (Envoy's sendLocalReply
// details), flagged RL in the access log.
const Details = "local_rate_limited"

// defaultMaxDynamicDescriptors is Envoy's max_dynamic_descriptors default.
const defaultMaxDynamicDescriptors = 20

// The x-ratelimit headers (XRateLimitHeaders) and Retry-After.
const (
	headerLimit      = "X-Ratelimit-Limit"
	headerRemaining  = "X-Ratelimit-Remaining"
	headerReset      = "X-Ratelimit-Reset"
	headerRetryAfter = "Retry-After"
)

// Limiter executes one LocalRateLimit configuration. It is safe for concurrent use.
type Limiter struct {
	enabled, enforced bool
	status            int
	xHeaders          bool
	retryAfter        bool
	alwaysDefault     bool
	responseHeaders   []*corev3.HeaderValueOption
	rateLimits        []rateLimit
	now               func() time.Time

	mu          sync.Mutex
	defaultB    *bucket // nil without token_bucket
	descriptors []*configDescriptor
}

// New decodes cfg; now is the clock (nil: time.Now). Settings the gateway does not execute are
// errors, so that the route is withheld rather than limited differently than Envoy limits it.
func New(cfg *localratelimitv3.LocalRateLimit, now func() time.Time) (*Limiter, error) {
	if now == nil {
		now = time.Now
	}
	switch {
	case cfg.GetLocalRateLimitPerDownstreamConnection():
		return nil, fmt.Errorf("local_rate_limit_per_downstream_connection is not supported")
	case cfg.GetLocalClusterRateLimit() != nil:
		return nil, fmt.Errorf("local_cluster_rate_limit is not supported")
	case len(cfg.GetRequestHeadersToAddWhenNotEnforced()) > 0:
		return nil, fmt.Errorf("request_headers_to_add_when_not_enforced is not supported")
	case cfg.GetRateLimitedAsResourceExhausted():
		return nil, fmt.Errorf("rate_limited_as_resource_exhausted is not supported")
	case len(cfg.GetDescriptors()) > 0 && len(cfg.GetRateLimits()) == 0:
		return nil, fmt.Errorf("descriptors without the config's own rate_limits (route or virtual host rate_limits) are not supported")
	}
	l := &Limiter{now: now, status: http.StatusTooManyRequests,
		xHeaders:        cfg.GetEnableXRatelimitHeaders() == ratelimitv3.XRateLimitHeadersRFCVersion_DRAFT_VERSION_03,
		retryAfter:      cfg.GetEnableRetryAfterHeader(),
		alwaysDefault:   cfg.GetAlwaysConsumeDefaultTokenBucket() == nil || cfg.GetAlwaysConsumeDefaultTokenBucket().GetValue(),
		responseHeaders: cfg.GetResponseHeadersToAdd()}
	var err error
	if l.enabled, err = fraction.AllOrNothing(cfg.GetFilterEnabled(), false); err != nil {
		return nil, fmt.Errorf("filter_enabled: %w", err)
	}
	if l.enforced, err = fraction.AllOrNothing(cfg.GetFilterEnforced(), false); err != nil {
		return nil, fmt.Errorf("filter_enforced: %w", err)
	}
	if code := int(cfg.GetStatus().GetCode()); code >= 400 {
		l.status = code
	}
	for i, h := range l.responseHeaders {
		if strings.Contains(h.GetHeader().GetValue(), "%") {
			return nil, fmt.Errorf("response_headers_to_add[%d]: substitution formatters are not supported", i)
		}
	}
	start := now()
	if tb := cfg.GetTokenBucket(); tb != nil {
		interval := tb.GetFillInterval().AsDuration()
		if interval > 0 { // Envoy ignores the default bucket for a zero fill interval
			if interval < 50*time.Millisecond {
				return nil, fmt.Errorf("token bucket fill interval %s is under 50ms", interval)
			}
			perFill := uint32(1)
			if tb.GetTokensPerFill() != nil {
				perFill = tb.GetTokensPerFill().GetValue()
			}
			l.defaultB = newBucket(tb.GetMaxTokens(), perFill, interval, start)
		}
	}
	lru := defaultMaxDynamicDescriptors
	if v := cfg.GetMaxDynamicDescriptors(); v != nil {
		lru = int(max(1, v.GetValue()))
	}
	seen := map[string]bool{}
	for i, d := range cfg.GetDescriptors() {
		cd, err := newConfigDescriptor(d, lru, start)
		if err != nil {
			return nil, fmt.Errorf("descriptors[%d]: %w", i, err)
		}
		if seen[cd.entries.String()] {
			return nil, fmt.Errorf("descriptors[%d]: duplicate descriptor", i)
		}
		seen[cd.entries.String()] = true
		l.descriptors = append(l.descriptors, cd)
	}
	// Fixed descriptors are looked up before wildcard ones (descriptors_ then
	// dynamic_descriptors_ in requestAllowed).
	slices.SortStableFunc(l.descriptors, func(a, b *configDescriptor) int {
		switch {
		case a.wildcard == b.wildcard:
			return 0
		case b.wildcard:
			return -1
		}
		return 1
	})
	for i, rl := range cfg.GetRateLimits() {
		d, err := decodeRateLimit(rl)
		if err != nil {
			return nil, fmt.Errorf("rate_limits[%d]: %w", i, err)
		}
		l.rateLimits = append(l.rateLimits, d)
	}
	return l, nil
}

// decision is what the limiter decided for a request: allowed or not, and, when counted, the
// figures of the bucket that decided, for the x-ratelimit headers and Retry-After.
type decision struct {
	allowed                        bool
	limit, remaining, reset, retry uint64
	counted                        bool
}

// decide takes the request's tokens (LocalRateLimiterImpl::requestAllowed).
func (l *Limiter) decide(r *http.Request) decision {
	var requested []descriptor
	for _, rl := range l.rateLimits {
		if d, ok := rl.populate(r); ok {
			requested = append(requested, d)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var matched []*bucket
	for _, d := range requested {
		for _, cd := range l.descriptors {
			if cd.matches(d) {
				matched = append(matched, cd.bucketFor(d, now))
				break
			}
		}
	}
	slices.SortStableFunc(matched, func(a, b *bucket) int {
		switch {
		case a.rate < b.rate:
			return -1
		case a.rate > b.rate:
			return 1
		}
		return 0
	})
	for _, b := range matched {
		if !b.consume(now) {
			return figures(false, b)
		}
	}
	if len(matched) == 0 || l.alwaysDefault {
		if l.defaultB == nil {
			if len(matched) == 0 {
				return decision{allowed: true}
			}
			return figures(true, matched[0])
		}
		if !l.defaultB.consume(now) {
			return figures(false, l.defaultB)
		}
		if len(matched) == 0 {
			return figures(true, l.defaultB)
		}
	}
	return figures(true, matched[0])
}

// figures is the decision with b's figures, read under the limiter's lock.
func figures(allowed bool, b *bucket) decision {
	return decision{allowed: allowed, counted: true, limit: b.maxTokens(), remaining: b.remainingTokens(),
		reset: b.resetSeconds(), retry: b.retryAfterSeconds()}
}

// Serve implements the gateway's edge step: it answers a request over the limit, and gives the
// others the x-ratelimit headers.
func (l *Limiter) Serve(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if !l.enabled {
		return r, true
	}
	d := l.decide(r)
	h := w.Header()
	if d.counted && l.xHeaders {
		h.Add(headerLimit, strconv.FormatUint(d.limit, 10))
		h.Add(headerRemaining, strconv.FormatUint(d.remaining, 10))
		h.Add(headerReset, strconv.FormatUint(d.reset, 10))
	}
	if d.allowed || !l.enforced {
		return r, true
	}
	addHeaders(h, l.responseHeaders)
	if l.retryAfter && l.status == http.StatusTooManyRequests && h.Get(headerRetryAfter) == "" {
		h.Set(headerRetryAfter, strconv.FormatUint(d.retry, 10))
	}
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", strconv.Itoa(len(Body)))
	w.WriteHeader(l.status)
	_, _ = w.Write([]byte(Body))
	return r, false
}

// addHeaders applies response_headers_to_add with their append actions.
func addHeaders(h http.Header, opts []*corev3.HeaderValueOption) {
	for _, o := range opts {
		k, v := o.GetHeader().GetKey(), o.GetHeader().GetValue()
		action := o.GetAppendAction()
		if o.GetAppend() != nil { // the deprecated append overrides append_action
			action = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
			if o.GetAppend().GetValue() {
				action = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
			}
		}
		_, exists := h[http.CanonicalHeaderKey(k)]
		switch {
		case v == "" && !o.GetKeepEmptyValue():
		case action == corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
			h.Add(k, v)
		case action == corev3.HeaderValueOption_ADD_IF_ABSENT && !exists,
			action == corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
			action == corev3.HeaderValueOption_OVERWRITE_IF_EXISTS && exists:
			h.Set(k, v)
		}
	}
}

// buckets is how many buckets the limiter keeps (the default one, fixed descriptors' and the
// wildcard descriptors' current ones).
func (l *Limiter) buckets() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	if l.defaultB != nil {
		n++
	}
	for _, d := range l.descriptors {
		n += d.size()
	}
	return n
}

// ResponseDetails implements routetable.Answering.
func (l *Limiter) ResponseDetails() string { return Details }

// Enabled reports whether the filter runs at all (filter_enabled); a disabled limiter's Serve
// passes every request.
func (l *Limiter) Enabled() bool { return l.enabled }
