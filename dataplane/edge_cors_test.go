package dataplane_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/bookstore"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dynamicgrpc"
)

// countedUpstreams are a gRPC server of the bookstore service and an HTTP server that count the
// calls they receive (GetShelf answers a shelf, Unannotated echoes its request).
type countedUpstreams struct {
	grpcCalls, httpCalls atomic.Int32
	grpcAddr, httpAddr   string
}

func startCountedUpstreams(t *testing.T) *countedUpstreams {
	t.Helper()
	u := &countedUpstreams{}
	u.grpcAddr = dynamicgrpc.Serve(t, bookstore.MustDescriptors(t), bookstore.Service, func(c *dynamicgrpc.Call) error {
		u.grpcCalls.Add(1)
		if c.Method.Name() == "GetShelf" {
			return c.SendJSON(map[string]any{"name": c.Field("name").String()})
		}
		return c.SendRaw(c.Raw)
	})
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.httpCalls.Add(1)
		_, _ = io.WriteString(w, "counted")
	}))
	t.Cleanup(web.Close)
	u.httpAddr = web.Listener.Addr().String()
	return u
}

// The CORS test's routes: a GET gRPC route, a POST gRPC route and a GET-only HTTP route.
const (
	corsGetPath  = "/v1/shelves/7"
	corsPostPath = "/" + bookstore.Service + "/Unannotated"
	corsHTTPPath = "/cors-http/x"
)

// corsStack is the forwarding stack serving the counted upstreams behind a CORS policy.
func corsStack(t *testing.T) (*forwardingStack, *countedUpstreams) {
	t.Helper()
	s := startForwardingStack(t)
	u := startCountedUpstreams(t)
	policy := &ir.EdgePolicy{Name: "web", CORS: &ir.CORS{
		AllowOrigins:  []ir.StringMatch{{Exact: "https://app.example.com"}, {Suffix: ".example.org"}},
		AllowMethods:  []string{"GET", "POST"},
		AllowHeaders:  []string{"content-type", "authorization"},
		ExposeHeaders: []string{"x-request-id"},
		MaxAge:        10 * time.Minute, AllowCredentials: true,
	}}
	g := s.base
	g.Clusters = append(slices.Clone(g.Clusters),
		ir.Cluster{Name: "grpc:counted", Protocol: ir.UpstreamHTTP2, ConnectTimeout: time.Second, Endpoints: endpointsOf(t, u.grpcAddr)},
		ir.Cluster{Name: "http:counted", Protocol: ir.UpstreamHTTP1, ConnectTimeout: time.Second, Endpoints: endpointsOf(t, u.httpAddr)})
	g.Routes = append([]ir.Route{
		{Name: "cors-get", Cluster: "grpc:counted", Match: ir.Match{PathTemplate: "/v1/{name=shelves/*}", Methods: []string{http.MethodGet}},
			GRPC: &ir.GRPCRoute{Service: bookstore.Service, Method: "GetShelf"}, Policy: policy},
		{Name: "cors-post", Cluster: "grpc:counted", Match: ir.Match{Path: corsPostPath, Methods: []string{http.MethodPost}},
			GRPC: &ir.GRPCRoute{Service: bookstore.Service, Method: "Unannotated"}, Policy: policy},
		{Name: "cors-http", Cluster: "http:counted", Match: ir.Match{PathPrefix: "/cors-http/", Methods: []string{http.MethodGet}}, Policy: policy},
	}, g.Routes...)
	if err := s.xds.Update(g); err != nil {
		t.Fatal(err)
	}
	eventually(t, "CORS policy served", func() error {
		if resp, _ := s.send(t, http.MethodOptions, corsHTTPPath, preflightHeaders("https://app.example.com", "GET"), ""); resp.StatusCode != http.StatusOK {
			return fmt.Errorf("preflight answered %d", resp.StatusCode)
		}
		return nil
	})
	return s, u
}

// endpointsOf is the IR endpoint of a host:port.
func endpointsOf(t *testing.T, addr string) []ir.Endpoint {
	t.Helper()
	tcp, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ep := endpointOf(t, tcp)
	return []ir.Endpoint{{Address: ep.Host, Port: ep.Port, Weight: 1, Healthy: true}}
}

// send sends a request through the gateway and returns the response and body.
func (s *forwardingStack) send(t *testing.T, method, path string, header http.Header, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.gw.Addr().String()+path, strings.NewReader(body))
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
	text, _ := io.ReadAll(resp.Body)
	return resp, string(text)
}

func preflightHeaders(origin, method string) http.Header {
	return http.Header{"Origin": {origin}, "Access-Control-Request-Method": {method},
		"Access-Control-Request-Headers": {"content-type"}}
}

// TestCORSPreflightsAreAnsweredAtTheEdge: through the real gateway, a preflight for a GET gRPC
// route, a POST gRPC route and a GET-only HTTP route is answered 200 by the CORS filter — with
// the allow headers and the origin echoed for an allowed origin, without Allow-Origin for
// another — and none of them reaches an upstream (which count every call).
func TestCORSPreflightsAreAnsweredAtTheEdge(t *testing.T) {
	s, u := corsStack(t)
	for _, c := range []struct{ path, method string }{
		{corsGetPath, http.MethodGet}, {corsPostPath, http.MethodPost}, {corsHTTPPath, http.MethodGet},
	} {
		resp, body := s.send(t, http.MethodOptions, c.path, preflightHeaders("https://shop.example.org", c.method), "")
		if resp.StatusCode != http.StatusOK || body != "" {
			t.Errorf("%s preflight: %d %q, want 200 with no body", c.path, resp.StatusCode, body)
		}
		for k, v := range map[string]string{
			"Access-Control-Allow-Origin": "https://shop.example.org", "Access-Control-Allow-Methods": "GET,POST",
			"Access-Control-Allow-Headers": "content-type,authorization", "Access-Control-Max-Age": "600",
			"Access-Control-Allow-Credentials": "true",
		} {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s preflight: %s = %q, want %q", c.path, k, got, v)
			}
		}
		resp, _ = s.send(t, http.MethodOptions, c.path, preflightHeaders("https://evil.example.com", c.method), "")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s preflight from a disallowed origin: %d allow-origin %q, want 200 without it",
				c.path, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	if resp, _ := s.send(t, http.MethodOptions, corsGetPath, preflightHeaders("https://app.example.com", http.MethodDelete), ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("preflight for a method no route serves: %d, want 404", resp.StatusCode)
	}
	if g, h := u.grpcCalls.Load(), u.httpCalls.Load(); g != 0 || h != 0 {
		t.Errorf("preflights reached the upstreams: %d gRPC calls, %d HTTP requests", g, h)
	}
}

// TestCORSActualRequests: actual requests from an allowed origin reach the upstream and come
// back with Allow-Origin (their Origin), Allow-Credentials and Expose-Headers; from another
// origin they are served too (Envoy does not refuse them), without any CORS header.
func TestCORSActualRequests(t *testing.T) {
	s, u := corsStack(t)
	calls := []struct{ method, path, body string }{
		{http.MethodGet, corsGetPath, ""}, {http.MethodPost, corsPostPath, `{"name":"n"}`}, {http.MethodGet, corsHTTPPath, ""},
	}
	for _, c := range calls {
		h := http.Header{"Origin": {"https://app.example.com"}, "Content-Type": {"application/json"}}
		var resp *http.Response
		var body string
		// The routes arrive before the endpoints may: a 503 reaches no upstream, so waiting
		// for the endpoints keeps the call counts exact.
		eventually(t, c.path+" has endpoints", func() error {
			if resp, body = s.send(t, c.method, c.path, h, c.body); resp.StatusCode == http.StatusServiceUnavailable {
				return fmt.Errorf("%d %s", resp.StatusCode, body)
			}
			return nil
		})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", c.method, c.path, resp.StatusCode, body)
		}
		for k, v := range map[string]string{"Access-Control-Allow-Origin": "https://app.example.com",
			"Access-Control-Allow-Credentials": "true", "Access-Control-Expose-Headers": "x-request-id"} {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s %s: %s = %q, want %q", c.method, c.path, k, got, v)
			}
		}
		h.Set("Origin", "https://evil.example.com")
		resp, body = s.send(t, c.method, c.path, h, c.body)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s %s from a disallowed origin: %d %s, want served", c.method, c.path, resp.StatusCode, body)
		}
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s %s from a disallowed origin: %s = %q", c.method, c.path, k, resp.Header.Get(k))
			}
		}
	}
	if g, h := u.grpcCalls.Load(), u.httpCalls.Load(); g != 4 || h != 2 {
		t.Errorf("upstreams saw %d gRPC calls and %d HTTP requests, want 4 and 2", g, h)
	}
}

// TestCORSOnDubboRoutes: a preflight for a REST→Dubbo route is answered at the edge too, and an
// actual call from an allowed origin reaches the real dubbo-go provider with the CORS headers on
// its answer.
func TestCORSOnDubboRoutes(t *testing.T) {
	s := startForwardingStack(t)
	g := s.base
	g.Routes = nil
	for _, r := range s.base.Routes {
		if r.Dubbo != nil {
			r.Policy = &ir.EdgePolicy{Name: "web", CORS: &ir.CORS{AllowOrigins: []ir.StringMatch{{Exact: "https://app.example.com"}}, AllowMethods: []string{"GET"}}}
		}
		g.Routes = append(g.Routes, r)
	}
	if err := s.xds.Update(g); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Dubbo preflight answered", func() error {
		resp, body := s.send(t, http.MethodOptions, dubboAllPath, preflightHeaders("https://app.example.com", "GET"), "")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Methods") != "GET" {
			return fmt.Errorf("%d %q allow-methods %q", resp.StatusCode, body, resp.Header.Get("Access-Control-Allow-Methods"))
		}
		return nil
	})
	got, resp := s.seen(t, dubboAllPath, http.Header{"Origin": {"https://app.example.com"}, "X-Tenant": {"t1"}})
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || got.Get("X-Tenant") != "t1" {
		t.Errorf("Dubbo call from an allowed origin: allow-origin %q, provider saw x-tenant %q",
			resp.Header.Get("Access-Control-Allow-Origin"), got.Get("X-Tenant"))
	}
}
