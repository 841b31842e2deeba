package routetable

// Weighted clusters (RouteAction.weighted_clusters) with Envoy's semantics
// (source/common/router/weighted_cluster_specifier.cc): the sum of the weights must be 1 to
// 2^32-1; a request's cluster is the one whose cumulative weight interval
// [begin, begin+weight) holds (random value mod the sum), the random value being the request's
// header_name header when that is set and holds exactly one unsigned integer, else a random
// number.

import (
	"fmt"
	"math"
	"net/http"
	"strconv"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// WeightedClusters is a decoded weighted_clusters.
type WeightedClusters struct {
	// Clusters are the targets, in configuration order.
	Clusters []ClusterWeight
	// Total is the sum of the weights, at least 1.
	Total uint64
	// RandomHeader, when set, is the request header whose unsigned integer value replaces the
	// random value (weighted_clusters.header_name).
	RandomHeader string
}

// ClusterWeight is one target of a weighted_clusters.
type ClusterWeight struct {
	Name   string
	Weight uint64
}

// decodeWeightedClusters fills out.Split (and out.Cluster with the first target); what the
// gateway cannot execute (runtime weights, hash policies, cluster headers, per-cluster headers,
// filter configs, host rewrites or metadata matches) is an error.
func decodeWeightedClusters(wc *routev3.WeightedCluster, out *Route) error {
	if wc.GetRuntimeKeyPrefix() != "" || wc.GetUseHashPolicy().GetValue() || wc.GetTotalWeight() != nil {
		return fmt.Errorf("weighted_clusters: runtime_key_prefix, use_hash_policy and total_weight are not supported")
	}
	split := &WeightedClusters{RandomHeader: http.CanonicalHeaderKey(wc.GetHeaderName())}
	for _, c := range wc.GetClusters() {
		if c.GetName() == "" || c.GetClusterHeader() != "" || c.GetMetadataMatch() != nil || len(c.GetTypedPerFilterConfig()) > 0 ||
			len(c.GetRequestHeadersToAdd()) > 0 || len(c.GetRequestHeadersToRemove()) > 0 ||
			len(c.GetResponseHeadersToAdd()) > 0 || len(c.GetResponseHeadersToRemove()) > 0 || c.GetHostRewriteSpecifier() != nil {
			return fmt.Errorf("weighted cluster %q: only name and weight are supported", c.GetName())
		}
		w := uint64(c.GetWeight().GetValue())
		split.Clusters = append(split.Clusters, ClusterWeight{Name: c.GetName(), Weight: w})
		split.Total += w
	}
	if split.Total == 0 || split.Total > math.MaxUint32 {
		return fmt.Errorf("weighted_clusters: the weights sum to %d (must be 1 to %d)", split.Total, uint32(math.MaxUint32))
	}
	out.Split = split
	out.Cluster = split.Clusters[0].Name
	return nil
}

// Pick is the cluster a request goes to, given a random value.
func (w *WeightedClusters) Pick(r *http.Request, random uint64) string {
	if w.RandomHeader != "" {
		// A repeated header is not a value (Envoy falls back to its random value).
		if vs := r.Header.Values(w.RandomHeader); len(vs) == 1 {
			if v, err := strconv.ParseUint(vs[0], 10, 64); err == nil {
				random = v
			}
		}
	}
	selected := random % w.Total
	var begin uint64
	for _, c := range w.Clusters {
		end := begin + c.Weight
		if selected >= begin && selected < end {
			return c.Name
		}
		begin = end
	}
	return w.Clusters[len(w.Clusters)-1].Name // unreachable: selected < Total
}

// ForRequest is the route as one request takes it: rt itself, or, for weighted clusters, a copy
// whose Cluster is the one picked for the request with the random value.
func (rt *Route) ForRequest(r *http.Request, random uint64) *Route {
	if rt == nil || rt.Split == nil {
		return rt
	}
	picked := *rt
	picked.Cluster = rt.Split.Pick(r, random)
	return &picked
}
