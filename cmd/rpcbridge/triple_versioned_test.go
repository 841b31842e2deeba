package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// TestRESTToVersionedTripleIDL: a real dubbo-go v3.3.2 provider serves the protobuf Triple
// service PbGreeter registered with version 2.0.0 and group blue in a real ZooKeeper (at
// interface level: tri:// URLs with version and group; at application level: through its
// MetadataService). dubbo-go's Triple server finds the implementation by the tri-service-version
// and tri-service-group headers, so a gRPC call without them is UNIMPLEMENTED (checked first
// with grpc-go, so that the test shows the headers are needed). serve's control plane puts them
// in the gRPC routes' request_headers_to_add (and the client's own in request_headers_to_remove);
// the embedded gateway executes them as Envoy's router does, so the REST calls reach the
// versioned service, also when the client sends other values of those headers.
func TestRESTToVersionedTripleIDL(t *testing.T) {
	for _, mode := range []string{"interface", "application"} {
		t.Run(mode, func(t *testing.T) { versionedTripleIDL(t, mode) })
	}
}

// versionedTripleIDL is TestRESTToVersionedTripleIDL with the provider registered in mode.
func versionedTripleIDL(t *testing.T, mode string) {
	zk := zookeeper.Start(t)
	p := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), App: "greeter-tri-v", Registry: mode,
		Protocol: "tri", PbVersion: "2.0.0", PbGroup: "blue"})
	checkTripleNeedsServiceHeaders(t, p.Addr())

	// At application level the interface is first published without version and group, until
	// the MetadataService answers; that placeholder is then retained like a service whose
	// providers left, with routes on the same paths as the versioned service's, which yield to
	// the live service's (transcoding: a retained service's route never blocks a live one).
	srv := startServe(t, fmt.Sprintf(`registries:
  - name: zk
    type: zookeeper
    zookeeper: {servers: [%q], root: dubbo, debounce: 50ms}
`, zk.Addr()))
	proto, err := os.ReadFile(dubboprovider.TripleProto())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "triple.proto", string(proto))
	if code, out, stderr := runCLI(t, context.Background(), "idl", "push", "pb-greeter", filepath.Join(dir, "triple.proto"),
		"--kind", "proto", "--admin=http://"+srv.admin); code != exitOK {
		t.Fatalf("idl push proto: exit %d %s %s", code, out, stderr)
	}
	gw := "http://" + srv.gateway
	waitFor(t, "the first REST call to the versioned protobuf Triple service", func() error {
		code, body, err := send("GET", gw+"/triple/pb/hello/Ada", "")
		if err != nil || code != http.StatusOK || !sameJSON(body, `{"message":"Hello, Ada"}`) {
			return fmt.Errorf("%d %q %v\n%s", code, body, err, p.LogTail())
		}
		return nil
	})
	cases := []struct {
		name, method, path, body string
		headers                  map[string]string
		status                   int
		want                     string
	}{
		{"unary", "GET", "/triple/pb/hello/Bob", "", nil, 200, `{"message":"Hello, Bob"}`},
		{"the client's own service headers are replaced", "GET", "/triple/pb/hello/Eve", "",
			map[string]string{"tri-service-version": "9.9.9", "tri-service-group": "red"}, 200, `{"message":"Hello, Eve"}`},
		{"status NOT_FOUND is 404", "POST", "/triple/pb/fail", `{"name":"gone"}`, nil, 404, ``},
		{"slow call", "GET", "/triple/pb/slow?millis=1", "", nil, 200, `{"message":"slept 1ms"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, gw+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			body := string(raw)
			if resp.StatusCode != c.status || (c.want != "" && !sameJSON(body, c.want)) {
				t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, resp.StatusCode, body, c.status, c.want)
			}
		})
	}
}

// checkTripleNeedsServiceHeaders calls the provider's versioned PbGreeter with grpc-go: without
// Triple's service headers it must answer UNIMPLEMENTED, with them the greeting.
func checkTripleNeedsServiceHeaders(t *testing.T, addr string) {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	call := func(md metadata.MD) (*wrapperspb.StringValue, error) {
		ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), md), 20*time.Second)
		defer cancel()
		out := &wrapperspb.StringValue{}
		return out, cc.Invoke(ctx, "/"+dubboprovider.PbInterface+"/SayHello", wrapperspb.String("Ada"), out)
	}
	if _, err := call(nil); status.Code(err) != codes.Unimplemented {
		t.Fatalf("call without tri-service-version/group: %v, want UNIMPLEMENTED", err)
	}
	out, err := call(metadata.Pairs("tri-service-version", "2.0.0", "tri-service-group", "blue"))
	if err != nil || out.GetValue() != "Hello, Ada" {
		t.Fatalf("call with tri-service-version/group: %v %v", out, err)
	}
}
