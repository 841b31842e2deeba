package discovery

import (
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

// watchKey names one watch: its kind and the node it is set on.
type watchKey struct {
	kind watchKind
	path string
}

// watchState collects go-zookeeper's events for MetadataCenter.Run. It is fed by the connection's
// event callback (which runs on go-zookeeper's receive goroutine, must not block, and sees every
// session and watch event, unlike the connection's event channel, which drops events when full).
//
// It knows which watches are armed, so that the tree never sets a second watch on a node whose
// first one has not fired (go-zookeeper keeps one channel per watching call until the watch
// fires) and so that a node whose watch is still armed can be taken from the cache: an armed
// watch means the node has not changed since it was read.
type watchState struct {
	mu        sync.Mutex
	armed     map[watchKey]bool
	connected bool
	full      bool // read everything again (new session, resync, failed pass)
	dirty     bool // a watch fired: read what is no longer watched
	wake      chan struct{}
}

func newWatchState() *watchState {
	return &watchState{armed: map[watchKey]bool{}, wake: make(chan struct{}, 1)}
}

// callback is the zk.EventCallback.
func (w *watchState) callback(ev zk.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev.Type {
	case zk.EventSession:
		switch ev.State {
		case zk.StateHasSession:
			w.connected = true
			w.full = true // a new session may have missed anything: list everything again
		case zk.StateExpired:
			w.connected = false
			w.armed = map[watchKey]bool{} // an expired session's watches are gone
		case zk.StateDisconnected, zk.StateConnecting:
			if !w.connected {
				return // repeated reconnect attempts: nothing new to tell
			}
			w.connected = false
		default:
			return
		}
	case zk.EventNodeChildrenChanged:
		delete(w.armed, watchKey{watchChildren, ev.Path})
		w.dirty = true
	case zk.EventNodeDataChanged:
		delete(w.armed, watchKey{watchData, ev.Path})
		delete(w.armed, watchKey{watchExist, ev.Path})
		w.dirty = true
	case zk.EventNodeCreated:
		delete(w.armed, watchKey{watchExist, ev.Path})
		w.dirty = true
	case zk.EventNodeDeleted, zk.EventNotWatching:
		for _, k := range []watchKind{watchChildren, watchData, watchExist} {
			delete(w.armed, watchKey{k, ev.Path})
		}
		w.dirty = true
	default:
		return
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// take returns and clears what happened since the last take, and whether there is a session.
func (w *watchState) take() (full, dirty, connected bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	full, dirty = w.full, w.dirty
	w.full, w.dirty = false, false
	return full, dirty, w.connected
}

// requestFull asks for a full listing at the next pass.
func (w *watchState) requestFull() {
	w.mu.Lock()
	w.full = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// arm marks a watch as set before the request that sets it, so that a watch firing right after
// it was set is never missed; it reports false when the watch is already armed.
func (w *watchState) arm(k watchKey) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.armed[k] {
		return false
	}
	w.armed[k] = true
	return true
}

// disarm forgets a watch whose request failed.
func (w *watchState) disarm(k watchKey) {
	w.mu.Lock()
	delete(w.armed, k)
	w.mu.Unlock()
}

// isArmed reports whether a watch is set and has not fired.
func (w *watchState) isArmed(k watchKey) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.armed[k]
}
