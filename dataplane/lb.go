package dataplane

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// host is one endpoint of a cluster as the load balancer, the outlier detector and the circuit
// breakers see it. A host lives as long as its address stays in the cluster, across table swaps,
// so that its requests in flight and its ejection carry over.
type host struct {
	addr string
	// active counts the requests in flight to the host (Envoy's rq_active).
	active atomic.Int64
	// ejected is set while outlier detection has taken the host out of load balancing
	// (Envoy's FAILED_OUTLIER_CHECK); od is the detector's state of the host.
	ejected atomic.Bool
	od      hostOutlier
}

// slot is a host in one pool, with its weight and its smooth round-robin score.
type slot struct {
	host    *host
	weight  float64
	current float64
}

// pool is the hosts of one cluster and the cluster's upstream policies: it picks the host of each
// attempt (Envoy's load balancers, ejected hosts left out unless the cluster is in panic, hosts
// at their request cap left out) and holds the cluster's circuit breakers.
type pool struct {
	cluster  string
	lb       routetable.LoadBalancing
	limits   routetable.CircuitBreakers
	detector *detector // nil without outlier detection
	equal    bool      // every weight is the same
	metrics  *metrics

	// active and retries count the cluster's requests and retries in flight (max_requests,
	// max_retries); a rebuilt pool shares them with the one it replaces, whose requests may still
	// be running.
	active, retries *atomic.Int64
	// conns is the cluster's connection capacity and pending queue (max_connections,
	// max_pending_requests), shared with the pool it replaces like active.
	conns *connGate

	mu    sync.Mutex // round-robin scores
	slots []slot
}

var (
	// errNoEndpoint means a cluster had no endpoint to pick.
	errNoEndpoint = errors.New("no healthy endpoint")
	// errOverflow means a circuit breaker refused the request: the cluster's requests in flight
	// are at max_requests, or every host is at its request cap (Envoy answers 503 with
	// x-envoy-overloaded).
	errOverflow = errors.New("upstream overflow: too many requests in flight")
)

// newPool builds the pool of cluster c, keeping the hosts of prev (the cluster's pool in the
// previous table) whose addresses remain, with their counts and ejection state.
func newPool(c *routetable.Cluster, prev *pool, metrics *metrics, logger *slog.Logger) *pool {
	p := &pool{cluster: c.Name, lb: c.LoadBalancing, limits: c.CircuitBreakers, equal: true, metrics: metrics,
		active: new(atomic.Int64), retries: new(atomic.Int64)}
	old := map[string]*host{}
	if prev != nil {
		p.active, p.retries, p.conns = prev.active, prev.retries, prev.conns
		p.conns.resize(c.CircuitBreakers.MaxConnectionRequests, c.CircuitBreakers.MaxPendingRequests)
	} else {
		p.conns = newConnGate(c.CircuitBreakers.MaxConnectionRequests, c.CircuitBreakers.MaxPendingRequests)
	}
	if prev != nil {
		// By index: a copy of the slot would read its score, which round robin writes.
		for i := range prev.slots {
			old[prev.slots[i].host.addr] = prev.slots[i].host
		}
	}
	for i, ep := range c.Endpoints {
		h := old[ep.Address]
		if h == nil {
			h = &host{addr: ep.Address}
		}
		p.slots = append(p.slots, slot{host: h, weight: float64(ep.Weight)})
		if i > 0 && ep.Weight != c.Endpoints[0].Weight {
			p.equal = false
		}
	}
	hosts := p.hosts()
	switch {
	case c.OutlierDetection == nil:
		for _, h := range hosts {
			h.ejected.Store(false)
		}
	case prev != nil && prev.detector != nil:
		p.detector = prev.detector.update(*c.OutlierDetection, hosts)
	default:
		p.detector = newDetector(c.Name, *c.OutlierDetection, hosts, metrics, logger)
	}
	return p
}

// hosts returns the pool's hosts in endpoint order.
func (p *pool) hosts() []*host {
	out := make([]*host, len(p.slots))
	for i := range p.slots {
		out[i] = p.slots[i].host
	}
	return out
}

// sameAs reports whether p would be rebuilt identically from c: same endpoints and weights, same
// policies. The pool is then kept across a table swap, so round robin continues where it was.
func (p *pool) sameAs(c *routetable.Cluster) bool {
	if len(p.slots) != len(c.Endpoints) || p.lb != c.LoadBalancing || p.limits != c.CircuitBreakers ||
		(p.detector == nil) != (c.OutlierDetection == nil) || (p.detector != nil && p.detector.config() != *c.OutlierDetection) {
		return false
	}
	for i, ep := range c.Endpoints {
		if p.slots[i].host.addr != ep.Address || p.slots[i].weight != float64(ep.Weight) {
			return false
		}
	}
	return true
}

// pick chooses the host of an attempt and counts it in flight; release must be called when the
// attempt is over. With avoid set, hosts in tried are left out while another host is left
// (the previous_hosts retry predicate). While the cluster's connections are all busy it waits as
// pending (connGate), within ctx. It fails with errNoEndpoint, errOverflow (errPendingOverflow
// among them) or ctx's error.
func (p *pool) pick(ctx context.Context, tried []*host, avoid bool) (h *host, release func(), err error) {
	if len(p.slots) == 0 {
		return nil, nil, errNoEndpoint
	}
	if p.active.Load() >= int64(p.limits.MaxRequests) {
		p.metrics.overflow.WithLabelValues(p.cluster, "max_requests").Inc()
		return nil, nil, errOverflow
	}
	conn, err := p.conns.acquire(ctx)
	if err != nil {
		if errors.Is(err, errPendingOverflow) {
			p.metrics.overflow.WithLabelValues(p.cluster, "max_pending_requests").Inc()
		}
		return nil, nil, err
	}
	h, done, err := p.pickHost(tried, avoid)
	if err != nil {
		conn()
		return nil, nil, err
	}
	return h, func() { done(); conn() }, nil
}

// pickHost is pick once the request holds a connection.
func (p *pool) pickHost(tried []*host, avoid bool) (h *host, release func(), err error) {
	if p.detector != nil {
		p.detector.sweep()
	}
	cands, capped := p.candidates(tried, avoid)
	switch {
	case len(cands) == 0 && capped:
		p.metrics.overflow.WithLabelValues(p.cluster, "max_requests_per_endpoint").Inc()
		return nil, nil, errOverflow
	case len(cands) == 0:
		return nil, nil, errNoEndpoint
	}
	if p.lb.LeastRequest {
		h = p.leastRequest(cands)
	} else {
		h = p.roundRobin(cands, false)
	}
	h.active.Add(1)
	p.active.Add(1)
	var once sync.Once
	return h, func() {
		once.Do(func() {
			h.active.Add(-1)
			p.active.Add(-1)
		})
	}, nil
}

// candidates returns the indexes of the slots an attempt may use, and whether some host was left
// out only for being at its request cap. Ejected hosts are left out unless fewer than
// PanicThreshold percent of the hosts are left, when Envoy balances over every host (panic
// mode); hosts at their request cap are left out (Envoy has no per-host request limit: see
// docs/operations.md).
func (p *pool) candidates(tried []*host, avoid bool) (cands []int, capped bool) {
	// Slots are read by index, field by field: ranging by value would copy each slot, and with
	// it the round-robin score that roundRobin updates under p.mu.
	healthy := 0
	for i := range p.slots {
		if !p.slots[i].host.ejected.Load() {
			healthy++
		}
	}
	panicMode := float64(healthy)*100 < p.lb.PanicThreshold*float64(len(p.slots))
	collect := func(skipTried bool) []int {
		var out []int
		for i := range p.slots {
			h := p.slots[i].host
			switch {
			case !panicMode && h.ejected.Load():
			case skipTried && slices.Contains(tried, h):
			case p.limits.MaxRequestsPerEndpoint > 0 && h.active.Load() >= int64(p.limits.MaxRequestsPerEndpoint):
				capped = true
			default:
				out = append(out, i)
			}
		}
		return out
	}
	if avoid && len(tried) > 0 {
		if out := collect(true); len(out) > 0 {
			return out, false
		}
	}
	capped = false
	out := collect(false)
	return out, capped
}

// leastRequest is Envoy's LEAST_REQUEST (least_request_lb.cc): with equal weights, the host with
// the fewest requests in flight among ChoiceCount random candidates (drawn with replacement,
// N_CHOICES) or among all of them (FULL_SCAN, ties broken at random); with unequal weights,
// weighted round robin with each weight divided by requests in flight + 1 (Envoy's EDF with
// active_request_bias 1).
func (p *pool) leastRequest(cands []int) *host {
	if !p.equal {
		return p.roundRobin(cands, true)
	}
	if p.lb.FullScan {
		best, ties := -1, 0
		for _, i := range cands {
			active := p.slots[i].host.active.Load()
			switch {
			case best < 0 || active < p.slots[best].host.active.Load():
				best, ties = i, 1
			case active == p.slots[best].host.active.Load():
				ties++
				if rand.IntN(ties) == 0 { // reservoir sampling: each tied host 1/ties
					best = i
				}
			}
		}
		return p.slots[best].host
	}
	best := -1
	for range max(p.lb.ChoiceCount, 1) {
		i := cands[rand.IntN(len(cands))]
		if best < 0 || p.slots[i].host.active.Load() < p.slots[best].host.active.Load() {
			best = i
		}
	}
	return p.slots[best].host
}

// roundRobin is nginx's smooth weighted round robin over the candidates: each adds its weight to
// its score, the highest score wins and gives back the candidates' total. Over any window of
// sum(weights) picks each host is chosen weight times, interleaved. With byLoad, each weight is
// first divided by the host's requests in flight + 1.
func (p *pool) roundRobin(cands []int, byLoad bool) *host {
	p.mu.Lock()
	defer p.mu.Unlock()
	best := -1
	var total float64
	for _, i := range cands {
		s := &p.slots[i]
		w := s.weight
		if byLoad {
			w /= float64(s.host.active.Load() + 1)
		}
		s.current += w
		total += w
		if best < 0 || s.current > p.slots[best].current {
			best = i
		}
	}
	p.slots[best].current -= total
	return p.slots[best].host
}
