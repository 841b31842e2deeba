package dataplane_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// tripleCluster is the HTTP/2 cluster of the Triple test provider (transcoding names a Triple
// service's cluster after its gRPC-family identity).
const tripleCluster = "grpc:org.rpcbridge.test.GreeterService:1.0.0:"

// startTripleStack runs a real dubbo-go v3.3.2 provider serving GreeterService over Dubbo 3
// Triple in non-IDL mode (hessian2 inside Triple's wrapper messages), rpcbridge's xDS server
// holding REST routes to it with the Triple protocol, and the embedded gateway following it.
func startTripleStack(tb testing.TB) *dubboStack {
	tb.Helper()
	p := dubboprovider.Start(tb, dubboprovider.Options{Registry: "none", Protocol: "tri", App: "greeter-tri"})
	s := &dubboStack{providers: []*dubboprovider.Provider{p}}
	tri := func(r ir.Route) ir.Route {
		r.Cluster = tripleCluster
		r.Dubbo.Protocol = ir.DubboProtocolTriple
		return r
	}
	slow := tri(greeterRoute("slow", "GET", "/slow", greeterCluster, ir.DubboParam{Name: "millis", Type: "int", From: ir.FromQuery, Key: "ms"}))
	slow.Dubbo.Timeout = 300 * time.Millisecond
	echoSample := tri(greeterRoute("echoSample", "POST", "/samples", greeterCluster,
		ir.DubboParam{Name: "sample", Type: "org.rpcbridge.test.Sample", From: ir.FromWholeBody}))
	echoSample.Dubbo.Returns = "org.rpcbridge.test.Sample"
	small := tri(greeterRoute("echoUser", "POST", "/small/users", greeterCluster,
		ir.DubboParam{Name: "user", Type: "org.rpcbridge.test.User", From: ir.FromWholeBody}))
	small.Name = "echoUserSmall"
	small.Dubbo.PayloadLimit = 400 // the JSON body and the encoded call are held to it
	gateway := ir.Gateway{
		Clusters: []ir.Cluster{{Name: tripleCluster, Protocol: ir.UpstreamHTTP2, ConnectTimeout: time.Second,
			Endpoints: []ir.Endpoint{{Address: "127.0.0.1", Port: uint32(p.Port()), Weight: 100, Healthy: true}}}},
		Routes: []ir.Route{
			tri(greeterRoute("sayHelloTimes", "GET", "/hello/{name}/times", greeterCluster,
				ir.DubboParam{Name: "name", Type: "java.lang.String", From: ir.FromPath, Key: "name"},
				ir.DubboParam{Name: "times", Type: "int", From: ir.FromQuery, Key: "n"})),
			tri(greeterRoute("sayHello", "GET", "/hello/{name}", greeterCluster,
				ir.DubboParam{Name: "name", Type: "java.lang.String", From: ir.FromPath, Key: "name"})),
			tri(greeterRoute("echoUser", "POST", "/users", greeterCluster,
				ir.DubboParam{Name: "user", Type: "org.rpcbridge.test.User", From: ir.FromWholeBody})),
			echoSample,
			small,
			tri(greeterRoute("fail", "POST", "/fail", greeterCluster,
				ir.DubboParam{Name: "message", Type: "java.lang.String", From: ir.FromBody, Key: "message"})),
			slow,
			tri(greeterRoute("nothere", "GET", "/nothere", greeterCluster)),
		},
		JavaClasses: dubboprovider.JavaClasses(),
	}
	withPolicy(&gateway, transcoding.DefaultRPCPolicy())
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
	s.reg = prometheus.NewRegistry()
	s.gw = dataplane.New(dataplane.Options{XDSAddress: ln.Addr().String(), NodeID: "triple-test",
		NodeCluster: gatewayv1.EmbeddedNodeCluster, ListenAddress: "127.0.0.1:0", Registerer: s.reg})
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
	for {
		if s.gw.Ready() && s.gw.Addr() != nil {
			if status, _ := s.call(tb, "GET", "/hello/warmup", ""); status == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for the first Triple call through the gateway\n%s", p.LogTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// TestRESTToTripleNonIDL runs REST routes end to end to a real dubbo-go v3.3.2 provider that
// serves the Java interface GreeterService over Triple without a protobuf IDL: generic
// ($invoke) calls with typed hessian2 arguments inside TripleRequestWrapper, over gRPC framing
// on HTTP/2, the result unwrapped from TripleResponseWrapper.
func TestRESTToTripleNonIDL(t *testing.T) {
	s := startTripleStack(t)
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
		{"DTO every field type", "POST", "/users", user, 200, user, false},
		{"DTO of every Java type family", "POST", "/samples", dubboprovider.SampleJSON, 200, dubboprovider.SampleJSON, false},
		{"java exception", "POST", "/fail", `{"message":"boom"}`, 500,
			`{"error":{"code":500,"status":"java_exception","exception":"org.rpcbridge.test.GreeterException","message":"boom"}}`, false},
		{"no such method", "GET", "/nothere", "", 500, `"message":"\"nothere\" method is not found`, true},
		{"timeout", "GET", "/slow?ms=5000", "", 504, `"status":"upstream_timeout"`, true},
		{"fast enough", "GET", "/slow?ms=1", "", 200, `"slept 1ms"`, false},
		{"int out of range", "GET", "/hello/Bob/times?n=3000000000", "", 400, `argument times (int, from query \"n\"): \"3000000000\" is not a int (32-bit integer)`, true},
		{"bad enum", "POST", "/users", `{"level":"BRONZE"}`, 400, `.level: \"BRONZE\" is not a constant of org.rpcbridge.test.Level (GOLD, SILVER)`, true},
		{"garbage body", "POST", "/users", `{"id":`, 400, `body is not JSON`, true},
		{"within the payload limit", "POST", "/small/users", `{"name":"Ada"}`, 200, `"name":"Ada"`, true},
		{"body over the payload limit", "POST", "/small/users", `{"name":"` + strings.Repeat("a", 500) + `"}`, 413, `larger than 400 bytes`, true},
		{"call over the payload limit", "POST", "/small/users", `{"name":"` + strings.Repeat("a", 300) + `"}`, 413, `triple request of`, true},
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
	// After the bad requests and the timeout the gateway still serves the provider.
	if status, body := s.call(t, "GET", "/hello/again", ""); status != 200 || body != "\"Hello, again\"\n" {
		t.Fatalf("after the failures: %d %s", status, body)
	}
	// The calls are reported as Triple's, not Dubbo's: protocol "triple" on the upstream
	// histogram, with the outcomes of Dubbo calls.
	counts := upstreamCounts(t, s.reg)
	for _, outcome := range []string{"ok", "error", "timeout"} {
		if counts[[3]string{tripleCluster, "triple", outcome}] == 0 {
			t.Errorf("no Triple call counted with outcome %s (all: %v)", outcome, counts)
		}
	}
	for k := range counts {
		if k[1] != "triple" {
			t.Errorf("upstream call counted with protocol %q, want triple: %v", k[1], k)
		}
	}

	t.Run("provider stopped", func(t *testing.T) {
		s.providers[0].Stop()
		deadline := time.Now().Add(15 * time.Second)
		for {
			status, body := s.call(t, "GET", "/hello/again", "")
			if status == 503 && strings.Contains(body, `"status":"upstream_connect_failure"`) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("with the provider stopped: %d %s, want 503 upstream_connect_failure", status, body)
			}
		}
	})
}
