package dataplane_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/bookstore"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// The routes of a limitStack, one per path through the gateway.
const (
	plainPath      = "/echo"       // plain HTTP proxying to an HTTP/1.1 server that reads the body
	limitsGRPCPath = "/v1/shelves" // REST→gRPC: CreateShelf(Shelf), body "*", on the bookstore
	dubboPath      = "/users"      // REST→Dubbo: echoUser(User) from the whole body, on dubbo-go
)

// limitStack is rpcbridge's real xDS server translating an IR with one route per path (plain
// HTTP, gRPC, and Dubbo when asked) with the given downstream limits, real upstreams behind them
// (an HTTP server, the bookstore gRPC server, ZooKeeper and a dubbo-go provider), and the
// embedded gateway following the xDS server: the limits reach the gateway the way they reach
// Envoy, as listener and HTTP connection manager fields.
type limitStack struct {
	gw      *dataplane.Gateway
	addr    string
	reg     *prometheus.Registry
	paths   []string
	limits  controlplane.DownstreamLimits
	options dataplane.Options
}

// limitStackOptions shape a limitStack.
type limitStackOptions struct {
	limits  controlplane.DownstreamLimits
	gateway dataplane.Options // process-level options; addresses are filled in
	dubbo   bool
}

func startLimitStack(t *testing.T, o limitStackOptions) *limitStack {
	t.Helper()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			return
		}
		_, _ = fmt.Fprintf(w, `{"read":%d}`, n)
	}))
	t.Cleanup(plain.Close)
	grpcAddr := bookstore.Start(t, bookstore.MustDescriptors(t))
	g := ir.Gateway{
		Clusters: []ir.Cluster{
			{Name: "http:plain", Protocol: ir.UpstreamHTTP1, ConnectTimeout: time.Second, Endpoints: []ir.Endpoint{irEndpoint(t, plain.Listener.Addr().String())}},
			{Name: "grpc:bookstore", Protocol: ir.UpstreamHTTP2, ConnectTimeout: time.Second, Endpoints: []ir.Endpoint{irEndpoint(t, grpcAddr)}},
		},
		Routes: []ir.Route{
			{Name: "plain", Cluster: "http:plain", Match: ir.Match{PathPrefix: plainPath}},
			{Name: "create-shelf", Cluster: "grpc:bookstore", Match: ir.Match{PathTemplate: limitsGRPCPath, Methods: []string{http.MethodPost}},
				GRPC: &ir.GRPCRoute{Service: bookstore.Service, Method: "CreateShelf", Body: "*"}},
		},
		ProtoDescriptors: []ir.ProtoDescriptors{{Service: bookstore.Service, FileDescriptorSet: descriptorBin(t)}},
	}
	s := &limitStack{reg: prometheus.NewRegistry(), paths: []string{plainPath, limitsGRPCPath}, limits: o.limits}
	if o.dubbo {
		zk := zookeeper.Start(t)
		p := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), App: "limits", Registry: "interface"})
		g.Clusters = append(g.Clusters, ir.Cluster{Name: greeterCluster, Protocol: ir.UpstreamDubbo, ConnectTimeout: time.Second,
			Endpoints: []ir.Endpoint{{Address: "127.0.0.1", Port: uint32(p.Port()), Weight: 100, Healthy: true}}})
		g.Routes = append(g.Routes, greeterRoute("echoUser", "POST", dubboPath, greeterCluster,
			ir.DubboParam{Name: "user", Type: "org.rpcbridge.test.User", From: ir.FromWholeBody}))
		g.JavaClasses = dubboprovider.JavaClasses()
		s.paths = append(s.paths, dubboPath)
	}
	limits := o.limits
	cp := controlplane.NewServer(controlplane.ServerOptions{Translate: controlplane.Options{Downstream: &limits}})
	if err := cp.Update(g); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- cp.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })
	opts := o.gateway
	opts.XDSAddress, opts.NodeID, opts.NodeCluster = ln.Addr().String(), "limits-test", gatewayv1.EmbeddedNodeCluster
	opts.ListenAddress, opts.Registerer = "127.0.0.1:0", s.reg
	s.options = opts
	s.gw = runGateway(t, opts)
	s.addr = s.gw.Addr().String()
	eventually(t, "routes of every path", func() error {
		for _, path := range s.paths {
			if code, body := s.post(t, path, `{"name":"ready"}`); code != http.StatusOK {
				return fmt.Errorf("POST %s: %d %s", path, code, body)
			}
		}
		return nil
	})
	return s
}

// irEndpoint is the IR endpoint of a host:port.
func irEndpoint(t *testing.T, addr string) ir.Endpoint {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return ir.Endpoint{Address: host, Port: uint32(p), Weight: 1, Healthy: true}
}

// post sends a JSON body on a connection of its own and returns the status and body.
func (s *limitStack) post(t *testing.T, path, body string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: giveUp, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Post("http://"+s.addr+path, "application/json", strings.NewReader(body))
	if err != nil {
		return -1, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// dial opens a raw TCP connection to the gateway that gives up reading after giveUp.
func (s *limitStack) dial(t *testing.T) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(giveUp))
	return &rawConn{Conn: c, r: bufio.NewReader(c)}
}

// rawConn is a client connection that writes HTTP/1.1 by hand, to be slow where a client
// library would not.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

// request writes a request's head (and the start of its body, if any).
func (c *rawConn) request(t *testing.T, method, path string, contentLength int, body string) {
	t.Helper()
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n", method, path)
	if contentLength >= 0 {
		head += "Content-Length: " + strconv.Itoa(contentLength) + "\r\n"
	}
	if _, err := io.WriteString(c, head+"\r\n"+body); err != nil {
		t.Fatalf("writing the request: %v", err)
	}
}

// response reads one response; err is what ended the read when there was none (io.EOF for a
// connection the gateway closed, a timeout after giveUp).
func (c *rawConn) response() (*http.Response, string, error) {
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// closedByPeer reports whether a read ended because the gateway closed the connection (EOF or
// a reset), as opposed to the test's own give-up deadline.
func closedByPeer(err error) bool {
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		return false
	}
	return true
}

// metricValue is the value of an unlabelled gauge or counter of reg, 0 when it is absent.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			m := f.GetMetric()[0]
			return m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return 0
}
