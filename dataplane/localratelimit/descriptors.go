package localratelimit

import (
	"container/list"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"

	"github.com/rpcbridge/rpcbridge/dataplane/hcm"
)

// entry is one descriptor entry; an empty value in a configured descriptor is a wildcard.
type entry struct{ key, value string }

// descriptor is a list of entries, as Envoy's RateLimit::Descriptor.
type descriptor []entry

// String is the descriptor's map key: its entries, unambiguously (each key and value preceded by
// its length). It is computed per request, under the limiter's lock, so it is built in one
// buffer without fmt.
func (d descriptor) String() string {
	n := 0
	for _, e := range d {
		n += len(e.key) + len(e.value) + 8
	}
	b := make([]byte, 0, n)
	for _, e := range d {
		b = strconv.AppendInt(b, int64(len(e.key)), 10)
		b = append(append(b, ':'), e.key...)
		b = strconv.AppendInt(b, int64(len(e.value)), 10)
		b = append(append(b, ':'), e.value...)
	}
	return string(b)
}

// action is one rate_limits action: the entry it adds to a request's descriptor, or false when
// the request lacks what it needs (then the rate limit produces no descriptor), or skip.
type action func(r *http.Request) (e entry, ok, skip bool)

// rateLimit is one of the config's rate_limits: its actions produce one request descriptor.
type rateLimit []action

// decodeRateLimit decodes one rate_limits entry; only the actions the gateway executes are
// accepted, the others and the fields Envoy does not support there are errors.
func decodeRateLimit(rl *routev3.RateLimit) (rateLimit, error) {
	if rl.GetDisableKey() != "" || rl.GetLimit() != nil || rl.GetHitsAddend() != nil || rl.GetApplyOnStreamDone() ||
		rl.GetXRatelimitOption() != routev3.RateLimit_UNSPECIFIED {
		return nil, fmt.Errorf("only actions are supported")
	}
	var out rateLimit
	for i, a := range rl.GetActions() {
		switch s := a.GetActionSpecifier().(type) {
		case *routev3.RateLimit_Action_RemoteAddress_:
			// Envoy's RemoteAddressAction: the trusted downstream address (the connection
			// manager's use_remote_address and XFF rules), IP only; none when it is not IP.
			out = append(out, func(r *http.Request) (entry, bool, bool) {
				if d, ok := hcm.FromContext(r.Context()); ok && d.RemoteAddress.IsValid() {
					return entry{"remote_address", d.RemoteAddress.Unmap().String()}, true, false
				}
				return entry{}, false, false
			})
		case *routev3.RateLimit_Action_RequestHeaders_:
			// The name in canonical form: reading it allocates nothing per request.
			name := http.CanonicalHeaderKey(s.RequestHeaders.GetHeaderName())
			key, skip := s.RequestHeaders.GetDescriptorKey(), s.RequestHeaders.GetSkipIfAbsent()
			out = append(out, func(r *http.Request) (entry, bool, bool) {
				v := r.Header.Values(name)
				if len(v) == 0 {
					return entry{}, false, skip
				}
				return entry{key, v[0]}, true, false // RequestHeadersAction: the first value
			})
		case *routev3.RateLimit_Action_GenericKey_:
			key := s.GenericKey.GetDescriptorKey()
			if key == "" {
				key = "generic_key"
			}
			value := s.GenericKey.GetDescriptorValue()
			out = append(out, func(*http.Request) (entry, bool, bool) { return entry{key, value}, true, false })
		default:
			return nil, fmt.Errorf("action %d: %T is not supported", i, s)
		}
	}
	return out, nil
}

// populate is the request's descriptor of this rate limit; false when an action cannot add its
// entry (Envoy then generates no descriptor for the rate limit).
func (rl rateLimit) populate(r *http.Request) (descriptor, bool) {
	var d descriptor
	for _, a := range rl {
		e, ok, skip := a(r)
		switch {
		case skip:
			continue
		case !ok:
			return nil, false
		}
		d = append(d, e)
	}
	return d, len(d) > 0
}

// configDescriptor is one of the config's descriptors: a fixed one with its bucket, or a wildcard
// one (an entry without a value) keeping a bucket per matching request descriptor, the least
// recently used evicted beyond lruSize (dynamic_descriptor.cc).
type configDescriptor struct {
	entries  descriptor
	wildcard bool
	newOne   func(now time.Time) *bucket
	fixed    *bucket
	lruSize  int
	lru      *list.List // of *dynamicBucket, most recent first
	byKey    map[string]*list.Element
}

// dynamicBucket is a wildcard descriptor's bucket for one request descriptor.
type dynamicBucket struct {
	key    string
	bucket *bucket
}

// newConfigDescriptor decodes one descriptor.
func newConfigDescriptor(d *ratelimitv3.LocalRateLimitDescriptor, lruSize int, now time.Time) (*configDescriptor, error) {
	if d.GetShadowMode() {
		return nil, fmt.Errorf("shadow_mode is not supported")
	}
	tb := d.GetTokenBucket()
	interval := tb.GetFillInterval().AsDuration()
	if interval < 50*time.Millisecond {
		return nil, fmt.Errorf("token bucket fill interval %s is under 50ms", interval)
	}
	perFill := uint32(1)
	if tb.GetTokensPerFill() != nil {
		perFill = tb.GetTokensPerFill().GetValue()
	}
	out := &configDescriptor{lruSize: lruSize}
	for _, e := range d.GetEntries() {
		out.entries = append(out.entries, entry{e.GetKey(), e.GetValue()})
		out.wildcard = out.wildcard || e.GetValue() == ""
	}
	out.newOne = func(now time.Time) *bucket { return newBucket(tb.GetMaxTokens(), perFill, interval, now) }
	if out.wildcard {
		out.lru, out.byKey = list.New(), map[string]*list.Element{}
	} else {
		out.fixed = out.newOne(now)
	}
	return out, nil
}

// matches reports whether a request descriptor matches: the same keys in the same order and the
// same values where the configured one has a value (matchDescriptorEntries).
func (c *configDescriptor) matches(d descriptor) bool {
	if !c.wildcard {
		return slices.Equal(c.entries, d)
	}
	if len(c.entries) != len(d) {
		return false
	}
	for i, e := range c.entries {
		if e.key != d[i].key || (e.value != "" && e.value != d[i].value) {
			return false
		}
	}
	return true
}

// bucketFor is the bucket of a matching request descriptor (addOrGetDescriptor for a wildcard).
func (c *configDescriptor) bucketFor(d descriptor, now time.Time) *bucket {
	if !c.wildcard {
		return c.fixed
	}
	key := d.String()
	if el, ok := c.byKey[key]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*dynamicBucket).bucket
	}
	b := c.newOne(now)
	c.byKey[key] = c.lru.PushFront(&dynamicBucket{key: key, bucket: b})
	if c.lru.Len() > c.lruSize {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		delete(c.byKey, oldest.Value.(*dynamicBucket).key)
	}
	return b
}

// size is how many buckets the descriptor keeps.
func (c *configDescriptor) size() int {
	if c.wildcard {
		return c.lru.Len()
	}
	return 1
}
