package controlplane

// Canary routing in Envoy terms (ir/canary.go): header conditions become route HeaderMatchers,
// a route's traffic split becomes RouteAction.weighted_clusters.

import (
	"errors"
	"fmt"
	"math"
	"regexp"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// headerName is what a matched header's name may be: an RFC 9110 token, lower case.
var headerName = regexp.MustCompile(`^[!#$%&'*+.^_|~0-9a-z-]+$`)

// headerMatchers translates the IR's header conditions.
func headerMatchers(hs []ir.HeaderMatch) ([]*routev3.HeaderMatcher, error) {
	var out []*routev3.HeaderMatcher
	for _, h := range hs {
		if !headerName.MatchString(h.Name) {
			return nil, fmt.Errorf("header match: %q is not a lower-case header name", h.Name)
		}
		sm := &matcherv3.StringMatcher{IgnoreCase: h.IgnoreCase}
		switch {
		case (h.Exact == "") == (h.Regex == ""):
			return nil, fmt.Errorf("header match %q: exactly one of exact and regex must be set", h.Name)
		case h.Exact != "":
			sm.MatchPattern = &matcherv3.StringMatcher_Exact{Exact: h.Exact}
		default:
			if _, err := regexp.Compile(h.Regex); err != nil {
				return nil, fmt.Errorf("header match %q: %w", h.Name, err)
			}
			if h.IgnoreCase {
				return nil, fmt.Errorf("header match %q: ignoreCase applies to exact values only", h.Name)
			}
			sm.MatchPattern = &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: h.Regex}}
		}
		out = append(out, &routev3.HeaderMatcher{
			Name:                      h.Name,
			HeaderMatchSpecifier:      &routev3.HeaderMatcher_StringMatch{StringMatch: sm},
			TreatMissingHeaderAsEmpty: h.MissingAsEmpty,
		})
	}
	return out, nil
}

// setClusterSpecifier sets where the route sends its requests: its cluster, its one weighted
// cluster, or weighted_clusters over several (Envoy picks one per request: a random value
// modulo the sum of the weights, against the clusters' cumulative weights in order;
// source/common/router/weighted_cluster_specifier.cc, pickWeightedCluster).
func setClusterSpecifier(a *routev3.RouteAction, r ir.Route) error {
	switch len(r.WeightedClusters) {
	case 0:
		a.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: r.Cluster}
		return nil
	case 1:
		if r.WeightedClusters[0].Cluster == "" {
			return errors.New("weighted cluster with an empty name")
		}
		a.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: r.WeightedClusters[0].Cluster}
		return nil
	}
	wc := &routev3.WeightedCluster{}
	var total uint64
	seen := map[string]bool{}
	for _, c := range r.WeightedClusters {
		if c.Cluster == "" || seen[c.Cluster] {
			return fmt.Errorf("weighted cluster %q: empty or repeated", c.Cluster)
		}
		seen[c.Cluster] = true
		total += uint64(c.Weight)
		wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{Name: c.Cluster, Weight: wrapperspb.UInt32(c.Weight)})
	}
	// Envoy refuses a sum of 0 or above 2^32-1 (WeightedClusterSpecifierPlugin).
	if total == 0 || total > math.MaxUint32 {
		return fmt.Errorf("weighted clusters: the weights sum to %d (must be 1 to %d)", total, uint32(math.MaxUint32))
	}
	a.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}
	return nil
}

// routeTargets are the clusters an Envoy route sends requests to.
func routeTargets(rt *routev3.Route) []string {
	a := rt.GetRoute()
	if c := a.GetCluster(); c != "" {
		return []string{c}
	}
	var out []string
	for _, c := range a.GetWeightedClusters().GetClusters() {
		out = append(out, c.GetName())
	}
	return out
}
