package routetable

// envoy.filters.http.local_ratelimit: the most specific LocalRateLimit applies — the route's,
// else its virtual host's, else the filter-level one (Envoy's
// resolveMostSpecificPerFilterConfig) — executed by package localratelimit. A per-route config
// must have a token bucket (Envoy refuses it otherwise). Each config is one limiter with its own
// buckets, as each is one FilterConfig in Envoy: a route's is the route's alone, a virtual host's
// is shared by its routes. A new routing table keeps the previous table's limiter for a route
// (or virtual host, or the filter) whose configuration is unchanged, so an xDS push does not
// refill its buckets; the others are dropped with the previous table.

import (
	"errors"
	"fmt"

	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/dataplane/localratelimit"
)

// localRateLimitFilterName is the filter's name in the connection manager.
const localRateLimitFilterName = "envoy.filters.http.local_ratelimit"

// limiterSet is the rate limiters of one table, by owner and configuration, with the previous
// table's to take over.
type limiterSet struct {
	previous map[string]*localratelimit.Limiter
	current  map[string]*localratelimit.Limiter
}

// newLimiterSet starts the limiters of a table that follows previous (nil for the first).
func newLimiterSet(previous *Table) *limiterSet {
	s := &limiterSet{current: map[string]*localratelimit.Limiter{}}
	if previous != nil && previous.limiters != nil {
		s.previous = previous.limiters.current
	}
	return s
}

// get is the limiter of owner's configuration cfg: the previous table's when it had the same,
// else a new one with full buckets.
func (s *limiterSet) get(owner string, cfg *localratelimitv3.LocalRateLimit) (*localratelimit.Limiter, error) {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	key := owner + "\x00" + string(raw)
	if l, ok := s.current[key]; ok {
		return l, nil
	}
	l, ok := s.previous[key]
	if !ok {
		if l, err = localratelimit.New(cfg, nil); err != nil {
			return nil, err
		}
	}
	s.current[key] = l
	return l, nil
}

// localRateLimitFilter is the decoded filter.
type localRateLimitFilter struct {
	limiters    *limiterSet
	filterLevel *localratelimit.Limiter // nil when the filter-level config limits nothing
}

// newLocalRateLimit decodes the filter-level configuration.
func newLocalRateLimit(cfg *anypb.Any, lims *limiterSet) (*localRateLimitFilter, error) {
	f := &localRateLimitFilter{limiters: lims}
	if cfg == nil {
		return f, nil
	}
	c := &localratelimitv3.LocalRateLimit{}
	if err := cfg.UnmarshalTo(c); err != nil {
		return nil, fmt.Errorf("decode LocalRateLimit: %w", err)
	}
	l, err := lims.get("filter", c)
	if err != nil {
		return nil, err
	}
	if l.Enabled() {
		f.filterLevel = l
	}
	return f, nil
}

// step implements edgeFilter; attachEdge calls routeStep instead.
func (*localRateLimitFilter) step(_, _ *anypb.Any) (EdgeStep, error) {
	return nil, errors.New("the local rate limit filter needs its route")
}

// routeStep implements routeAwareFilter.
func (f *localRateLimitFilter) routeStep(_ *Route, ref routeRef, route, vhost *anypb.Any) (EdgeStep, error) {
	owner, cfg := fmt.Sprintf("route %q %q", ref.vhost, ref.route), route
	if cfg == nil {
		owner, cfg = fmt.Sprintf("virtual host %q", ref.vhost), vhost
	}
	if cfg == nil {
		if f.filterLevel == nil {
			return nil, nil
		}
		return f.filterLevel, nil
	}
	c := &localratelimitv3.LocalRateLimit{}
	if err := cfg.UnmarshalTo(c); err != nil {
		return nil, fmt.Errorf("decode LocalRateLimit: %w", err)
	}
	if c.GetTokenBucket() == nil {
		return nil, errors.New("local rate limit token bucket must be set for per filter configs")
	}
	l, err := f.limiters.get(owner, c)
	if err != nil {
		return nil, err
	}
	if !l.Enabled() {
		return nil, nil
	}
	return l, nil
}
