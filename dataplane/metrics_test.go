package dataplane_test

import (
	"net/http"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// TestRequestDurationHistogram sends requests that end in 200 (a live upstream), 503 (a dead
// one) and 404 (no route) and checks that each is counted once in the duration histogram under
// its route, cluster and status class.
func TestRequestDurationHistogram(t *testing.T) {
	cp := startControlPlane(t)
	users := startUpstream(t, "users")
	live := xdsfixture.PathRoute("/users", "users")
	live.Name = "users-route"
	dead := xdsfixture.PathRoute("/dead", "dead")
	dead.Name = "dead-route"
	ls, rcs := basicConfig(live, dead)
	cp.push(ls, rcs,
		[]*clusterv3.Cluster{xdsfixture.Cluster("users", "users", false), xdsfixture.Cluster("dead", "dead", false)},
		[]*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("users", users), xdsfixture.Assignment("dead", deadEndpoint(t))})
	reg := prometheus.NewRegistry()
	gw := startGateway(t, cp.addr, reg)
	waitFor(t, gw, "users route", "GET", "/users", fromServer("users"))
	before := histogramCounts(t, reg) // 404s may have come before the routes

	for range 3 {
		if r, err := do(t, gw, "GET", "/users", nil); err != nil || r.code != http.StatusOK {
			t.Fatalf("GET /users: %d %v", r.code, err)
		}
	}
	for range 3 {
		if r, err := do(t, gw, "GET", "/dead", nil); err != nil || r.code/100 != 5 {
			t.Fatalf("GET /dead: %d %v", r.code, err)
		}
	}
	if r, err := do(t, gw, "GET", "/nowhere", nil); err != nil || r.code != http.StatusNotFound {
		t.Fatalf("GET /nowhere: %d %v", r.code, err)
	}

	after := histogramCounts(t, reg)
	want := map[[3]string]uint64{
		{"users-route", "users", "2xx"}: 3,
		{"dead-route", "dead", "5xx"}:   3,
		{"", "", "4xx"}:                 1,
	}
	for k, n := range want {
		if got := after[k] - before[k]; got != n {
			t.Errorf("%s{route=%q,cluster=%q,status_class=%q} counted %d requests, want %d (all: %v)", telemetry.RequestDurationMetric, k[0], k[1], k[2], got, n, after)
		}
	}
}

// histogramCounts gathers the request-duration histogram's sample counts by label values.
func histogramCounts(t *testing.T, reg *prometheus.Registry) map[[3]string]uint64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[[3]string]uint64{}
	l := telemetry.RequestDurationLabels
	for _, f := range families {
		if f.GetName() != telemetry.RequestDurationMetric {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, p := range m.GetLabel() {
				labels[p.GetName()] = p.GetValue()
			}
			out[[3]string{labels[l.Route], labels[l.Cluster], labels[l.StatusClass]}] += m.GetHistogram().GetSampleCount()
		}
	}
	return out
}
