package zookeeper

import (
	"errors"
	"sync"

	"github.com/go-zookeeper/zk"
)

// watchKind is the kind of a one-shot ZooKeeper watch.
type watchKind byte

const (
	watchChildren watchKind = 'c'
	watchData     watchKind = 'd'
	watchExist    watchKind = 'e'
)

type watchKey struct {
	kind watchKind
	path string
}

// changes is what happened since the run loop last looked.
type changes struct {
	full  bool            // list everything again (new session, failed pass, resync timer)
	paths map[string]bool // nodes whose watch fired
}

// events collects ZooKeeper callbacks (which must not block) for the run loop. It also knows
// which watches are armed, so that a path is never watched twice: go-zookeeper keeps one
// channel per watch call until it fires.
type events struct {
	mu        sync.Mutex
	pending   changes
	armed     map[watchKey]bool
	connected bool
	wake      chan struct{}
}

func newEvents() *events {
	return &events{
		pending: changes{paths: map[string]bool{}},
		armed:   map[watchKey]bool{},
		wake:    make(chan struct{}, 1),
	}
}

// callback is the zk.EventCallback: it runs on go-zookeeper's receive goroutine.
func (e *events) callback(ev zk.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev.Type {
	case zk.EventSession:
		switch ev.State {
		case zk.StateHasSession:
			e.connected = true
			e.pending.full = true // refresh everything on every new connection
		case zk.StateExpired:
			e.connected = false
			e.armed = map[watchKey]bool{}
		case zk.StateDisconnected, zk.StateConnecting:
			if !e.connected {
				return // repeated reconnect attempts: nothing new to tell
			}
			e.connected = false
		default:
			return
		}
	case zk.EventNodeChildrenChanged:
		delete(e.armed, watchKey{watchChildren, ev.Path})
		e.pending.paths[ev.Path] = true
	case zk.EventNodeDataChanged:
		delete(e.armed, watchKey{watchData, ev.Path})
		delete(e.armed, watchKey{watchExist, ev.Path})
		e.pending.paths[ev.Path] = true
	case zk.EventNodeCreated:
		delete(e.armed, watchKey{watchExist, ev.Path})
		e.pending.paths[ev.Path] = true
	case zk.EventNodeDeleted, zk.EventNotWatching:
		for _, k := range []watchKind{watchChildren, watchData, watchExist} {
			delete(e.armed, watchKey{k, ev.Path})
		}
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

// arm marks a watch as set before the request that sets it, so that a watch firing right
// after it was set is never missed; it reports false when the watch is already armed.
func (e *events) arm(k watchKey) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.armed[k] {
		return false
	}
	e.armed[k] = true
	return true
}

// disarm forgets a watch whose request failed.
func (e *events) disarm(k watchKey) {
	e.mu.Lock()
	delete(e.armed, k)
	e.mu.Unlock()
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
