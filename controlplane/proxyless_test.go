package controlplane

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/xds"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// healthBackend is a real grpc-go server serving the health service. It reports SERVING only
// for the service name given to it, so a call tells which backend answered.
type healthBackend struct {
	host string
	port uint32
}

// startHealthBackend starts a backend on 127.0.0.1:0 and stops it when the test ends.
func startHealthBackend(t *testing.T, identity string) healthBackend {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := health.NewServer()
	hs.SetServingStatus(identity, healthpb.HealthCheckResponse_SERVING)
	gs := grpc.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	addr := lis.Addr().(*net.TCPAddr)
	return healthBackend{host: addr.IP.String(), port: uint32(addr.Port)}
}

// TestProxylessGRPCFollowsEndpoints makes grpc-go's own xDS client resolve a service from the
// control plane: a call through xds:///grpc.health.v1.Health reaches the first backend; after
// Update moves the endpoint, calls reach the second backend. The cluster carries rpcbridge's
// default RPC policies (least request, outlier detection, circuit breakers), which grpc-go's
// xDS client must accept (it NACKs what it cannot use).
func TestProxylessGRPCFollowsEndpoints(t *testing.T) {
	srv := startServer(t)
	first := startHealthBackend(t, "backend-first")
	second := startHealthBackend(t, "backend-second")

	const service = "grpc.health.v1.Health"
	const cluster = "grpc:" + service
	policy := transcoding.DefaultRPCPolicy()
	gateway := func(b healthBackend) ir.Gateway {
		return ir.Gateway{
			Clusters: []ir.Cluster{{
				Name:     cluster,
				Protocol: ir.UpstreamHTTP2,
				Endpoints: []ir.Endpoint{
					{Address: b.host, Port: b.port, Weight: 1, Healthy: true},
				},
				LoadBalancer: policy.LoadBalancer, OutlierDetection: policy.OutlierDetection, CircuitBreakers: policy.CircuitBreakers,
			}},
			GRPCServices: []ir.GRPCService{{Name: service, Cluster: cluster, Timeout: 5 * time.Second}},
		}
	}
	if err := srv.Update(gateway(first)); err != nil {
		t.Fatal(err)
	}

	host, port, err := net.SplitHostPort(srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	bootstrap := `{
		"xds_servers": [{
			"server_uri": "` + net.JoinHostPort(host, port) + `",
			"channel_creds": [{"type": "insecure"}],
			"server_features": ["xds_v3"]
		}],
		"node": {"id": "proxyless-test", "cluster": "test"}
	}`
	resolver, err := xds.NewXDSResolverWithConfigForTesting([]byte(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("xds:///"+service,
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithResolvers(resolver))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	waitServing(t, client, "backend-first")
	if err := srv.Update(gateway(second)); err != nil {
		t.Fatal(err)
	}
	waitServing(t, client, "backend-second")
}

// waitServing calls Check(identity) until a backend reports SERVING, giving up after giveUp.
func waitServing(t *testing.T, client healthpb.HealthClient, identity string) {
	t.Helper()
	deadline := time.Now().Add(giveUp)
	var lastErr error
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: identity})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no call reached the backend %q before giving up; last error: %v", identity, lastErr)
}
