package auth_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/rpcbridge/rpcbridge/admin/auth"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

const listenerType = "type.googleapis.com/envoy.config.listener.v3.Listener"

// startXDS serves rpcbridge's real xDS server on host with the token interceptors of k.
func startXDS(t *testing.T, host string, k *auth.Keyring) string {
	t.Helper()
	srv := controlplane.NewServer(controlplane.ServerOptions{GRPCOptions: auth.ServerOptions(k, nil)})
	if err := srv.Update(ir.Gateway{Routes: []ir.Route{{Name: "a", Match: ir.Match{Path: "/a"}, Cluster: "http:a"}},
		Clusters: []ir.Cluster{{Name: "http:a", Protocol: ir.UpstreamHTTP1}}}); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, lis) }()
	t.Cleanup(func() { cancel(); <-done })
	return lis.Addr().String()
}

func xdsKeyring(t *testing.T, token string) *auth.Keyring {
	t.Helper()
	file := filepath.Join(t.TempDir(), "xds")
	if err := os.WriteFile(file, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := auth.NewXDSKeyring([]auth.Credential{{Name: "gateways", File: file}}, auth.KeyringOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fetchListeners opens an ADS stream with opts and returns the first response or the error.
func fetchListeners(t *testing.T, addr string, opts ...grpc.DialOption) (*discoveryv3.DiscoveryResponse, error) {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "n", Cluster: "edge"}, TypeUrl: listenerType}); err != nil {
		if _, rerr := stream.Recv(); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	return stream.Recv()
}

// TestXDSNeedsAToken: against rpcbridge's xDS server with xds.auth on, an anonymous client
// and one with a wrong token get Unauthenticated and no resources; the right token gets the
// listeners; the health service stays open for probes.
func TestXDSNeedsAToken(t *testing.T) {
	const token = "xds-token-0123456789abcdef"
	addr := startXDS(t, "127.0.0.1", xdsKeyring(t, token))

	for name, opts := range map[string][]grpc.DialOption{
		"anonymous":   nil,
		"wrong token": {grpc.WithPerRPCCredentials(auth.NewBearer("xds-token-0123456789abcdeX"))},
	} {
		resp, err := fetchListeners(t, addr, opts...)
		if status.Code(err) != codes.Unauthenticated || resp != nil {
			t.Errorf("%s: response %v, error %v; want Unauthenticated and nothing", name, resp, err)
		}
	}
	resp, err := fetchListeners(t, addr, grpc.WithPerRPCCredentials(auth.NewBearer(token)))
	if err != nil || len(resp.GetResources()) == 0 {
		t.Fatalf("with the token: %v resources, %v", len(resp.GetResources()), err)
	}

	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health check without a token: %v", err)
	}
}

// TestBearerNeedsTLSOffLoopback: over plaintext the token goes to a loopback address only; to
// another address of this host the call fails before anything is sent, unless the credentials
// are the process's own (NewOwnBearer).
func TestBearerNeedsTLSOffLoopback(t *testing.T) {
	host := ""
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			host = ipn.IP.String()
			break
		}
	}
	if host == "" {
		t.Skip("this host has no non-loopback IPv4 address")
	}
	const token = "xds-token-0123456789abcdef"
	addr := startXDS(t, host, xdsKeyring(t, token))
	_, err := fetchListeners(t, addr, grpc.WithPerRPCCredentials(auth.NewBearer(token)))
	if err == nil || !strings.Contains(err.Error(), "refusing to send it without TLS") {
		t.Errorf("plaintext to %s: %v, want the token withheld", addr, err)
	}
	if _, err := fetchListeners(t, addr, grpc.WithPerRPCCredentials(auth.NewOwnBearer(token))); err != nil {
		t.Errorf("own credentials to %s: %v", addr, err)
	}
}
