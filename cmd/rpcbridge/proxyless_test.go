package main

import (
	"context"
	"fmt"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/xds"
)

// testService is a real gRPC service that names its server in every answer.
type testService struct {
	testgrpc.UnimplementedTestServiceServer
	name string
}

func (s testService) UnaryCall(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return &testgrpc.SimpleResponse{Hostname: s.name}, nil
}

func startGRPC(t *testing.T, name string) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(srv, testService{name: name})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	_, port, _ := net.SplitHostPort(lis.Addr().String())
	return port
}

func grpcServiceConfig(port string) string {
	return fmt.Sprintf(`registries:
  - name: local
    type: static
    static:
      services:
        - name: grpc.testing.TestService
          protocol: grpc
          endpoints:
            - {address: 127.0.0.1, port: %s}
`, port)
}

// TestProxylessGRPCThroughServe is the xDS conformance test: grpc-go's own xDS client resolves a
// service from rpcbridge's static registry through the listener, route, cluster and endpoints
// rpcbridge serves, and follows an endpoint change made in the configuration file.
func TestProxylessGRPCThroughServe(t *testing.T) {
	portA := startGRPC(t, "server-a")
	portB := startGRPC(t, "server-b")
	srv := startServe(t, grpcServiceConfig(portA))

	bootstrap := fmt.Sprintf(`{
		"xds_servers": [{"server_uri": %q, "channel_creds": [{"type": "insecure"}], "server_features": ["xds_v3"]}],
		"node": {"id": "proxyless-test", "cluster": "proxyless"}
	}`, srv.xds)
	resolver, err := xds.NewXDSResolverWithConfigForTesting([]byte(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("xds:///grpc.testing.TestService",
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithResolvers(resolver))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := testgrpc.NewTestServiceClient(conn)

	callReaches := func(want string) func() error {
		return func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*giveUp/10)
			defer cancel()
			resp, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{})
			if err != nil {
				return err
			}
			if resp.GetHostname() != want {
				return fmt.Errorf("answered by %q, want %q", resp.GetHostname(), want)
			}
			return nil
		}
	}
	waitFor(t, "the first call through xDS", callReaches("server-a"))

	srv.rewrite(t, grpcServiceConfig(portB))
	waitFor(t, "calls to follow the endpoint change", callReaches("server-b"))
}
