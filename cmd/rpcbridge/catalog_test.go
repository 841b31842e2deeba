package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	consulpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/consul"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/nacosdouble"
	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// TestCatalogFromZooKeeper runs `rpcbridge catalog` against a real ZooKeeper holding a Dubbo
// provider written the way Dubbo writes it, next to a static registry.
func TestCatalogFromZooKeeper(t *testing.T) {
	server := zkpeer.Start(t)
	conn, _, err := zk.Connect([]string{server.Addr()}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	provider := "dubbo://10.0.0.7:20880/com.foo.Greeter?interface=com.foo.Greeter&version=1.0.0&methods=sayHello,sayBye&weight=0&application=greeter"
	for _, p := range []string{"/dubbo", "/dubbo/com.foo.Greeter", "/dubbo/com.foo.Greeter/providers"} {
		if _, err := conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && err != zk.ErrNodeExists {
			t.Fatal(err)
		}
	}
	if _, err := conn.Create("/dubbo/com.foo.Greeter/providers/"+url.QueryEscape(provider), nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}

	file := writeFile(t, t.TempDir(), "rpcbridge.yaml", fmt.Sprintf(`registries:
  - name: zk
    type: zookeeper
    zookeeper: {servers: [%q]}
  - name: local
    type: static
    static:
      services:
        - {name: hello, protocol: http, endpoints: [{address: 127.0.0.1, port: 9000}]}
`, server.Addr()))
	code, out, stderr := runCLI(t, context.Background(), "catalog", "--config", file, "--format", "yaml")
	if code != exitOK {
		t.Fatalf("catalog exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{
		"id: 'dubbo:com.foo.Greeter:1.0.0:'", "sayBye", "address: 10.0.0.7", "port: 20880", "weight: 100", "source: zk",
		"id: http:hello", "source: local",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("catalog output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "syncing registries:") {
		t.Errorf("catalog printed no progress line while syncing; stderr:\n%s", stderr)
	}
}

// TestCatalogFromNacos runs `rpcbridge catalog` against the Nacos double through the official
// SDK. Gap: the double speaks Nacos 2.x's naming gRPC protocol; it is not a Nacos server (no
// Nacos server can be installed here).
func TestCatalogFromNacos(t *testing.T) {
	server := nacosdouble.Start(t)
	server.Register("", "DEFAULT_GROUP", "providers:com.foo.Pay:2.0.0:",
		nacosdouble.NewInstance("10.0.0.8", 20880, map[string]string{
			"interface": "com.foo.Pay", "version": "2.0.0", "methods": "pay,refund", "protocol": "dubbo", "side": "provider",
		}))
	file := writeFile(t, t.TempDir(), "rpcbridge.yaml", fmt.Sprintf(`registries:
  - name: nacos
    type: nacos
    nacos: {servers: [%q], cacheDir: %q, logDir: %q}
`, server.Addr(), t.TempDir(), t.TempDir()))
	code, out, stderr := runCLI(t, context.Background(), "catalog", "--config", file, "--format", "yaml")
	if code != exitOK {
		t.Fatalf("catalog exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{"id: 'dubbo:com.foo.Pay:2.0.0:'", "refund", "address: 10.0.0.8", "source: nacos"} {
		if !strings.Contains(out, want) {
			t.Errorf("catalog output lacks %q:\n%s", want, out)
		}
	}
}

// TestCatalogFromConsul runs `rpcbridge catalog` against a real Consul agent holding a gRPC
// service registered the way Consul users do (protocol in Meta, the gRPC name in grpc-service).
func TestCatalogFromConsul(t *testing.T) {
	agent := consulpeer.Start(t)
	reg := `{"Name": "greeter", "ID": "greeter-1", "Address": "10.0.0.9", "Port": 50051,
		"Tags": ["v1"], "Meta": {"protocol": "grpc", "grpc-service": "helloworld.Greeter"}}`
	req, err := http.NewRequest(http.MethodPut, "http://"+agent.Addr()+"/v1/agent/service/register", strings.NewReader(reg))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("register: %s", resp.Status)
	}
	file := writeFile(t, t.TempDir(), "rpcbridge.yaml", fmt.Sprintf(`registries:
  - name: consul
    type: consul
    consul: {address: %q}
`, agent.Addr()))
	code, out, stderr := runCLI(t, context.Background(), "catalog", "--config", file, "--format", "yaml")
	if code != exitOK {
		t.Fatalf("catalog exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{"id: grpc:helloworld.Greeter", "protocol: grpc", "address: 10.0.0.9", "port: 50051", "source: consul", "zone: dc1"} {
		if !strings.Contains(out, want) {
			t.Errorf("catalog output lacks %q:\n%s", want, out)
		}
	}
}
