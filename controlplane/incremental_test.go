package controlplane

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// TestIncrementalUpdateEqualsFull drives one server through a random sequence of changes —
// mostly endpoint changes (ports, weights, health, labels, localities, endpoints added and
// removed, invalid ports), sometimes changes of the clusters themselves (added, removed,
// another connect timeout) — and after each one compares it with a fresh server that
// translated the same gateway in full: every version, and every load assignment's version and
// wire form, must be equal, and an update must fail exactly when the full translation does.
func TestIncrementalUpdateEqualsFull(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 2026))
	g := ir.Gateway{}
	for i := range 12 {
		g.Clusters = append(g.Clusters, httpCluster(fmt.Sprintf("http:svc-%02d", i), 1+i%3, 8080))
	}
	g.Clusters = append(g.Clusters, ir.Cluster{Name: "dubbo:com.example.Hello::", Protocol: ir.UpstreamDubbo,
		Endpoints: []ir.Endpoint{{Address: "10.1.0.1", Port: 20880, Weight: 1, Healthy: true}}})
	sortClusters(g.Clusters)
	srv := NewServer(ServerOptions{})
	if err := srv.Update(g); err != nil {
		t.Fatal(err)
	}
	incremental, full := 0, 0
	for step := range 300 {
		shapeChange := rng.IntN(10) == 0
		if shapeChange {
			changeCluster(rng, &g, step)
		} else {
			changeEndpoints(rng, &g, step)
		}
		if srv.shape.matches(g) {
			incremental++
		} else {
			full++
		}
		err := srv.Update(g)
		ref := NewServer(ServerOptions{})
		refErr := ref.Update(cloneGateway(g))
		if (err == nil) != (refErr == nil) {
			t.Fatalf("step %d: update error %v, full translation error %v", step, err, refErr)
		}
		if err != nil {
			// Both reject it; put the gateway back to the last good one for the next step.
			g = cloneGateway(srv.shape.g)
			restoreEndpoints(&g, srv)
			continue
		}
		if got, want := srv.Versions(), ref.Versions(); !maps.Equal(got, want) {
			t.Fatalf("step %d: versions %v, full translation %v", step, got, want)
		}
		assertSameCollection(t, step, srv.endpoints, ref.endpoints)
		assertSameCollection(t, step, srv.dubboRoutes, ref.dubboRoutes)
	}
	if incremental < 100 || full < 10 {
		t.Fatalf("%d incremental and %d full updates: the sequence does not exercise both paths", incremental, full)
	}
}

// assertSameCollection fails unless a and b hold the same resources with the same versions,
// wire forms and collection version.
func assertSameCollection(t *testing.T, step int, a, b *collection) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if a.version != b.version || !slices.Equal(sortedKeys(a.resources), sortedKeys(b.resources)) {
		t.Fatalf("step %d: %s version %s with %v, full translation %s with %v", step, a.typeURL,
			a.version, sortedKeys(a.resources), b.version, sortedKeys(b.resources))
	}
	for name, e := range a.resources {
		f := b.resources[name]
		if e.version != f.version || !bytes.Equal(e.any.GetValue(), f.any.GetValue()) {
			t.Fatalf("step %d: %s %s differs from the full translation's", step, a.typeURL, name)
		}
	}
}

// changeEndpoints makes one random change to the endpoints of a random cluster, in place.
func changeEndpoints(rng *rand.Rand, g *ir.Gateway, step int) {
	c := &g.Clusters[rng.IntN(len(g.Clusters))]
	if len(c.Endpoints) == 0 {
		c.Endpoints = append(c.Endpoints, ir.Endpoint{Address: "10.9.0.1", Port: 8080, Weight: 1, Healthy: true})
		return
	}
	e := &c.Endpoints[rng.IntN(len(c.Endpoints))]
	switch rng.IntN(9) {
	case 0:
		e.Port = uint32(9000 + step)
	case 1:
		e.Weight = uint32(rng.IntN(5))
	case 2:
		e.Healthy = !e.Healthy
	case 3:
		e.Labels = map[string]string{"version": fmt.Sprint(rng.IntN(3))}
	case 4:
		e.Region, e.Zone = "r1", fmt.Sprintf("z%d", rng.IntN(2))
	case 5:
		c.Endpoints = append(c.Endpoints, ir.Endpoint{Address: fmt.Sprintf("10.8.%d.%d", step/250, step%250), Port: 8081, Weight: 1, Healthy: true})
	case 6:
		c.Endpoints = slices.Delete(c.Endpoints, 0, 1)
	case 7:
		e.Port = 0 // invalid: both must reject it
	case 8:
		// the same value again: nothing changes
		e.Port = e.Port + 0
	}
}

// changeCluster adds, removes or retunes a cluster.
func changeCluster(rng *rand.Rand, g *ir.Gateway, step int) {
	switch rng.IntN(3) {
	case 0:
		g.Clusters = append(g.Clusters, httpCluster(fmt.Sprintf("http:new-%03d", step), 1, 8080))
		sortClusters(g.Clusters)
	case 1:
		if len(g.Clusters) > 2 {
			i := rng.IntN(len(g.Clusters))
			if g.Clusters[i].Protocol != ir.UpstreamDubbo {
				g.Clusters = slices.Delete(g.Clusters, i, i+1)
			}
		}
	case 2:
		g.Clusters[rng.IntN(len(g.Clusters))].ConnectTimeout = time.Duration(1+rng.IntN(5)) * time.Second
	}
}

// sortClusters keeps clusters sorted by name, as the IR has them.
func sortClusters(clusters []ir.Cluster) {
	slices.SortFunc(clusters, func(a, b ir.Cluster) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
}

// cloneGateway copies g's clusters deeply (the rest is not changed by the test).
func cloneGateway(g ir.Gateway) ir.Gateway {
	g.Clusters = slices.Clone(g.Clusters)
	for i := range g.Clusters {
		g.Clusters[i] = cloneCluster(g.Clusters[i])
	}
	return g
}

// restoreEndpoints gives g's clusters the endpoints srv last accepted.
func restoreEndpoints(g *ir.Gateway, srv *Server) {
	for i := range g.Clusters {
		g.Clusters[i].Endpoints = cloneCluster(srv.endpointMemo[g.Clusters[i].Name].cluster).Endpoints
	}
}
