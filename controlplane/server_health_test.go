package controlplane

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// TestHealthServingOnceConfigured: the xDS port answers grpc.health.v1 (what the health checks
// of a rendered bootstrap's xds_cluster ask) with NOT_SERVING until the first good Update, then
// SERVING; a rejected Update after that does not take it back.
func TestHealthServingOnceConfigured(t *testing.T) {
	srv := startServer(t)
	conn, err := grpc.NewClient(srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	status := func() healthpb.HealthCheckResponse_ServingStatus {
		t.Helper()
		resp, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err != nil {
			t.Fatalf("health check: %v", err)
		}
		return resp.GetStatus()
	}
	if got := status(); got != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("before any configuration: %v, want NOT_SERVING", got)
	}
	if err := srv.Update(ir.Gateway{Clusters: []ir.Cluster{httpCluster("http:a", 1, 8080)}}); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("after the first configuration: %v, want SERVING", got)
	}
	bad := ir.Gateway{Clusters: []ir.Cluster{{Name: "", Protocol: ir.UpstreamHTTP1}}}
	if err := srv.Update(bad); err == nil {
		t.Fatal("a cluster without a name was accepted")
	}
	if got := status(); got != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("after a rejected update: %v, want SERVING (the last good configuration is served)", got)
	}
}
