package grpcgateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/internal/bench/grpcgateway/echopb"
)

const (
	service = "echo.v1.EchoService"
	cluster = "grpc:" + service
	giveUp  = 20 * time.Second
)

// echoServer is the real grpc-go server behind both gateways: it answers with the request.
type echoServer struct {
	echopb.UnimplementedEchoServiceServer
}

func (echoServer) Get(_ context.Context, r *echopb.EchoRequest) (*echopb.EchoResponse, error) {
	return &echopb.EchoResponse{Id: r.GetId(), Text: r.GetText(), Meta: r.GetMeta()}, nil
}

func (echoServer) Post(_ context.Context, r *echopb.EchoRequest) (*echopb.EchoResponse, error) {
	return &echopb.EchoResponse{Id: r.GetId(), Text: r.GetText(), Meta: r.GetMeta()}, nil
}

// startGRPC serves echoServer on a free loopback port until the benchmark ends.
func startGRPC(tb testing.TB) *net.TCPAddr {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := grpc.NewServer()
	echopb.RegisterEchoServiceServer(srv, echoServer{})
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(srv.Stop)
	return ln.Addr().(*net.TCPAddr)
}

// serveHTTP serves h on a free loopback port until the benchmark ends and returns its base URL.
func serveHTTP(tb testing.TB, h http.Handler) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: giveUp}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// grpcGatewayMux is grpc-gateway's ServeMux with the generated handlers, in front of upstream.
func grpcGatewayMux(tb testing.TB, upstream *net.TCPAddr) *runtime.ServeMux {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	mux := runtime.NewServeMux()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if err := echopb.RegisterEchoServiceHandlerFromEndpoint(ctx, mux, upstream.String(), opts); err != nil {
		tb.Fatal(err)
	}
	return mux
}

// startGRPCGateway serves grpcGatewayMux on a free loopback port and returns its base URL.
func startGRPCGateway(tb testing.TB, upstream *net.TCPAddr) string {
	tb.Helper()
	return serveHTTP(tb, grpcGatewayMux(tb, upstream))
}

// echoGateway is the routing state rpcbridge would compile for echo.proto: the two bindings
// transcoded to the upstream's cluster, with the descriptors.
func echoGateway(tb testing.TB, upstream *net.TCPAddr) ir.Gateway {
	tb.Helper()
	text, err := os.ReadFile("echopb/echo.proto")
	if err != nil {
		tb.Fatal(err)
	}
	fds, err := protoidl.Compile(context.Background(), map[string][]byte{"echo/v1/echo.proto": text})
	if err != nil {
		tb.Fatal(err)
	}
	set, err := proto.MarshalOptions{Deterministic: true}.Marshal(fds)
	if err != nil {
		tb.Fatal(err)
	}
	return ir.Gateway{
		Clusters: []ir.Cluster{{
			Name: cluster, Protocol: ir.UpstreamHTTP2, ConnectTimeout: time.Second,
			Endpoints: []ir.Endpoint{{Address: upstream.IP.String(), Port: uint32(upstream.Port), Weight: 1, Healthy: true}},
		}},
		Routes: []ir.Route{
			{Name: "echo-get", Cluster: cluster, Match: ir.Match{PathTemplate: "/v1/echo/{id}", Methods: []string{http.MethodGet}},
				GRPC: &ir.GRPCRoute{Service: service, Method: "Get"}},
			{Name: "echo-post", Cluster: cluster, Match: ir.Match{PathTemplate: "/v1/echo", Methods: []string{http.MethodPost}},
				GRPC: &ir.GRPCRoute{Service: service, Method: "Post", Body: "*"}},
		},
		ProtoDescriptors: []ir.ProtoDescriptors{{Service: service, FileDescriptorSet: set}},
	}
}

// startEmbedded runs rpcbridge's xDS server with the echo routes and the embedded gateway
// (node cluster rpcbridge-embedded) fed by it, in front of upstream, and returns its base URL.
func startEmbedded(tb testing.TB, upstream *net.TCPAddr) string {
	tb.Helper()
	return "http://" + embeddedGateway(tb, upstream).Addr().String()
}

// embeddedGateway runs rpcbridge's xDS server and the embedded gateway as startEmbedded does and
// returns the gateway once it listens.
func embeddedGateway(tb testing.TB, upstream *net.TCPAddr) *dataplane.Gateway {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	xds := controlplane.NewServer(controlplane.ServerOptions{})
	if err := xds.Update(echoGateway(tb, upstream)); err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	xdsDone := make(chan error, 1)
	go func() { xdsDone <- xds.Serve(ctx, ln) }()
	gw := dataplane.New(dataplane.Options{
		XDSAddress: ln.Addr().String(), NodeID: "bench", NodeCluster: gatewayv1.EmbeddedNodeCluster,
		ListenAddress: "127.0.0.1:0",
	})
	gwDone := make(chan error, 1)
	go func() { gwDone <- gw.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		for _, done := range []chan error{gwDone, xdsDone} {
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				tb.Errorf("shutdown: %v", err)
			}
		}
	})
	deadline := time.Now().Add(giveUp)
	for gw.Addr() == nil {
		if time.Now().After(deadline) {
			tb.Fatal("embedded gateway did not listen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return gw
}

// The requests of the load: a GET with a path variable and query parameters, a POST with the
// whole message as body. Both carry an int64, a string and a nested message.
const (
	getPath  = "/v1/echo/1234567890123?text=hello%20world&meta.trace=t-1&meta.at=42"
	postPath = "/v1/echo"
	postBody = `{"id":"1234567890123","text":"hello world","meta":{"trace":"t-1","at":"42"}}`
	// wantJSON is what both requests must answer.
	wantJSON = `{"id":"1234567890123","text":"hello world","meta":{"trace":"t-1","at":"42"}}`
)

// call makes one request of the load (GET when get, else POST) and drains the answer.
func call(client *http.Client, base string, get bool) ([]byte, error) {
	var resp *http.Response
	var err error
	if get {
		resp, err = client.Get(base + getPath)
	} else {
		resp, err = client.Post(base+postPath, "application/json", strings.NewReader(postBody))
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, body)
	}
	return body, nil
}

// checkAnswers fails unless both requests through base answer wantJSON, waiting for the
// gateway's configuration to arrive first.
func checkAnswers(tb testing.TB, client *http.Client, base string) {
	tb.Helper()
	var want any
	if err := json.Unmarshal([]byte(wantJSON), &want); err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(giveUp)
	for _, get := range []bool{true, false} {
		for {
			body, err := call(client, base, get)
			if err == nil {
				var got any
				if err = json.Unmarshal(body, &got); err == nil && !jsonEqual(got, want) {
					err = fmt.Errorf("answer %s, want %s", body, wantJSON)
				}
			}
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("%s (get=%v): %v", base, get, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
