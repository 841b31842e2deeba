package dataplane_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
)

// heldUpstream is an upstream whose requests to /hold wait until release is called.
type heldUpstream struct {
	endpoint xdsfixture.Endpoint
	entered  chan struct{}
	release  func()
}

func startHeldUpstream(t *testing.T) *heldUpstream {
	t.Helper()
	gate := make(chan struct{})
	var once sync.Once
	h := &heldUpstream{entered: make(chan struct{}, 1), release: func() { once.Do(func() { close(gate) }) }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			h.entered <- struct{}{}
			<-gate
		}
		echoHandler("held").ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(h.release) // before srv.Close, which waits for its handlers
	h.endpoint = endpointOf(t, srv.Listener.Addr())
	return h
}

// drainingGateway runs a gateway routing everything to up, waits until it serves, and returns
// it with the function that ends its Run and the channel Run's result arrives on.
func drainingGateway(t *testing.T, up *heldUpstream, timeout time.Duration) (*dataplane.Gateway, context.CancelFunc, chan error) {
	t.Helper()
	cp := startControlPlane(t)
	ls, rcs := basicConfig(xdsfixture.PrefixRoute("/", "held"))
	cp.push(ls, rcs, []*clusterv3.Cluster{xdsfixture.Cluster("held", "held", false)},
		[]*endpointv3.ClusterLoadAssignment{xdsfixture.Assignment("held", up.endpoint)})
	gw := dataplane.New(dataplane.Options{XDSServers: []string{cp.addr}, NodeID: nodeID, NodeCluster: "test",
		ListenAddress: "127.0.0.1:0", ShutdownTimeout: timeout})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gw.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	eventually(t, "gateway listening", func() error {
		if gw.Addr() == nil {
			return errors.New("no address yet")
		}
		return nil
	})
	waitFor(t, gw, "the route", "GET", "/", fromServer("held"))
	return gw, cancel, done
}

// inFlight starts GET /hold through gw and returns where its result arrives once the upstream
// has it.
func inFlight(t *testing.T, gw *dataplane.Gateway, up *heldUpstream) chan error {
	t.Helper()
	result := make(chan error, 1)
	go func() {
		r, err := do(t, gw, "GET", "/hold", nil)
		if err == nil {
			err = fromServer("held")(r)
		}
		result <- err
	}()
	<-up.entered
	return result
}

// TestDrainFinishesRequestsInFlight: when Run's context ends, the gateway is no longer ready and
// accepts no connection, a request in flight still gets its answer, and Run returns nil.
func TestDrainFinishesRequestsInFlight(t *testing.T) {
	up := startHeldUpstream(t)
	gw, stop, done := drainingGateway(t, up, time.Minute)
	addr := gw.Addr().String()
	result := inFlight(t, gw, up)

	stop()
	eventually(t, "readiness to drop", func() error {
		if gw.Ready() {
			return errors.New("still ready while draining")
		}
		return nil
	})
	eventually(t, "the listener to close", func() error {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			return errors.New("a new connection was accepted while draining")
		}
		return nil
	})
	up.release()
	if err := <-result; err != nil {
		t.Fatalf("the request in flight during the drain: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run after the drain: %v", err)
	}
	done <- nil // for the cleanup
}

// TestDrainTimeoutClosesWhatIsLeft: a request still running when ShutdownTimeout ends is cut
// off, and Run returns nil.
func TestDrainTimeoutClosesWhatIsLeft(t *testing.T) {
	up := startHeldUpstream(t)
	gw, stop, done := drainingGateway(t, up, 50*time.Millisecond)
	result := inFlight(t, gw, up)

	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run after the drain timeout: %v", err)
	}
	done <- nil
	err := <-result
	var netErr net.Error
	switch {
	case err == nil:
		t.Fatal("the request outlived the drain timeout; want its connection closed")
	case errors.As(err, &netErr) && netErr.Timeout():
		t.Fatalf("the request ran into the client's timeout instead of being cut off by the drain: %v", err)
	}
}
