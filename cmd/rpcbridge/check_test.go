package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/idl/store"
)

const checkProto = `syntax = "proto3";
package greet.v1;
service Greeter { rpc SayHello(HelloRequest) returns (HelloReply); }
message HelloRequest { string name = 1; }
message HelloReply { string message = 1; }
`

// countingListener is a TCP listener that counts the connections made to it.
func countingListener(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return l.Addr().String(), &n
}

// TestCheckValidatesConfigAndStoredIDL runs check on a configuration with a ZooKeeper and a
// Consul registry (both addresses of listeners that count connections) and an IDL store: a
// one-line summary and exit 0 while all is valid, exit 2 with the compiler's file:line:column
// once a stored file is broken, and never a connection to a registry.
func TestCheckValidatesConfigAndStoredIDL(t *testing.T) {
	zk, zkConns := countingListener(t)
	consul, consulConns := countingListener(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	file := writeFile(t, dir, "rpcbridge.yaml", fmt.Sprintf(`dataDir: %q
registries:
  - {name: zk, type: zookeeper, zookeeper: {servers: [%q]}}
  - {name: consul, type: consul, consul: {address: %q}}
routes:
  - {service: hello, pathPrefix: /hello/}
`, data, zk, consul))

	code, out, stderr := runCLI(t, context.Background(), "check", "--config", file)
	if code != exitOK || out != file+": valid (2 registries, 1 route, 0 RPC routes); no IDL store at "+filepath.Join(data, "idl")+"\n" {
		t.Fatalf("check without a store: exit %d, stdout %q, stderr:\n%s", code, out, stderr)
	}

	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"greeter", "other"} {
		if _, err := st.Put(context.Background(), name, store.KindProto, map[string][]byte{"greet/greeter.proto": []byte(checkProto)}); err != nil {
			t.Fatal(err)
		}
	}
	code, out, stderr = runCLI(t, context.Background(), "check", "--config", file)
	if code != exitOK || !strings.HasSuffix(out, "; IDL store "+filepath.Join(data, "idl")+": 2 schemas valid\n") {
		t.Fatalf("check with a valid store: exit %d, stdout %q, stderr:\n%s", code, out, stderr)
	}

	// Break the stored file of one schema, as a hand edit of the data directory would.
	stored := filepath.Join(data, "idl", "greeter", "v1", "files", "greet", "greeter.proto")
	if err := os.WriteFile(stored, []byte(strings.Replace(checkProto, "string name", "strin name", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, context.Background(), "check", "--config", file)
	want := filepath.Join(data, "idl") + ": schema greeter (proto, version 1): greet/greeter.proto:4:24: "
	if code != exitConfig || !strings.Contains(stderr, want) || strings.Contains(stderr, "schema other") {
		t.Fatalf("check with a broken stored file: exit %d, stderr:\n%s\nwant exit %d and a line starting %q", code, stderr, exitConfig, want)
	}
	if n, m := zkConns.Load(), consulConns.Load(); n != 0 || m != 0 {
		t.Fatalf("check connected to the registries (%d to ZooKeeper, %d to Consul); it must not", n, m)
	}
}

// TestCheckReportsEveryConfigProblem checks that check lists every problem of a bad file with
// file:line: key, and exits 2.
func TestCheckReportsEveryConfigProblem(t *testing.T) {
	file := writeFile(t, t.TempDir(), "rpcbridge.yaml", `syncTimeout: soon
registries:
  - {name: BAD, type: static, static: {services: []}}
envoy: {flavor: nginx}
`)
	code, out, stderr := runCLI(t, context.Background(), "check", "--config", file)
	if code != exitConfig || out != "" {
		t.Fatalf("exit %d, stdout %q; want exit %d and nothing on stdout", code, out, exitConfig)
	}
	for _, want := range []string{
		file + `:1: syncTimeout: invalid duration "soon"`,
		file + `:3: registries[0].name: registry name "BAD"`,
		file + `:4: envoy.flavor: unknown flavor "nginx"`,
		"3 problems (the IDL store was not checked",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}
