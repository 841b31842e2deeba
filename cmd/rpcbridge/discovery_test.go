package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/reflection"

	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// TestReflectionDiscoveryThroughServe: with discovery.reflection on, a gRPC service that
// supports server reflection is served as REST without any IDL upload.
func TestReflectionDiscoveryThroughServe(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(gs, testService{name: "reflected"})
	reflection.Register(gs)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	_, port, _ := net.SplitHostPort(lis.Addr().String())

	srv := startServe(t, grpcServiceConfig(port)+"discovery:\n  reflection: {include: [\"grpc.testing.*\"]}\n")
	waitFor(t, "a REST call transcoded with reflected descriptors", func() error {
		resp, err := http.Post("http://"+srv.gateway+"/grpc.testing.TestService/UnaryCall", "application/json", strings.NewReader(`{}`))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"hostname":"reflected"`) {
			return fmt.Errorf("%s: %s", resp.Status, body)
		}
		return nil
	})
}

// TestMetadataCenterDiscoveryThroughServe: a Dubbo provider registered in ZooKeeper whose
// signatures exist only in the metadata center, as a Java provider writes them, gets REST routes
// without any IDL upload.
func TestMetadataCenterDiscoveryThroughServe(t *testing.T) {
	server := zkpeer.Start(t)
	conn, _, err := zk.Connect([]string{server.Addr()}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	def, err := os.ReadFile("../../idl/java/testdata/userservice/servicedef.json")
	if err != nil {
		t.Fatal(err)
	}
	provider := "dubbo://10.0.0.7:20880/com.example.user.UserService?interface=com.example.user.UserService&application=user-provider&side=provider"
	create := func(path string, data []byte, flags int32) {
		t.Helper()
		parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
		for i := range parts[:len(parts)-1] {
			if _, err := conn.Create("/"+strings.Join(parts[:i+1], "/"), nil, 0, zk.WorldACL(zk.PermAll)); err != nil && err != zk.ErrNodeExists {
				t.Fatal(err)
			}
		}
		if _, err := conn.Create(path, data, flags, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	create("/dubbo/com.example.user.UserService/providers/"+url.QueryEscape(provider), nil, zk.FlagEphemeral)
	create("/dubbo/metadata/com.example.user.UserService/provider/user-provider", def, 0)

	srv := startServe(t, fmt.Sprintf(`registries:
  - name: zk
    type: zookeeper
    zookeeper: {servers: [%[1]q]}
discovery:
  metadataCenters:
    - servers: [%[1]q]
`, server.Addr()))
	waitFor(t, "Dubbo routes from the metadata center", func() error {
		code, body, err := get("http://" + srv.admin + "/api/v1/routes")
		if err != nil || code != http.StatusOK || !strings.Contains(body, `/dubbo/com.example.user.UserService/rename`) {
			return fmt.Errorf("GET /api/v1/routes = %d %v; no route for UserService.rename yet", code, err)
		}
		return nil
	})
}
