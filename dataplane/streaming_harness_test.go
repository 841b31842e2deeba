package dataplane_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/chat"
)

// The streaming-for-browsers stack (issue 14 §3): the chat service, a real grpc-go server with a
// method of each streaming kind, behind the embedded gateway, which gets the routes from
// rpcbridge's own xDS server as an embedded gateway (the resources controlplane.Translate makes
// for rpcbridge gateways: gRPC-Web routes and the grpc_web filter, WebSocket upgrades on the
// streaming routes). Nothing is a double: the clients are net/http, coder/websocket's client,
// and, for gRPC-Web, frames built by hand per PROTOCOL-WEB.md (no gRPC-Web client library exists
// for Go), sent over net/http.

const chatCluster = "grpc:chat.v1.Chat"

// chatOrigin is the origin the CORS policy of the unary route allows.
const chatOrigin = "https://app.example.com"

// chatStack is the running stack.
type chatStack struct {
	gw *dataplane.Gateway
}

// chatRoutes are the REST routes of the chat service, as transcoding.Build makes them from
// chat.proto's bindings. Last has a CORS policy, for the gRPC-Web preflight.
func chatRoutes(timeout time.Duration) []ir.Route {
	route := func(name, template, verb, method, body string, serverStreaming bool) ir.Route {
		return ir.Route{Name: name, Cluster: chatCluster, Timeout: timeout,
			Match: ir.Match{PathTemplate: template, Methods: []string{verb}},
			GRPC:  &ir.GRPCRoute{Service: chat.Service, Method: method, Body: body, ServerStreaming: serverStreaming}}
	}
	last := route("chat-last", "/v1/rooms/{room}/last", "GET", "Last", "", false)
	last.Policy = &ir.EdgePolicy{Name: "web", CORS: &ir.CORS{AllowOrigins: []ir.StringMatch{{Exact: chatOrigin}},
		AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{"content-type"}}}
	return []ir.Route{
		route("chat-collect", "/v1/rooms/{room}:collect", "POST", "Collect", "*", false),
		route("chat-talk", "/v1/rooms/{room}:talk", "POST", "Talk", "*", false),
		route("chat-follow", "/v1/rooms/{room}/notes", "GET", "Follow", "", true),
		last,
	}
}

// startChatStack starts the chat server, rpcbridge's xDS server with the chat routes (route
// timeout 20 s) and an embedded gateway, and waits until the gateway transcodes.
func startChatStack(t *testing.T) *chatStack {
	t.Helper()
	return startChatStackWith(t, 20*time.Second)
}

// startChatStackWith is startChatStack with the routes' timeout.
func startChatStackWith(t *testing.T, routeTimeout time.Duration) *chatStack {
	t.Helper()
	fds := chat.MustDescriptors(t)
	host, port, err := net.SplitHostPort(chat.Start(t, fds))
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	set, err := proto.Marshal(fds)
	if err != nil {
		t.Fatal(err)
	}
	g := ir.Gateway{
		Clusters: []ir.Cluster{{Name: chatCluster, Protocol: ir.UpstreamHTTP2, ConnectTimeout: time.Second,
			Endpoints: []ir.Endpoint{{Address: host, Port: uint32(p), Weight: 1, Healthy: true}}}},
		Routes:           chatRoutes(routeTimeout),
		ProtoDescriptors: []ir.ProtoDescriptors{{Service: chat.Service, FileDescriptorSet: set}},
	}
	xds := controlplane.NewServer(controlplane.ServerOptions{})
	if err := xds.Update(g); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- xds.Serve(ctx, ln) }()
	gw := dataplane.New(dataplane.Options{XDSAddress: ln.Addr().String(), NodeID: "streaming",
		NodeCluster: gatewayv1.EmbeddedNodeCluster, ListenAddress: "127.0.0.1:0",
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	done := make(chan error, 1)
	go func() { done <- gw.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
		<-served
	})
	s := &chatStack{gw: gw}
	eventually(t, "the gateway transcodes the chat routes", func() error {
		resp, err := s.get("/v1/rooms/lobby/last", nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "last of lobby") {
			return fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		return nil
	})
	return s
}

// url is the gateway's URL of target (a path with its query).
func (s *chatStack) url(scheme, target string) string {
	addr := s.gw.Addr()
	if addr == nil {
		return scheme + "://127.0.0.1:1" + target // not listening yet: the request fails
	}
	return scheme + "://" + addr.String() + target
}

// get sends a GET with the given headers.
func (s *chatStack) get(target string, header http.Header) (*http.Response, error) {
	return s.do(http.MethodGet, target, header, nil)
}

// do sends one request through the gateway.
func (s *chatStack) do(method, target string, header http.Header, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(method, s.url("http", target), body)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return (&http.Client{Timeout: giveUp}).Do(req)
}
