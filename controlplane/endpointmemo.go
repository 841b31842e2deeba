package controlplane

import (
	"maps"
	"slices"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// endpointMemo remembers, per cluster name, the IR cluster that the current load assignment was
// translated from and that load assignment's hash. A load assignment is a pure function of its
// IR cluster, so an update hashes (marshals) only the load assignments whose cluster changed:
// with thousands of services and one changed endpoint, that is one instead of thousands.
type endpointMemo map[string]memoEntry

// memoEntry is one remembered cluster and the hash of its load assignment.
type memoEntry struct {
	cluster ir.Cluster
	hash    string
}

// knownHashes returns the hashes of the load assignments of the clusters of g that are equal to
// the remembered ones.
func (m endpointMemo) knownHashes(clusters []ir.Cluster) map[string]string {
	known := make(map[string]string, len(clusters))
	for _, c := range clusters {
		if e, ok := m[c.Name]; ok && sameCluster(e.cluster, c) {
			known[c.Name] = e.hash
		}
	}
	return known
}

// next is the memo after an update to clusters whose load assignments have hashes.
func (m endpointMemo) next(clusters []ir.Cluster, hashes map[string]string) endpointMemo {
	out := make(endpointMemo, len(clusters))
	for _, c := range clusters {
		h, ok := hashes[c.Name]
		if !ok {
			continue
		}
		if e, ok := m[c.Name]; ok && e.hash == h && sameCluster(e.cluster, c) {
			out[c.Name] = e
			continue
		}
		out[c.Name] = memoEntry{cluster: cloneCluster(c), hash: h}
	}
	return out
}

// sameCluster reports whether a and b are equal.
func sameCluster(a, b ir.Cluster) bool {
	return a.Name == b.Name && a.Protocol == b.Protocol && a.ConnectTimeout == b.ConnectTimeout &&
		slices.EqualFunc(a.Endpoints, b.Endpoints, func(x, y ir.Endpoint) bool {
			return x.Address == y.Address && x.Port == y.Port && x.Weight == y.Weight &&
				x.Healthy == y.Healthy && x.Region == y.Region && x.Zone == y.Zone && maps.Equal(x.Labels, y.Labels)
		})
}

// cloneCluster copies c deeply, so that the caller may change its own afterwards.
func cloneCluster(c ir.Cluster) ir.Cluster {
	c.Endpoints = slices.Clone(c.Endpoints)
	for i := range c.Endpoints {
		c.Endpoints[i].Labels = maps.Clone(c.Endpoints[i].Labels)
	}
	return c
}
