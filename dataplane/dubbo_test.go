package dataplane_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// greeterCluster is the Dubbo cluster of the test provider.
const greeterCluster = "dubbo:org.rpcbridge.test.GreeterService:1.0.0:"

// greeterRoute is a REST route to one method of the test provider.
func greeterRoute(name, method, template string, cluster string, params ...ir.DubboParam) ir.Route {
	returns := "java.lang.String"
	if name == "echoUser" {
		returns = "org.rpcbridge.test.User"
	}
	return ir.Route{
		Name: name, Match: ir.Match{PathTemplate: template, Methods: []string{method}}, Cluster: cluster, Timeout: 10 * time.Second,
		Dubbo: &ir.DubboRoute{Interface: dubboprovider.Interface, Version: dubboprovider.Version,
			Method: strings.TrimSuffix(strings.TrimSuffix(name, "Times"), "Empty"), Params: params, Returns: returns},
	}
}

// dubboStack is ZooKeeper, two real dubbo-go providers, rpcbridge's xDS server holding a
// gateway IR with their Dubbo REST routes, and the embedded gateway (node cluster
// rpcbridge-embedded) following it.
type dubboStack struct {
	providers []*dubboprovider.Provider
	gw        *dataplane.Gateway
}

// startDubboStack starts the stack; edit, when given, changes the gateway IR before it is served.
func startDubboStack(tb testing.TB, edit ...func(*ir.Gateway)) *dubboStack {
	tb.Helper()
	zk := zookeeper.Start(tb)
	s := &dubboStack{}
	for i := range 2 {
		s.providers = append(s.providers, dubboprovider.Start(tb, dubboprovider.Options{
			ZooKeeper: zk.Addr(), App: fmt.Sprintf("greeter-%d", i), Registry: "interface"}))
	}
	var endpoints []ir.Endpoint
	for _, p := range s.providers {
		endpoints = append(endpoints, ir.Endpoint{Address: "127.0.0.1", Port: uint32(p.Port()), Weight: 100, Healthy: true})
	}
	slow := greeterRoute("slow", "GET", "/slow", greeterCluster, ir.DubboParam{Name: "millis", Type: "int", From: ir.FromQuery, Key: "ms"})
	slow.Dubbo.Timeout = 300 * time.Millisecond
	gateway := ir.Gateway{
		Clusters: []ir.Cluster{
			{Name: greeterCluster, Protocol: ir.UpstreamDubbo, ConnectTimeout: time.Second, Endpoints: endpoints},
			{Name: greeterCluster + "empty", Protocol: ir.UpstreamDubbo, ConnectTimeout: time.Second},
		},
		Routes: []ir.Route{
			greeterRoute("sayHelloTimes", "GET", "/hello/{name}/times", greeterCluster,
				ir.DubboParam{Name: "name", Type: "java.lang.String", From: ir.FromPath, Key: "name"},
				ir.DubboParam{Name: "times", Type: "int", From: ir.FromQuery, Key: "n"}),
			greeterRoute("sayHello", "GET", "/hello/{name}", greeterCluster,
				ir.DubboParam{Name: "name", Type: "java.lang.String", From: ir.FromPath, Key: "name"}),
			greeterRoute("echoUser", "POST", "/users", greeterCluster,
				ir.DubboParam{Name: "user", Type: "org.rpcbridge.test.User", From: ir.FromWholeBody}),
			greeterRoute("fail", "POST", "/fail", greeterCluster,
				ir.DubboParam{Name: "message", Type: "java.lang.String", From: ir.FromBody, Key: "message"}),
			slow,
			greeterRoute("sayHelloEmpty", "GET", "/empty/{name}", greeterCluster+"empty",
				ir.DubboParam{Name: "name", Type: "java.lang.String", From: ir.FromPath, Key: "name"}),
		},
		JavaClasses: dubboprovider.JavaClasses(),
	}
	for _, e := range edit {
		e(&gateway)
	}
	cp := controlplane.NewServer(controlplane.ServerOptions{})
	if err := cp.Update(gateway); err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- cp.Serve(ctx, ln) }()
	s.gw = dataplane.New(dataplane.Options{XDSAddress: ln.Addr().String(), NodeID: "dubbo-test",
		NodeCluster: gatewayv1.EmbeddedNodeCluster, ListenAddress: "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() { done <- s.gw.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("gateway Run: %v", err)
		}
		<-served
	})
	deadline := time.Now().Add(20 * time.Second)
	for !s.gw.Ready() || s.gw.Addr() == nil {
		if time.Now().After(deadline) {
			tb.Fatal("gave up waiting for the gateway to receive its routes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Ready means listener and routes; the clusters' endpoints come over EDS after them, so
	// wait for a call to go through before the cases start.
	for {
		status, body := s.call(tb, "GET", "/hello/warmup", "")
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for the providers' endpoints: %d %s", status, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// call sends one request to the gateway and returns the status and body.
func (s *dubboStack) call(tb testing.TB, method, path, body string) (int, string) {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+s.gw.Addr().String()+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRESTToDubbo runs the Dubbo REST routes end to end: xDS from rpcbridge's control plane,
// the embedded gateway, real dubbo-go providers.
func TestRESTToDubbo(t *testing.T) {
	s := startDubboStack(t)
	user := `{"id":"9007199254740993","name":"Ada","balance":"12345678901234567890.123456789","level":"GOLD",` +
		`"created":"2024-05-06T07:08:09.123Z","tags":["x","y"],"scores":{"math":90,"art":-3},` +
		`"address":{"street":"1 Rue","city":"Paris","zip":"75001"}}`
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string // exact JSON, or a substring when wantPart
		wantPart                 bool
	}{
		{"overload String", "GET", "/hello/Ada", "", 200, `"Hello, Ada"`, false},
		{"overload String,int", "GET", "/hello/Bob/times?n=2", "", 200, `"Hello, Bob Hello, Bob"`, false},
		{"escaped path variable", "GET", "/hello/J%C3%BCrgen", "", 200, `"Hello, Jürgen"`, false},
		{"echoUser every field type", "POST", "/users", user, 200, user, false},
		{"java exception", "POST", "/fail", `{"message":"boom"}`, 500,
			`{"error":{"code":500,"status":"java_exception","exception":"org.rpcbridge.test.GreeterException","message":"boom"}}`, false},
		{"timeout", "GET", "/slow?ms=5000", "", 504, `"status":"upstream_timeout"`, true},
		{"fast enough", "GET", "/slow?ms=1", "", 200, `"slept 1ms"`, false},
		{"no endpoints", "GET", "/empty/x", "", 503, `"status":"no_healthy_upstream"`, true},
		{"int out of range", "GET", "/hello/Bob/times?n=3000000000", "", 400, `argument times (int, from query \"n\"): \"3000000000\" is not a int (32-bit integer)`, true},
		{"missing argument", "GET", "/hello/Bob/times", "", 400, `argument times (int, from query \"n\"): missing`, true},
		{"bad enum", "POST", "/users", `{"level":"BRONZE"}`, 400, `.level: \"BRONZE\" is not a constant of org.rpcbridge.test.Level (GOLD, SILVER)`, true},
		{"bad decimal", "POST", "/users", `{"balance":"1.2.3"}`, 400, `.balance: \"1.2.3\" is not a java.math.BigDecimal`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := s.call(t, c.method, c.path, c.body)
			ok := sameJSON(body, c.want)
			if c.wantPart {
				ok = strings.Contains(body, c.want)
			}
			if status != c.status || !ok {
				t.Errorf("%s %s: %d %s\nwant %d %s", c.method, c.path, status, body, c.status, c.want)
			}
		})
	}

	t.Run("provider stopped", func(t *testing.T) {
		s.providers[1].Stop()
		deadline := time.Now().Add(15 * time.Second)
		for {
			status, _ := s.call(t, "GET", "/hello/again", "")
			if status == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no success after stopping one of two providers (last status %d)", status)
			}
		}
		for i := range 10 {
			if status, body := s.call(t, "GET", "/hello/again", ""); status != 200 || body != "\"Hello, again\"\n" {
				t.Fatalf("request %d after the stop: %d %s", i, status, body)
			}
		}
	})

	t.Run("all providers stopped", func(t *testing.T) {
		s.providers[0].Stop()
		deadline := time.Now().Add(15 * time.Second)
		for {
			status, body := s.call(t, "GET", "/hello/again", "")
			if status == 503 && strings.Contains(body, `"status":"upstream_connect_failure"`) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("with every provider stopped: %d %s, want 503 upstream_connect_failure", status, body)
			}
		}
	})
}
