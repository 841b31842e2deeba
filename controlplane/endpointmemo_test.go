package controlplane

import (
	"testing"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// TestEndpointMemoSeesInPlaceChanges remembers a cluster, then changes the caller's copy in
// place (a port, a label): the memo must not take the changed cluster for the remembered one.
func TestEndpointMemoSeesInPlaceChanges(t *testing.T) {
	clusters := []ir.Cluster{httpCluster("http:a", 2, 8080)}
	clusters[0].Endpoints[0].Labels = map[string]string{"zone": "a"}
	memo := endpointMemo{}.next(clusters, map[string]string{"http:a": "h1"})
	if got := memo.knownHashes(clusters)["http:a"]; got != "h1" {
		t.Fatalf("unchanged cluster: known hash %q, want h1", got)
	}
	clusters[0].Endpoints[1].Port = 9090
	if got, ok := memo.knownHashes(clusters)["http:a"]; ok {
		t.Fatalf("a port changed in place, yet the memo knows hash %q", got)
	}
	clusters[0].Endpoints[1].Port = 8080
	clusters[0].Endpoints[0].Labels["zone"] = "b"
	if got, ok := memo.knownHashes(clusters)["http:a"]; ok {
		t.Fatalf("a label changed in place, yet the memo knows hash %q", got)
	}
}
