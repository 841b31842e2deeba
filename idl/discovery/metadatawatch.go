package discovery

import (
	"sync"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/internal/zkwatch"
)

// watchState collects go-zookeeper's events for MetadataCenter.Run. It is fed by the connection's
// event callback (which runs on go-zookeeper's receive goroutine, must not block, and sees every
// session and watch event, unlike the connection's event channel, which drops events when full).
//
// It knows which watches are armed, so that the tree never sets a second watch on a node whose
// first one has not fired (go-zookeeper keeps one channel per watching call until the watch
// fires) and so that a node whose watch is still armed can be taken from the cache: an armed
// watch means the node has not changed since it was read.
type watchState struct {
	armed zkwatch.Armed

	mu        sync.Mutex
	connected bool
	full      bool // read everything again (new session, resync, failed pass)
	dirty     bool // a watch fired: read what is no longer watched
	wake      chan struct{}
}

func newWatchState() *watchState {
	return &watchState{wake: make(chan struct{}, 1)}
}

// callback is the zk.EventCallback.
func (w *watchState) callback(ev zk.Event) {
	nodeChanged := w.armed.Observe(ev)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case ev.Type == zk.EventSession:
		switch ev.State {
		case zk.StateHasSession:
			w.connected = true
			w.full = true // a new session may have missed anything: list everything again
		case zk.StateExpired:
			w.connected = false
		case zk.StateDisconnected, zk.StateConnecting:
			if !w.connected {
				return // repeated reconnect attempts: nothing new to tell
			}
			w.connected = false
		default:
			return
		}
	case nodeChanged:
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
