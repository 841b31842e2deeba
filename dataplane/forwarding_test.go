package dataplane_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/bookstore"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// uuidV4 is the form of the request ids Envoy generates: version 4, RFC 4122 variant.
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// forwardingStack is one gateway IR with a route to each upstream kind — a real HTTP server, the
// real grpc-go bookstore (which reports the metadata it received) and a real dubbo-go provider
// (whose attachments() returns the attachments it received) — served by rpcbridge's xDS server
// to the embedded gateway. Forwarding policies are changed through the IR, so what is tested
// is the whole policy path: IR → HttpConnectionManager and RouteConfiguration → gateway.
type forwardingStack struct {
	xds  *controlplane.Server
	gw   *dataplane.Gateway
	base ir.Gateway
	logs *syncBuffer // the gateway's JSON log
}

// The routes of the stack: one per upstream kind (two for Dubbo: all headers as attachments,
// and the attachments transcoding gives a route by default).
const (
	httpPath     = "/http/anything"
	grpcPath     = "/v1/shelves/7"
	dubboAllPath = "/dubbo/all"
	dubboIDPath  = "/dubbo/id"
	deadPath     = "/dead/x"
)

// startForwardingStack starts the stack; tune, if given, adjusts the gateway's options.
func startForwardingStack(t *testing.T, tune ...func(*dataplane.Options)) *forwardingStack {
	t.Helper()
	web := httptest.NewServer(echoHandler("http"))
	t.Cleanup(web.Close)
	fds := bookstore.MustDescriptors(t)
	books := bookstore.Start(t, fds)
	set, err := proto.MarshalOptions{Deterministic: true}.Marshal(fds)
	if err != nil {
		t.Fatal(err)
	}
	zk := zookeeper.Start(t)
	provider := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), Registry: "interface"})

	endpoint := func(addr string) []ir.Endpoint {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			t.Fatal(err)
		}
		return []ir.Endpoint{{Address: host, Port: uint32(p), Weight: 1, Healthy: true}}
	}
	attachments := func(path string, headers ...string) ir.Route {
		return ir.Route{Name: "dubbo" + path, Cluster: greeterCluster, Timeout: 10 * time.Second,
			Match: ir.Match{Path: path, Methods: []string{http.MethodGet}},
			Dubbo: &ir.DubboRoute{Interface: dubboprovider.Interface, Version: dubboprovider.Version, Method: "attachments",
				Params: []ir.DubboParam{}, Returns: "java.util.Map<java.lang.String,java.lang.String>", Attachments: headers}}
	}
	dead := deadEndpoint(t)
	s := &forwardingStack{base: ir.Gateway{
		Clusters: []ir.Cluster{
			{Name: "grpc:" + bookstore.Service, Protocol: ir.UpstreamHTTP2, ConnectTimeout: time.Second, Endpoints: endpoint(books)},
			{Name: greeterCluster, Protocol: ir.UpstreamDubbo, ConnectTimeout: time.Second, Endpoints: endpoint(provider.Addr())},
			{Name: "http:dead", Protocol: ir.UpstreamHTTP1, ConnectTimeout: time.Second, Endpoints: []ir.Endpoint{{
				Address: dead.Host, Port: dead.Port, Weight: 1, Healthy: true}}},
			{Name: "http:echo", Protocol: ir.UpstreamHTTP1, ConnectTimeout: time.Second, Endpoints: endpoint(web.Listener.Addr().String())},
		},
		Routes: []ir.Route{
			attachments(dubboAllPath, "*"),
			attachments(dubboIDPath, ir.RequestIDHeader), // what transcoding gives a Dubbo route without rules
			{Name: "grpc", Cluster: "grpc:" + bookstore.Service, Match: ir.Match{PathTemplate: "/v1/{name=shelves/*}", Methods: []string{"GET"}},
				GRPC: &ir.GRPCRoute{Service: bookstore.Service, Method: "GetShelf"}},
			{Name: "http", Cluster: "http:echo", Match: ir.Match{PathPrefix: "/http/"}},
			{Name: "dead", Cluster: "http:dead", Match: ir.Match{PathPrefix: "/dead/"}},
		},
		ProtoDescriptors: []ir.ProtoDescriptors{{Service: bookstore.Service, FileDescriptorSet: set}},
		JavaClasses:      dubboprovider.JavaClasses(),
	}, logs: &syncBuffer{}}
	s.xds = controlplane.NewServer(controlplane.ServerOptions{})
	s.apply(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.xds.Serve(ctx, ln) }()
	opts := dataplane.Options{XDSAddress: ln.Addr().String(), NodeID: "forwarding-test",
		NodeCluster: gatewayv1.EmbeddedNodeCluster, ListenAddress: "127.0.0.1:0", LocalAddress: localAddress,
		Logger: slog.New(slog.NewJSONHandler(s.logs, nil))}
	for _, f := range tune {
		f(&opts)
	}
	s.gw = dataplane.New(opts)
	done := make(chan error, 1)
	go func() { done <- s.gw.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
		<-served
	})
	eventually(t, "gateway ready", func() error {
		if !s.gw.Ready() || s.gw.Addr() == nil {
			return fmt.Errorf("not ready")
		}
		return nil
	})
	return s
}

// apply serves the stack's IR with the forwarding policy f (nil: the default).
func (s *forwardingStack) apply(t *testing.T, f *ir.Forwarding) {
	t.Helper()
	g := s.base
	g.Forwarding = f
	if err := s.xds.Update(g); err != nil {
		t.Fatal(err)
	}
}

// get sends a GET with header to path through the gateway and returns the response and body.
func (s *forwardingStack) get(t *testing.T, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+s.gw.Addr().String()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// seen sends a GET with header to path and returns what the upstream received (HTTP headers,
// gRPC metadata or Dubbo attachments, all as an http.Header) and the gateway's response.
func (s *forwardingStack) seen(t *testing.T, path string, header http.Header) (http.Header, *http.Response) {
	t.Helper()
	resp, text := s.get(t, path, header)
	body := []byte(text)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	got := http.Header{}
	switch path {
	case httpPath:
		var e echo
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("echo body %s: %v", body, err)
		}
		got = e.Headers
	case grpcPath:
		var md map[string][]string
		if err := json.Unmarshal([]byte(resp.Header.Get("X-Incoming-Metadata")), &md); err != nil {
			t.Fatalf("bookstore metadata %q: %v", resp.Header.Get("X-Incoming-Metadata"), err)
		}
		for k, v := range md {
			got[http.CanonicalHeaderKey(k)] = v
		}
	default:
		var attachments map[string]string
		if err := json.Unmarshal(body, &attachments); err != nil {
			t.Fatalf("attachments %s: %v", body, err)
		}
		for k, v := range attachments {
			got.Set(k, v)
		}
	}
	return got, resp
}

// forged is what a hostile client sends: credentials for a proxy, hop-by-hop headers, and
// forwarding and Envoy control headers it has no business setting.
func forged() http.Header {
	return http.Header{
		"Proxy-Authorization":      {"Basic c2VjcmV0"},
		"Connection":               {"X-Hop"},
		"X-Hop":                    {"hop"},
		"Keep-Alive":               {"timeout=5"},
		"X-Forwarded-For":          {"203.0.113.7"},
		"X-Forwarded-Proto":        {"https"},
		"X-Forwarded-Host":         {"evil.example"},
		"X-Real-Ip":                {"203.0.113.7"},
		"X-Envoy-Internal":         {"true"},
		"X-Envoy-Retry-On":         {"5xx"},
		"X-Envoy-External-Address": {"203.0.113.7"},
		"X-Request-Id":             {"client-chosen"},
		"X-Trace":                  {"end-to-end"},
	}
}

// check compares the named headers of what an upstream saw with want ("" = absent; "uuid" = a
// UUID v4).
func check(t *testing.T, got http.Header, want map[string]string) {
	t.Helper()
	for k, w := range want {
		v, present := got[http.CanonicalHeaderKey(k)]
		switch {
		case w == "" && present:
			t.Errorf("%s reached the upstream: %q", k, v)
		case w == "uuid" && (len(v) != 1 || !uuidV4.MatchString(v[0])):
			t.Errorf("%s = %q, want one generated UUID v4", k, v)
		case w != "" && w != "uuid" && strings.Join(v, ", ") != w:
			t.Errorf("%s = %q, want %q", k, v, w)
		}
	}
}

// TestForwardingHeadersOnEveryPath sends forged headers through each path of the gateway to
// real upstreams, under the default edge policy, behind a trusted proxy and from an internal
// client, and checks what each upstream received against Envoy's documented behaviour
// (configuration/http/http_conn_man/headers).
func TestForwardingHeadersOnEveryPath(t *testing.T) {
	s := startForwardingStack(t)
	paths := []string{httpPath, grpcPath, dubboAllPath}

	t.Run("untrusted client at the edge", func(t *testing.T) {
		for _, path := range paths {
			t.Run(path, func(t *testing.T) {
				got, resp := s.seen(t, path, forged())
				check(t, got, map[string]string{
					"Proxy-Authorization": "", "X-Hop": "", "Keep-Alive": "", "Connection": "",
					// Envoy appends (for a loopback peer: its own address) and trusts only the peer.
					"X-Forwarded-For": "203.0.113.7," + localAddress.String(), "X-Envoy-External-Address": "127.0.0.1",
					"X-Forwarded-Proto": "http", "X-Forwarded-Host": "", "X-Real-Ip": "",
					"X-Envoy-Internal": "", "X-Envoy-Retry-On": "", "X-Request-Id": "uuid", "X-Trace": "end-to-end",
				})
				if id := resp.Header.Get("X-Request-Id"); id != "" {
					t.Errorf("response x-request-id %q without always_set_request_id_in_response", id)
				}
			})
		}
		got, _ := s.seen(t, dubboIDPath, forged())
		check(t, got, map[string]string{"X-Request-Id": "uuid", "Proxy-Authorization": "", "X-Trace": ""})
		got, _ = s.seen(t, dubboIDPath, nil)
		check(t, got, map[string]string{"X-Request-Id": "uuid"})
	})

	t.Run("behind one trusted proxy", func(t *testing.T) {
		f := ir.DefaultForwarding()
		f.XFFNumTrustedHops, f.PreserveExternalRequestID, f.AlwaysSetRequestIDInResponse = 1, true, true
		s.apply(t, &f)
		lb := http.Header{"X-Forwarded-For": {"198.51.100.1, 203.0.113.9"}, "X-Forwarded-Proto": {"https"},
			"X-Request-Id": {"lb-id-1"}, "Proxy-Authorization": {"Basic c2VjcmV0"}}
		eventually(t, "trusted-proxy policy applied", func() error {
			if _, resp := s.seen(t, httpPath, lb); resp.Header.Get("X-Request-Id") != "lb-id-1" {
				return fmt.Errorf("response x-request-id %q", resp.Header.Get("X-Request-Id"))
			}
			return nil
		})
		for _, path := range append(paths, dubboIDPath) {
			t.Run(path, func(t *testing.T) {
				got, resp := s.seen(t, path, lb)
				want := map[string]string{"X-Request-Id": "lb-id-1", "Proxy-Authorization": ""}
				if path != dubboIDPath {
					extra := map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.9," + localAddress.String(),
						"X-Envoy-External-Address": "203.0.113.9", "X-Forwarded-Proto": "https"}
					for k, v := range extra {
						want[k] = v
					}
				}
				check(t, got, want)
				if id := resp.Header.Get("X-Request-Id"); id != "lb-id-1" {
					t.Errorf("response x-request-id = %q, want lb-id-1", id)
				}
			})
		}
		got, resp := s.seen(t, grpcPath, nil)
		if id := got.Get("X-Request-Id"); !uuidV4.MatchString(id) || resp.Header.Get("X-Request-Id") != id {
			t.Errorf("generated id %q upstream, %q in the response; want the same UUID v4", id, resp.Header.Get("X-Request-Id"))
		}
		// The gateway's warnings name the request they are about.
		resp, body := s.get(t, deadPath, http.Header{"X-Request-Id": {"lb-id-2"}})
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("X-Request-Id") != "lb-id-2" {
			t.Errorf("dead upstream: %d %s (x-request-id %q), want 503 with lb-id-2", resp.StatusCode, body, resp.Header.Get("X-Request-Id"))
		}
		if logs := s.logs.String(); !strings.Contains(logs, `"level":"WARN","msg":"upstream connect failure"`) ||
			!strings.Contains(logs, `"request_id":"lb-id-2"`) {
			t.Errorf("no warning with request_id lb-id-2 in the gateway log:\n%s", logs)
		}
	})

	t.Run("internal client", func(t *testing.T) {
		f := ir.DefaultForwarding()
		f.InternalAddresses = []string{"127.0.0.0/8"}
		s.apply(t, &f)
		mesh := http.Header{"X-Envoy-Retry-On": {"5xx"}, "X-Real-Ip": {"10.1.2.3"}, "X-Request-Id": {"mesh-id"},
			"Proxy-Authorization": {"Basic c2VjcmV0"}}
		eventually(t, "internal-address policy applied", func() error {
			if got, _ := s.seen(t, httpPath, mesh); got.Get("X-Envoy-Internal") != "true" {
				return fmt.Errorf("x-envoy-internal %q", got.Get("X-Envoy-Internal"))
			}
			return nil
		})
		for _, path := range paths {
			t.Run(path, func(t *testing.T) {
				got, _ := s.seen(t, path, mesh)
				check(t, got, map[string]string{"X-Envoy-Internal": "true", "X-Envoy-Retry-On": "5xx", "X-Real-Ip": "10.1.2.3",
					"X-Request-Id": "mesh-id", "X-Envoy-External-Address": "", "Proxy-Authorization": ""})
			})
		}
	})
}

// TestConnectionManagerRefusals: what Envoy refuses before routing, the gateway refuses too,
// on every path: a Connection header nominating X-Forwarded-For (removing it would hide the
// client, 400) and an upgrade the listener does not enable (403 upgrade_failed).
func TestConnectionManagerRefusals(t *testing.T) {
	s := startForwardingStack(t)
	for _, path := range []string{httpPath, grpcPath, dubboAllPath} {
		resp, body := s.get(t, path, http.Header{"Connection": {"X-Forwarded-For"}, "X-Forwarded-For": {"203.0.113.7"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"status":"invalid_request"`) {
			t.Errorf("%s with Connection: X-Forwarded-For: %d %s, want 400 invalid_request", path, resp.StatusCode, body)
		}
		resp, body = s.get(t, path, http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"status":"upgrade_failed"`) {
			t.Errorf("%s with Upgrade: websocket: %d %s, want 403 upgrade_failed", path, resp.StatusCode, body)
		}
		resp, body = s.get(t, path, http.Header{"Connection": {"Upgrade, HTTP2-Settings"}, "Upgrade": {"h2c"}, "Http2-Settings": {"AAMAAABkAAQAAP__"}})
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s with an h2c upgrade offer: %d %s, want it served as HTTP/1.1", path, resp.StatusCode, body)
		}
	}
}
