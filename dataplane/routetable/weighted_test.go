package routetable_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// weighted is a route to weighted clusters (name, weight, ...), with opts applied.
func weighted(opts func(*routev3.WeightedCluster), nameWeights ...any) *routev3.Route {
	r := xdsfixture.PrefixRoute("/", "unused")
	wc := &routev3.WeightedCluster{}
	for i := 0; i < len(nameWeights); i += 2 {
		wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{
			Name: nameWeights[i].(string), Weight: wrapperspb.UInt32(uint32(nameWeights[i+1].(int)))})
	}
	if opts != nil {
		opts(wc)
	}
	r.GetRoute().ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}
	return r
}

// buildRoute builds a table of one route and matches GET / against it.
func buildRoute(t *testing.T, r *routev3.Route) (*routetable.Route, error) {
	t.Helper()
	table, err := routetable.Build(resources([]*listenerv3.Listener{xdsfixture.Listener(listenerName, "rc")},
		[]*routev3.RouteConfiguration{xdsfixture.RouteConfig("rc", xdsfixture.VirtualHost("vh", []string{"*"}, r))}, nil, nil), listenerName)
	if err != nil {
		return nil, err
	}
	return table.Match(httptest.NewRequest("GET", "/", nil)), nil
}

// TestWeightedClustersPickByCumulativeWeight: as Envoy's pickWeightedCluster, the random value
// modulo the total weight selects the cluster whose interval [begin, begin+weight) holds it, in
// configuration order (a zero weight never wins), so that over every residue each cluster gets
// exactly its weight; a header_name header with one unsigned integer replaces the random value,
// anything else in it is ignored.
func TestWeightedClustersPickByCumulativeWeight(t *testing.T) {
	route, err := buildRoute(t, weighted(func(wc *routev3.WeightedCluster) {
		wc.RandomValueSpecifier = &routev3.WeightedCluster_HeaderName{HeaderName: "x-random"}
	}, "stable", 90, "never", 0, "canary", 10))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	counts := map[string]int{}
	for v := range uint64(1000) {
		counts[route.ForRequest(req, v).Cluster]++
	}
	if counts["stable"] != 900 || counts["canary"] != 100 || counts["never"] != 0 {
		t.Errorf("over 1000 consecutive random values: %v, want stable 900, canary 100", counts)
	}
	if got := route.ForRequest(req, 89).Cluster; got != "stable" {
		t.Errorf("random 89 → %s, want stable ([0,90))", got)
	}
	if got := route.ForRequest(req, 90).Cluster; got != "canary" {
		t.Errorf("random 90 → %s, want canary ([90,100), the zero-weight cluster has an empty interval)", got)
	}
	for header, want := range map[string]string{"195": "canary", "7": "stable", "x": "canary", "-3": "canary"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("X-Random", header)
		if got := route.ForRequest(req, 99).Cluster; got != want {
			t.Errorf("x-random: %s with random 99 → %s, want %s", header, got, want)
		}
	}
	twice := httptest.NewRequest("GET", "/", nil)
	twice.Header.Add("X-Random", "1")
	twice.Header.Add("X-Random", "2")
	if got := route.ForRequest(twice, 95).Cluster; got != "canary" {
		t.Errorf("repeated x-random → %s, want the random value's canary", got)
	}
	if route.Cluster == "" {
		t.Error("a weighted route has no Cluster: it would be taken for a direct response")
	}
}

// TestWeightedClustersTheGatewayCannotRunAreRefused: weights summing to 0, runtime weights, hash
// policies, cluster headers and per-cluster metadata matches are refused, not approximated.
func TestWeightedClustersTheGatewayCannotRunAreRefused(t *testing.T) {
	cases := map[string]*routev3.Route{
		"sum 0":   weighted(nil, "a", 0, "b", 0),
		"runtime": weighted(func(wc *routev3.WeightedCluster) { wc.RuntimeKeyPrefix = "canary" }, "a", 1, "b", 1),
		"hash": weighted(func(wc *routev3.WeightedCluster) {
			wc.RandomValueSpecifier = &routev3.WeightedCluster_UseHashPolicy{UseHashPolicy: wrapperspb.Bool(true)}
		}, "a", 1, "b", 1),
		"cluster header": weighted(func(wc *routev3.WeightedCluster) {
			wc.Clusters[0].ClusterHeader = "x-cluster"
			wc.Clusters[0].Name = ""
		}, "a", 1, "b", 1),
		"host rewrite": weighted(func(wc *routev3.WeightedCluster) {
			wc.Clusters[1].HostRewriteSpecifier = &routev3.WeightedCluster_ClusterWeight_HostRewriteLiteral{HostRewriteLiteral: "h"}
		}, "a", 1, "b", 1),
	}
	for name, r := range cases {
		if _, err := buildRoute(t, r); err == nil || !strings.Contains(err.Error(), "weighted") {
			t.Errorf("%s: Build error = %v, want a weighted_clusters error", name, err)
		}
	}
}
