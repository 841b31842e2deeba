package zookeeper

import (
	"errors"
	"sync"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/internal/zkwatch"
)

// changes is what happened since the run loop last looked.
type changes struct {
	full  bool            // list everything again (new session, failed pass, resync timer)
	paths map[string]bool // nodes whose watch fired
}

// events collects ZooKeeper callbacks (which must not block) for the run loop. It also knows
// which watches are armed, so that a path is never watched twice.
type events struct {
	armed zkwatch.Armed

	mu        sync.Mutex
	pending   changes
	connected bool
	wake      chan struct{}
}

func newEvents() *events {
	return &events{pending: changes{paths: map[string]bool{}}, wake: make(chan struct{}, 1)}
}

// callback is the zk.EventCallback: it runs on go-zookeeper's receive goroutine.
func (e *events) callback(ev zk.Event) {
	nodeChanged := e.armed.Observe(ev)
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case ev.Type == zk.EventSession:
		switch ev.State {
		case zk.StateHasSession:
			e.connected = true
			e.pending.full = true // refresh everything on every new connection
		case zk.StateExpired:
			e.connected = false
		case zk.StateDisconnected, zk.StateConnecting:
			if !e.connected {
				return // repeated reconnect attempts: nothing new to tell
			}
			e.connected = false
		default:
			return
		}
	case nodeChanged:
		e.pending.paths[ev.Path] = true
	default:
		return
	}
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// take returns and clears what happened, and whether the session is usable.
func (e *events) take() (changes, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.pending
	e.pending = changes{paths: map[string]bool{}}
	return c, e.connected
}

// requestFull asks for a full listing at the next pass.
func (e *events) requestFull() {
	e.mu.Lock()
	e.pending.full = true
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// isConnectionError reports errors that mean the session, not the node, is the problem.
func isConnectionError(err error) bool {
	for _, target := range []error{zk.ErrConnectionClosed, zk.ErrNoServer, zk.ErrSessionExpired,
		zk.ErrClosing, zk.ErrSessionMoved} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
