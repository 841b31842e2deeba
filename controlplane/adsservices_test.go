package controlplane

import (
	"context"
	"slices"
	"testing"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// TestPerTypeServiceAndADSTypeRequired: the per-type CDS service answers a request that leaves
// the type out with clusters, while ADS refuses such a request with InvalidArgument.
func TestPerTypeServiceAndADSTypeRequired(t *testing.T) {
	srv := startServer(t)
	if err := srv.Update(ir.Gateway{Clusters: []ir.Cluster{httpCluster("http:a", 1, 8080)}}); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), giveUp)
	defer cancel()

	cds, err := clusterservice.NewClusterDiscoveryServiceClient(conn).StreamClusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := cds.Send(&discoveryv3.DiscoveryRequest{Node: testNode("cds")}); err != nil {
		t.Fatal(err)
	}
	resp, err := cds.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if got := clusterNamesOf(t, resp); resp.GetTypeUrl() != resource.ClusterType || !slices.Equal(got, []string{"http:a"}) {
		t.Fatalf("the CDS service answered %s with %v, want clusters [http:a]", resp.GetTypeUrl(), got)
	}

	ads, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ads.Send(&discoveryv3.DiscoveryRequest{Node: testNode("ads")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ads.Recv(); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("an ADS request without a type URL ended the stream with %v, want InvalidArgument", err)
	}
}
