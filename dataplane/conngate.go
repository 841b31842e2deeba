package dataplane

// A cluster's connection circuit breakers, max_connections and max_pending_requests, executed as
// Envoy's connection pools apply them: a request needs a connection; while the cluster's
// connections are all carrying requests (max_connections connections, each carrying one request
// on HTTP/1.1 and Envoy's Dubbo TCP upstream, or max_concurrent_streams on HTTP/2) the request
// waits as pending, first come first served, until one is free or its route timeout ends; while
// max_pending_requests requests wait already, it is refused at once (Envoy's
// upstream_rq_pending_overflow: 503 with x-envoy-overloaded). The gateway's own connections are
// multiplexed (one per endpoint), so it counts the requests its connections carry, which is what
// Envoy's limit bounds.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// errPendingOverflow means max_pending_requests requests were already waiting for a connection.
var errPendingOverflow = fmt.Errorf("%w: max_pending_requests requests wait for a connection", errOverflow)

// connGate is a cluster's connection capacity and its queue of pending requests. A rebuilt pool
// keeps the gate of the pool it replaces (resize), whose requests may still hold connections.
type connGate struct {
	mu       sync.Mutex
	capacity int // requests the connections carry at once; 0: no cap
	pending  int // max_pending_requests
	inUse    int
	waiters  []*connWaiter
}

// connWaiter is a pending request; ready is closed when it was given a connection.
type connWaiter struct {
	ready   chan struct{}
	granted bool
}

// newConnGate returns a gate of the given capacity and pending limit.
func newConnGate(capacity, pending int) *connGate {
	return &connGate{capacity: capacity, pending: pending}
}

// resize changes the limits, giving connections to waiters that now fit.
func (g *connGate) resize(capacity, pending int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.capacity, g.pending = capacity, pending
	g.grantLocked()
}

// acquire takes a connection for one request, waiting as pending while none is free. It fails
// with errPendingOverflow when the queue is full, or with ctx's error when ctx ends first.
func (g *connGate) acquire(ctx context.Context) (release func(), err error) {
	g.mu.Lock()
	if g.capacity == 0 || g.inUse < g.capacity {
		g.inUse++
		g.mu.Unlock()
		return g.releaseOnce(), nil
	}
	if len(g.waiters) >= g.pending {
		g.mu.Unlock()
		return nil, errPendingOverflow
	}
	w := &connWaiter{ready: make(chan struct{})}
	g.waiters = append(g.waiters, w)
	g.mu.Unlock()
	select {
	case <-w.ready:
		return g.releaseOnce(), nil
	case <-ctx.Done():
		g.mu.Lock()
		granted := w.granted
		if !granted {
			g.waiters = slices.DeleteFunc(g.waiters, func(o *connWaiter) bool { return o == w })
		}
		g.mu.Unlock()
		if granted {
			g.releaseOnce()()
		}
		return nil, fmt.Errorf("waiting for a connection: %w", errors.Join(context.Cause(ctx), ctx.Err()))
	}
}

// releaseOnce returns the release of one connection, safe to call more than once.
func (g *connGate) releaseOnce() func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.inUse--
			g.grantLocked()
		})
	}
}

// grantLocked gives free connections to the waiters in their order.
func (g *connGate) grantLocked() {
	for len(g.waiters) > 0 && (g.capacity == 0 || g.inUse < g.capacity) {
		w := g.waiters[0]
		g.waiters = g.waiters[1:]
		w.granted = true
		g.inUse++
		close(w.ready)
	}
}
