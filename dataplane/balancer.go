package dataplane

import (
	"slices"
	"sync"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// smoothWRR is nginx's smooth weighted round-robin: each pick adds every endpoint's weight to
// its current score, takes the highest score and subtracts the total weight from it. Over any
// window of sum(weights) picks every endpoint is chosen exactly weight times, interleaved.
type smoothWRR struct {
	endpoints []routetable.Endpoint

	mu      sync.Mutex
	current []int64
}

// newSmoothWRR returns a balancer over endpoints (which it does not modify).
func newSmoothWRR(endpoints []routetable.Endpoint) *smoothWRR {
	return &smoothWRR{endpoints: endpoints, current: make([]int64, len(endpoints))}
}

// sameEndpoints reports whether the balancer serves exactly these endpoints and weights, in
// which case it is kept across table swaps so the rotation continues where it was.
func (b *smoothWRR) sameEndpoints(endpoints []routetable.Endpoint) bool {
	return slices.Equal(b.endpoints, endpoints)
}

// pick returns the next endpoint, skipping the one at address exclude (if any). It reports
// false when no endpoint is left.
func (b *smoothWRR) pick(exclude string) (routetable.Endpoint, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	best := -1
	var total int64
	for i, ep := range b.endpoints {
		if ep.Address == exclude {
			continue
		}
		b.current[i] += int64(ep.Weight)
		total += int64(ep.Weight)
		if best < 0 || b.current[i] > b.current[best] {
			best = i
		}
	}
	if best < 0 {
		return routetable.Endpoint{}, false
	}
	b.current[best] -= total
	return b.endpoints[best], true
}
