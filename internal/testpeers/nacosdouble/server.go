// Package nacosdouble is an in-process server double for Nacos 2.x naming and config, for tests
// of code that talks to Nacos through the official Go SDK (github.com/nacos-group/nacos-sdk-go/v2).
//
// The gap, stated plainly: this is a protocol-level double of the Nacos 2.x gRPC API, not a
// Nacos server. It speaks the real wire protocol that the SDK uses (the "Request" unary
// service and the "BiRequestStream" bidirectional service on the HTTP port + 1000, each message a
// Payload{metadata{type, clientIp, headers}, body: Any(JSON)}), with request and response bodies
// encoded from the SDK's own structs, so that the SDK's real connection, subscription, push,
// listener, cache and reconnect code runs unchanged.
//
// Naming: ServerCheckRequest, ConnectionSetupRequest (on the stream), HealthCheckRequest,
// InstanceRequest and BatchInstanceRequest, ServiceListRequest (paged, per group),
// SubscribeServiceRequest, ServiceQueryRequest, and server-pushed NotifySubscriberRequest (acked
// by the client's NotifySubscriberResponse). There is no health checking of instances and no
// expiry of empty services: instances are what the test (or a client's registrations) say.
//
// Config, following Nacos's own handlers (config/src/main/java/.../config/server/remote):
// ConfigQueryRequest (CONFIG_NOT_FOUND, 300, for a missing config), ConfigPublishRequest with
// casMd5 (insertOrUpdateCas: an absent config is inserted, a present one updated only when its
// MD5 matches; the data ID, group and content checks of ParamUtils.checkParam, including the
// 10 MB maxContent limit), ConfigRemoveRequest, ConfigBatchListenRequest (listens recorded per
// connection, changed configs reported by MD5), and the server-pushed ConfigChangeNotifyRequest
// to listening connections after every change. Unlike a Nacos server, reads are strongly
// consistent: a real server answers queries from its dump cache, which follows the database
// asynchronously (a read may briefly return the previous content; compare-and-set is checked
// against the database either way). There is no gray/beta/tag publishing, no history and no
// cluster.
//
// Auth: RequireAuth turns on one user; the SDK logs in over HTTP (POST
// /nacos/v1/auth/users/login) and every gRPC request but the handshake must carry the token.
// On the HTTP port the double also answers the naming health probe the SDK sends while its gRPC
// connection is down (GET /nacos/v1/ns/operator/metrics); any other HTTP call fails the test.
//
// State set through the test API (Register, Deregister, SetInstances, DeleteService, SetConfig)
// and published configs survive Stop and Restart, and may be changed while the double is
// stopped; instances that a client registered over gRPC belong to its connection and go away
// with it, as ephemeral instances do in Nacos.
package nacosdouble

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	nacosgrpc "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// GRPCPortOffset is how far above the HTTP port the SDK dials gRPC (constant.RpcPortOffset).
const GRPCPortOffset = 1000

// Server is a running (or stopped) double. Its methods are safe for concurrent use.
type Server struct {
	t        testing.TB
	httpPort int
	st       *state

	mu      sync.Mutex
	grpcSrv *grpc.Server
	httpSrv *http.Server
}

// Start starts a double on a free HTTP port P (gRPC on P+1000) and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, st: newState(t)}
	var lastErr error
	for range 50 {
		httpLn, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("nacosdouble: listen: %v", err)
		}
		port := httpLn.Addr().(*net.TCPAddr).Port
		if port+GRPCPortOffset > 65535 {
			_ = httpLn.Close()
			continue
		}
		grpcLn, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+GRPCPortOffset))
		if err != nil {
			lastErr = err
			_ = httpLn.Close()
			continue
		}
		s.httpPort = port
		s.serve(httpLn, grpcLn)
		t.Cleanup(s.Stop)
		return s
	}
	t.Fatalf("nacosdouble: no free port pair P, P+%d: %v", GRPCPortOffset, lastErr)
	return nil
}

// Addr is the "host:port" to configure the SDK with (the HTTP port; gRPC is on Port()+1000).
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.httpPort)) }

// Port is the HTTP port the SDK is configured with.
func (s *Server) Port() int { return s.httpPort }

// Stop closes both ports and every client connection, as a crashed server would. Instances
// registered by clients go away with their connections; the test API's state is kept.
func (s *Server) Stop() {
	s.mu.Lock()
	g, h := s.grpcSrv, s.httpSrv
	s.grpcSrv, s.httpSrv = nil, nil
	s.mu.Unlock()
	if g == nil {
		return
	}
	_ = h.Close()
	g.Stop()
	s.st.dropAllConnections()
	s.st.pushes.Wait()
}

// Restart starts a stopped double again on the same ports.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	var httpLn, grpcLn net.Listener
	var err error
	// The old listeners are closed; the ports are normally free at once, but give the kernel
	// a moment if another process raced for them.
	for range 50 {
		httpLn, err = net.Listen("tcp", s.Addr())
		if err == nil {
			grpcLn, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.httpPort+GRPCPortOffset)))
			if err == nil {
				break
			}
			_ = httpLn.Close()
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("nacosdouble: restart on port %d: %v", s.httpPort, err)
	}
	s.serve(httpLn, grpcLn)
}

func (s *Server) serve(httpLn, grpcLn net.Listener) {
	g := grpc.NewServer(
		// The SDK pings every 60 s even without streams; accept that instead of sending
		// GOAWAY "too_many_pings".
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		// Stop returns only after every handler did, so that none reports to a finished test.
		grpc.WaitForHandlers(true),
	)
	h := &handlers{st: s.st}
	nacosgrpc.RegisterRequestServer(g, h)
	nacosgrpc.RegisterBiRequestStreamServer(g, h)
	hs := &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.grpcSrv, s.httpSrv = g, hs
	s.mu.Unlock()
	go func() { _ = g.Serve(grpcLn) }()
	go func() {
		if err := hs.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.t.Logf("nacosdouble: http: %v", err)
		}
	}()
}

// RequireAuth makes the double require a login as username with password (as a Nacos server
// with nacos.core.auth.enabled=true and one user): the SDK logs in over HTTP and sends the
// token it got with every gRPC request; requests without it are refused with NO_RIGHT (403).
func (s *Server) RequireAuth(username, password string) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.auth = &credentials{username: username, password: password, token: "token-" + strconv.Itoa(s.httpPort)}
}

// serveHTTP answers the SDK's naming health probe (NamingHttpProxy.ServerHealthy) and its
// login (NacosAuthClient.login: POST /nacos/v1/auth/users/login). Any other HTTP call is a gap
// of the double and fails the test.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/nacos/v1/ns/operator/metrics" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprint(w, `{"status":"UP"}`)
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/nacos/v1/auth/users/login" {
		s.st.mu.Lock()
		auth := s.st.auth
		s.st.mu.Unlock()
		if auth == nil || r.FormValue("username") != auth.username || r.FormValue("password") != auth.password {
			http.Error(w, "user not found!", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"accessToken":%q,"tokenTtl":18000,"globalAdmin":true,"username":%q}`, auth.token, auth.username)
		return
	}
	s.t.Errorf("nacosdouble: unexpected HTTP call %s %s: the double serves the gRPC API, the login and the health probe", r.Method, r.URL)
	http.NotFound(w, r)
}
