package controlplane

import (
	"reflect"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// gatewayShape is everything of a gateway that its listeners, route configurations, clusters and
// Dubbo routes are translated from: all but the clusters' endpoints. A load assignment is a pure
// function of its one IR cluster (loadAssignment), and nothing else reads endpoints, so a
// gateway with the same shape as the last one translated differs only in load assignments:
// Server.Update then re-translates only the load assignments of the clusters that changed.
type gatewayShape struct {
	// g is the gateway with its clusters replaced by copies without endpoints; the rest is the
	// caller's (see Update: it must not be changed in place).
	g ir.Gateway
}

// shapeOf returns g's shape.
func shapeOf(g ir.Gateway) *gatewayShape {
	clusters := make([]ir.Cluster, len(g.Clusters))
	for i, c := range g.Clusters {
		clusters[i] = clusterShape(c)
	}
	g.Clusters = clusters
	return &gatewayShape{g: g}
}

// clusterShape is c without its endpoints, with its own copies of what c points to.
func clusterShape(c ir.Cluster) ir.Cluster {
	c.Endpoints = nil
	if c.OutlierDetection != nil {
		od := *c.OutlierDetection
		c.OutlierDetection = &od
	}
	if c.CircuitBreakers != nil {
		cb := *c.CircuitBreakers
		if cb.RetryBudget != nil {
			rb := *cb.RetryBudget
			cb.RetryBudget = &rb
		}
		c.CircuitBreakers = &cb
	}
	if c.Subset != nil {
		sub := *c.Subset
		c.Subset = &sub
	}
	return c
}

// matches reports whether g has this shape.
func (s *gatewayShape) matches(g ir.Gateway) bool {
	if len(g.Clusters) != len(s.g.Clusters) {
		return false
	}
	for i := range g.Clusters {
		if !sameClusterShape(&g.Clusters[i], &s.g.Clusters[i]) {
			return false
		}
	}
	rest, mine := g, s.g
	rest.Clusters, mine.Clusters = nil, nil
	return reflect.DeepEqual(rest, mine)
}

// sameClusterShape reports whether a and b are equal but for their endpoints. It compares field
// by field (reflect.DeepEqual over 10,000 clusters took most of an update's time);
// TestClusterShapeSeesEveryField fails when ir.Cluster gains a field this does not compare.
func sameClusterShape(a, b *ir.Cluster) bool {
	return a.Name == b.Name && a.Protocol == b.Protocol && a.ConnectTimeout == b.ConnectTimeout &&
		a.LoadBalancer == b.LoadBalancer && samePointee(a.OutlierDetection, b.OutlierDetection) &&
		sameCircuitBreakers(a.CircuitBreakers, b.CircuitBreakers) && samePointee(a.Subset, b.Subset)
}

// sameCircuitBreakers compares circuit breakers with their retry budgets by value.
func sameCircuitBreakers(a, b *ir.CircuitBreakers) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.RetryBudget, y.RetryBudget = nil, nil
	return x == y && samePointee(a.RetryBudget, b.RetryBudget)
}

// samePointee reports whether a and b are both nil or point to equal values.
func samePointee[T comparable](a, b *T) bool {
	return a == b || (a != nil && b != nil && *a == *b)
}
