package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// TestRESTToTripleThroughServe: a real dubbo-go v3.3.2 provider serves over Dubbo 3 Triple
// only and registers as tri:// in a real ZooKeeper, with GreeterService in non-IDL mode
// (hessian2) and PbGreeter with protobuf. serve discovers both; GreeterService's API arrives as
// Java source, PbGreeter's as its .proto; the embedded gateway calls the first with Triple's
// hessian2 wrapper and the second as gRPC (which IDL-mode Triple is on the wire), each route
// picking the protocol the provider serves. The provider registers at interface level
// (tri:// URLs) or at application level (dubbo.endpoints with protocol tri, resolved through
// its MetadataService).
func TestRESTToTripleThroughServe(t *testing.T) {
	for _, mode := range []string{"interface", "application"} {
		t.Run(mode, func(t *testing.T) { tripleThroughServe(t, mode) })
	}
}

// tripleThroughServe is TestRESTToTripleThroughServe with the provider registered in mode.
func tripleThroughServe(t *testing.T, mode string) {
	zk := zookeeper.Start(t)
	p := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), App: "greeter-tri", Registry: mode, Protocol: "tri"})
	srv := startServe(t, fmt.Sprintf(`registries:
  - name: zk
    type: zookeeper
    zookeeper: {servers: [%q], root: dubbo, debounce: 50ms}
rpcRoutes:
  - service: "grpc:org.rpcbridge.test.GreeterService:1.0.0:"
    method: slow
    http: {method: GET, path: "/tri/slow"}
    params: [{arg: millis, from: query}]
    timeout: 300ms
  - service: org.rpcbridge.test.triple.PbGreeter
    method: Slow
    http: {method: GET, path: "/triple/pb/slow"}
    timeout: 300ms
`, zk.Addr()))
	admin := "--admin=http://" + srv.admin
	if code, out, stderr := runCLI(t, context.Background(), "idl", "push", "greeter-api", greeterAPI, admin); code != exitOK {
		t.Fatalf("idl push java: exit %d %s %s", code, out, stderr)
	}
	proto, err := os.ReadFile(dubboprovider.TripleProto())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "triple.proto", string(proto))
	if code, out, stderr := runCLI(t, context.Background(), "idl", "push", "pb-greeter", filepath.Join(dir, "triple.proto"), "--kind", "proto", admin); code != exitOK {
		t.Fatalf("idl push proto: exit %d %s %s", code, out, stderr)
	}
	gw := "http://" + srv.gateway
	base := "/dubbo/org.rpcbridge.test.GreeterService:1.0.0/"
	waitFor(t, "the first REST call over Triple", func() error {
		code, body, err := send("POST", gw+base+"sayHello~java.lang.String", `{"name":"Ada"}`)
		if err != nil || code != http.StatusOK || body != "\"Hello, Ada\"\n" {
			return fmt.Errorf("%d %q %v\n%s", code, body, err, p.LogTail())
		}
		return nil
	})
	waitFor(t, "the first REST call to the protobuf Triple service", func() error {
		code, body, err := send("GET", gw+"/triple/pb/hello/Ada", "")
		if err != nil || code != http.StatusOK || !sameJSON(body, `{"message":"Hello, Ada"}`) {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})

	user := `{"id":"7","name":"Ada","balance":"1.5","level":"SILVER","created":"2024-05-06T07:08:09.123Z",` +
		`"tags":["x"],"scores":{"math":90},"address":{"street":"1 Rue","city":"Paris","zip":"75001"}}`
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string // exact JSON, or a substring when wantPart
		wantPart                 bool
	}{
		{"non-IDL: overload String,int by GET", "GET", base + "sayHello~java.lang.String,int?name=Bob&times=2", "", 200, `"Hello, Bob Hello, Bob"`, false},
		{"non-IDL: DTO", "POST", base + "echoUser", `{"user":` + user + `}`, 200, user, false},
		{"non-IDL: java exception", "POST", base + "fail", `{"message":"boom"}`, 500,
			`{"error":{"code":500,"status":"java_exception","exception":"org.rpcbridge.test.GreeterException","message":"boom"}}`, false},
		{"non-IDL: bad argument", "POST", base + "echoUser", `{"user":{"level":"BRONZE"}}`, 400, `is not a constant of org.rpcbridge.test.Level`, true},
		{"non-IDL: rule timeout", "GET", "/tri/slow?millis=5000", "", 504, `"status":"upstream_timeout"`, true},
		{"non-IDL: rule fast enough", "GET", "/tri/slow?millis=1", "", 200, `"slept 1ms"`, false},
		{"IDL: rule timeout", "GET", "/triple/pb/slow?millis=5000", "", 504, ``, true},
		{"IDL: unary", "GET", "/triple/pb/hello/J%C3%BCrgen", "", 200, `{"message":"Hello, Jürgen"}`, false},
		{"IDL: status NOT_FOUND is 404", "POST", "/triple/pb/fail", `{"name":"gone"}`, 404, `gone`, true},
		{"IDL: fast enough", "GET", "/triple/pb/slow?millis=1", "", 200, `{"message":"slept 1ms"}`, false},
		{"IDL: unknown field", "POST", "/triple/pb/fail", `{"nope":1}`, 400, ``, true},
		{"IDL: garbage body", "POST", "/triple/pb/fail", `{"name":`, 400, ``, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body, err := send(c.method, gw+c.path, c.body)
			ok := sameJSON(body, c.want)
			if c.wantPart {
				ok = strings.Contains(body, c.want)
			}
			if err != nil || code != c.status || !ok {
				t.Errorf("%s %s: %d %s %v\nwant %d %s", c.method, c.path, code, body, err, c.status, c.want)
			}
		})
	}
}
