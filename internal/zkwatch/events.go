package zkwatch

import (
	"sync"

	"github.com/go-zookeeper/zk"
)

// Changes is what happened since a reader last looked.
type Changes struct {
	// Full asks for everything to be read again (a new session, a resync, a failed pass).
	Full bool
	// Paths are the nodes whose watch fired.
	Paths map[string]bool
}

// Events collects a connection's session and watch events for a reader's loop. Its Callback
// is the connection's zk.EventCallback: it runs on go-zookeeper's receive goroutine, never
// blocks, and sees every event (the connection's event channel drops events when full).
type Events struct {
	// Armed are the watches that are set and have not fired.
	Armed Armed

	mu        sync.Mutex
	pending   Changes
	connected bool
	wake      chan struct{}
}

// NewEvents returns an empty collector.
func NewEvents() *Events {
	return &Events{pending: Changes{Paths: map[string]bool{}}, wake: make(chan struct{}, 1)}
}

// Callback records ev: a new session asks for a full read, a lost one is remembered, a fired
// watch names its node; each wakes the reader.
func (e *Events) Callback(ev zk.Event) {
	nodeChanged := e.Armed.Observe(ev)
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case ev.Type == zk.EventSession:
		switch ev.State {
		case zk.StateHasSession:
			e.connected = true
			e.pending.Full = true // a new session may have missed anything
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
		e.pending.Paths[ev.Path] = true
	default:
		return
	}
	e.signal()
}

// Wake receives a value when something was recorded since the reader last woke.
func (e *Events) Wake() <-chan struct{} { return e.wake }

// Take returns and clears what happened, and whether there is a usable session.
func (e *Events) Take() (Changes, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.pending
	e.pending = Changes{Paths: map[string]bool{}}
	return c, e.connected
}

// RequestFull asks for a full read at the reader's next pass and wakes it.
func (e *Events) RequestFull() {
	e.mu.Lock()
	e.pending.Full = true
	e.mu.Unlock()
	e.signal()
}

func (e *Events) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}
