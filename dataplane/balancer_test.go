package dataplane

import (
	"net"
	"slices"
	"strconv"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

func TestSmoothWRRSequence(t *testing.T) {
	a, b, c := routetable.Endpoint{Address: "a:1", Weight: 5}, routetable.Endpoint{Address: "b:1", Weight: 1}, routetable.Endpoint{Address: "c:1", Weight: 1}
	cases := []struct {
		name      string
		endpoints []routetable.Endpoint
		exclude   string
		want      []string
	}{
		// nginx's documented example for weights 5, 1, 1.
		{"5-1-1", []routetable.Endpoint{a, b, c}, "", []string{"a:1", "a:1", "b:1", "a:1", "c:1", "a:1", "a:1"}},
		{"exclude", []routetable.Endpoint{a, b, c}, "a:1", []string{"b:1", "c:1", "b:1", "c:1"}},
		{"single", []routetable.Endpoint{b}, "", []string{"b:1", "b:1"}},
		{"only excluded", []routetable.Endpoint{b}, "b:1", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wrr := newSmoothWRR(tc.endpoints)
			var got []string
			for range max(len(tc.want), 1) {
				ep, ok := wrr.pick(tc.exclude)
				if !ok {
					break
				}
				got = append(got, ep.Address)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("picks = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUpstreamsKeepBalancerWhenEndpointsUnchanged(t *testing.T) {
	build := func(endpoints ...routetable.Endpoint) map[string]*upstream {
		t.Helper()
		// A table with one cluster "c" holding endpoints, built through the public decoder.
		table := tableWithCluster(t, endpoints)
		ups, _ := newUpstreams(table, nil)
		return ups
	}
	e1, e2 := routetable.Endpoint{Address: "127.0.0.1:1", Weight: 1}, routetable.Endpoint{Address: "127.0.0.1:2", Weight: 3}
	first := build(e1, e2)

	same, unused := newUpstreams(tableWithCluster(t, []routetable.Endpoint{e1, e2}), first)
	if same["c"].balancer != first["c"].balancer || same["c"].transport != first["c"].transport {
		t.Errorf("balancer or transport replaced although nothing changed")
	}
	if len(unused) != 0 {
		t.Errorf("unused transports = %d, want 0", len(unused))
	}
	changed, _ := newUpstreams(tableWithCluster(t, []routetable.Endpoint{e1}), first)
	if changed["c"].balancer == first["c"].balancer {
		t.Errorf("balancer kept although the endpoints changed")
	}
	if changed["c"].transport != first["c"].transport {
		t.Errorf("transport replaced although protocol and connect timeout are unchanged")
	}
	gone, unused := newUpstreams(tableWithCluster(t, nil, "other"), first)
	if _, ok := gone["c"]; ok || len(unused) != 1 {
		t.Errorf("removed cluster: upstream kept = %v, unused transports = %d (want 1)", ok, len(unused))
	}
}

// tableWithCluster builds a table holding one EDS cluster (named "c" unless a name is given)
// whose assignment has the given endpoints.
func tableWithCluster(t *testing.T, endpoints []routetable.Endpoint, name ...string) *routetable.Table {
	t.Helper()
	clusterName := "c"
	if len(name) > 0 {
		clusterName = name[0]
	}
	var eps []xdsfixture.Endpoint
	for _, e := range endpoints {
		host, port, err := net.SplitHostPort(e.Address)
		if err != nil {
			t.Fatal(err)
		}
		p, err := strconv.ParseUint(port, 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, xdsfixture.Endpoint{Host: host, Port: uint32(p), Weight: e.Weight})
	}
	table, err := routetable.Build(routetable.Resources{
		Clusters:  map[string]*clusterv3.Cluster{clusterName: xdsfixture.Cluster(clusterName, clusterName, false)},
		Endpoints: map[string]*endpointv3.ClusterLoadAssignment{clusterName: xdsfixture.Assignment(clusterName, eps...)},
	}, gatewayv1.HTTPListener)
	if err != nil {
		t.Fatal(err)
	}
	return table
}
