package xdsclient_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"

	"github.com/rpcbridge/rpcbridge/dataplane/xdsclient"
)

// events records what a client reports: its responses, the servers it connected to in order,
// its disconnects, and the connections it dialled per server.
type events struct {
	mu          sync.Mutex
	responses   []xdsclient.Response
	connects    []string
	disconnects []string
	dials       map[string]int
}

func (e *events) config(servers ...string) xdsclient.Config {
	e.dials = map[string]int{}
	var d net.Dialer
	return xdsclient.Config{
		Servers: servers,
		OnResponse: func(r xdsclient.Response) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.responses = append(e.responses, r)
		},
		OnConnection: func(server string, connected bool, _ error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			if connected {
				e.connects = append(e.connects, server)
			} else {
				e.disconnects = append(e.disconnects, server)
			}
		},
		DialOptions: []grpc.DialOption{grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			e.mu.Lock()
			e.dials[addr]++
			e.mu.Unlock()
			return d.DialContext(ctx, "tcp", addr)
		})},
		// Fast retries keep the test short; the schedule itself is internal/backoff's.
		MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond,
	}
}

// connectedTo checks that the client's latest connection is its n-th to server.
func (e *events) connectedTo(server string, n int) func() error {
	return func() error {
		e.mu.Lock()
		defer e.mu.Unlock()
		if got := e.countLocked(server); got != n || e.connects[len(e.connects)-1] != server {
			return fmt.Errorf("connections so far %v, want the last to be the number %d to %s", e.connects, n, server)
		}
		return nil
	}
}

// countLocked counts the connections to server; e.mu is held.
func (e *events) countLocked(server string) int {
	n := 0
	for _, s := range e.connects {
		if s == server {
			n++
		}
	}
	return n
}

// from returns the responses received from server.
func (e *events) from(server string) []xdsclient.Response {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []xdsclient.Response
	for _, r := range e.responses {
		if r.Server == server {
			out = append(out, r)
		}
	}
	return out
}

// countingRecorder is a recorder that counts the Watcher's calls.
type countingRecorder struct {
	recorder
	calls int
}

func (r *countingRecorder) Accept(typeURL string, state xdsclient.State) (xdsclient.Interest, error) {
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
	return r.recorder.Accept(typeURL, state)
}

func (r *countingRecorder) callCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// fingerprints returns the fingerprint of every type of the last accepted state.
func (r *countingRecorder) fingerprints() map[string]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]uint64{}
	for typeURL := range r.accepted {
		out[typeURL] = r.accepted.Fingerprint(typeURL)
	}
	return out
}

// TestFailoverToIdenticalReplicaCausesNoChurn: two replicas serve the same content; the one the
// client follows goes away. The client moves to the other, announces every version it holds,
// gets nothing new (each response changes nothing, the Watcher is not called, the fingerprints
// stay), and then follows the new replica's updates.
func TestFailoverToIdenticalReplicaCausesNoChurn(t *testing.T) {
	a, b := startServer(t), startServer(t)
	for _, s := range []*xdsServer{a, b} {
		s.push(t, []string{"x", "y"}, []string{"x", "y"})
	}
	w := &countingRecorder{}
	var ev events
	cfg := ev.config(a.addr, b.addr)
	cfg.Watcher = w
	startClientWith(t, cfg)
	eventually(t, "assignments from replica a", wantNames(&w.recorder, resource.EndpointType, "x", "y"))
	eventually(t, "connected to a", ev.connectedTo(a.addr, 1))
	calls, prints := w.callCount(), w.fingerprints()
	held := map[string]string{}
	w.mu.Lock()
	for name, r := range w.accepted[resource.ClusterType] {
		held[name] = r.Version
	}
	w.mu.Unlock()

	a.stop()
	eventually(t, "connected to b", ev.connectedTo(b.addr, 1))
	eventually(t, "b answering the cluster subscription", func() error {
		for _, r := range ev.from(b.addr) {
			if r.TypeURL == resource.ClusterType {
				return nil
			}
		}
		return errors.New("no CDS response from b yet")
	})
	if !b.seen(func(r *discoveryv3.DeltaDiscoveryRequest) bool {
		return r.GetTypeUrl() == resource.ClusterType && maps.Equal(r.GetInitialResourceVersions(), held)
	}) {
		t.Errorf("b's CDS subscription did not announce the versions held from a (%v)", held)
	}
	if !b.seen(func(r *discoveryv3.DeltaDiscoveryRequest) bool {
		return r.GetTypeUrl() == resource.EndpointType && len(r.GetInitialResourceVersions()) == 2
	}) {
		t.Errorf("b's EDS subscription did not announce the two held assignments")
	}
	for _, r := range ev.from(b.addr) {
		if r.Changed != 0 || r.Err != nil {
			t.Errorf("a response of the identical replica changed something: %+v", r)
		}
	}
	if got := w.callCount(); got != calls {
		t.Errorf("the watcher was called %d more times by the identical replica", got-calls)
	}
	if got := w.fingerprints(); !maps.Equal(got, prints) {
		t.Errorf("fingerprints changed across replicas: %v, were %v", got, prints)
	}

	b.push(t, []string{"x", "y", "z"}, []string{"x", "y", "z"})
	eventually(t, "an update from b", wantNames(&w.recorder, resource.EndpointType, "x", "y", "z"))
}

// TestFailoverLearnsWhatTheOtherReplicaRemoved: the replica the client moves to no longer has a
// cluster; answering the announced versions, it reports the removal, and the client drops the
// cluster and unsubscribes from its endpoints.
func TestFailoverLearnsWhatTheOtherReplicaRemoved(t *testing.T) {
	a, b := startServer(t), startServer(t)
	a.push(t, []string{"x", "y"}, []string{"x", "y"})
	b.push(t, []string{"x"}, []string{"x", "y"})
	w := &countingRecorder{}
	var ev events
	cfg := ev.config(a.addr, b.addr)
	cfg.Watcher = w
	startClientWith(t, cfg)
	eventually(t, "both clusters from a", wantNames(&w.recorder, resource.ClusterType, "x", "y"))

	a.stop()
	eventually(t, "cluster y removed by b", wantNames(&w.recorder, resource.ClusterType, "x"))
	eventually(t, "EDS unsubscribe from y on b", func() error {
		if !b.seen(func(r *discoveryv3.DeltaDiscoveryRequest) bool {
			return r.GetTypeUrl() == resource.EndpointType && slices.Equal(r.GetResourceNamesUnsubscribe(), []string{"y"})
		}) {
			return errors.New("no unsubscribe request for y")
		}
		return nil
	})
}

// TestAllReplicasDownKeepsStateUntilOneIsBack: with every replica gone the client keeps what it
// accepted through rounds of failed attempts on each, and reconnects when one is back.
func TestAllReplicasDownKeepsStateUntilOneIsBack(t *testing.T) {
	a, b := startServer(t), startServer(t)
	for _, s := range []*xdsServer{a, b} {
		s.push(t, []string{"x"}, []string{"x"})
	}
	w := &countingRecorder{}
	var ev events
	cfg := ev.config(a.addr, b.addr)
	cfg.Watcher = w
	startClientWith(t, cfg)
	eventually(t, "connected to a", ev.connectedTo(a.addr, 1))
	eventually(t, "the assignment", wantNames(&w.recorder, resource.EndpointType, "x"))
	calls := w.callCount()

	a.stop()
	b.stop()
	ev.mu.Lock()
	dialsA, dialsB := ev.dials[a.addr], ev.dials[b.addr]
	ev.mu.Unlock()
	eventually(t, "three more failed attempts on each replica", func() error {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		if ev.dials[a.addr] < dialsA+3 || ev.dials[b.addr] < dialsB+3 {
			return fmt.Errorf("dials %v", ev.dials)
		}
		return nil
	})
	if got := w.names(resource.EndpointType); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("with no replica up the state became %v", got)
	}
	if got := w.callCount(); got != calls {
		t.Fatalf("the watcher was called %d times with no replica up", got-calls)
	}

	ev.mu.Lock()
	connectsB := ev.countLocked(b.addr) // the client may have reached b between the two stops
	ev.mu.Unlock()
	b.restart()
	b.push(t, []string{"x", "z"}, []string{"x", "z"})
	eventually(t, "reconnected to b", ev.connectedTo(b.addr, connectsB+1))
	eventually(t, "b's update", wantNames(&w.recorder, resource.EndpointType, "x", "z"))
}

// TestSilentReplicaIsLeft: the first replica accepts the stream but has nothing for this node
// (as a replica still waiting for its first configuration); after FirstResponseTimeout the
// client tries the next one. With a single server the client waits instead (the other tests).
func TestSilentReplicaIsLeft(t *testing.T) {
	silent, b := startServer(t), startServer(t)
	silent.pushFor(t, "another-node", []string{"other"}, nil)
	b.push(t, []string{"x"}, []string{"x"})
	w := &countingRecorder{}
	var ev events
	cfg := ev.config(silent.addr, b.addr)
	cfg.Watcher = w
	cfg.FirstResponseTimeout = 100 * time.Millisecond
	startClientWith(t, cfg)
	eventually(t, "the state from the second replica", wantNames(&w.recorder, resource.ClusterType, "x"))
	eventually(t, "connected to b only", ev.connectedTo(b.addr, 1))
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.dials[silent.addr] == 0 {
		t.Error("the silent replica was never tried")
	}
}
