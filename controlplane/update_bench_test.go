package controlplane

import (
	"fmt"
	"testing"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// BenchmarkUpdateOneEndpoint times Server.Update for one changed endpoint among 10,000
// services, with no client connected: "incremental" is what Update does (only the changed
// cluster's load assignment is translated), "full" forces the full translation of every
// target, as every Update did before, in the same run as the baseline.
func BenchmarkUpdateOneEndpoint(b *testing.B) {
	const services = 10000
	g := ir.Gateway{Clusters: make([]ir.Cluster, services)}
	for i := range services {
		g.Clusters[i] = httpCluster(fmt.Sprintf("http:svc-%05d", i), 2, 8080)
	}
	for _, mode := range []string{"incremental", "full"} {
		b.Run(mode, func(b *testing.B) {
			srv := NewServer(ServerOptions{})
			if err := srv.Update(g); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				g.Clusters[(i*7919+1)%services].Endpoints[0].Port = uint32(10000 + i%50000)
				if mode == "full" {
					srv.shape = nil
				}
				if err := srv.Update(g); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
