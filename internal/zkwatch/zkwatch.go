// Package zkwatch keeps the bookkeeping of ZooKeeper's one-shot watches for readers that set
// them again on every read (the ZooKeeper registry and the metadata center): which watches are
// set and have not fired yet.
//
// go-zookeeper keeps one channel per watching call until its watch fires, so a reader that
// arms a watch on every read of a node would pile channels up; with Armed it sets a watch only
// when none is armed on the node, and a reader with a cache can tell that a node whose watch is
// still armed has not changed since it was read.
package zkwatch

import (
	"sync"

	"github.com/go-zookeeper/zk"
)

// Kind is the kind of a watch.
type Kind byte

// The kinds of watch: on a node's children (ChildrenW), its data (GetW), its coming into
// existence (ExistsW on a missing node).
const (
	Children Kind = 'c'
	Data     Kind = 'd'
	Exist    Kind = 'e'
)

// Key names one watch: its kind and the node it is set on.
type Key struct {
	Kind Kind
	Path string
}

// Armed is the set of watches that are set and have not fired. It is safe for concurrent use:
// the connection's event callback calls Observe while readers arm and disarm.
type Armed struct {
	mu   sync.Mutex
	keys map[Key]bool
}

// Arm marks k as set, before the request that sets it, so that a watch firing right after it
// was set is never missed. It reports false when k is armed already (the caller then reads
// without a watch).
func (a *Armed) Arm(k Key) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.keys[k] {
		return false
	}
	if a.keys == nil {
		a.keys = map[Key]bool{}
	}
	a.keys[k] = true
	return true
}

// Disarm forgets k: its request failed (go-zookeeper sets no watch then) or set another kind.
func (a *Armed) Disarm(k Key) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.keys, k)
}

// IsArmed reports whether k is set and has not fired.
func (a *Armed) IsArmed(k Key) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.keys[k]
}

// Observe forgets the watches that ev ends and reports whether ev is a node event, that is,
// whether the node ev.Path changed: children changed ends the children watch, data changed the
// data (and exist) watch, created the exist watch, deleted and not-watching all three. An
// expired session ends every watch.
func (a *Armed) Observe(ev zk.Event) (nodeChanged bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ended []Kind
	switch ev.Type {
	case zk.EventSession:
		if ev.State == zk.StateExpired {
			clear(a.keys)
		}
		return false
	case zk.EventNodeChildrenChanged:
		ended = []Kind{Children}
	case zk.EventNodeDataChanged:
		ended = []Kind{Data, Exist}
	case zk.EventNodeCreated:
		ended = []Kind{Exist}
	case zk.EventNodeDeleted, zk.EventNotWatching:
		ended = []Kind{Children, Data, Exist}
	default:
		return false
	}
	for _, k := range ended {
		delete(a.keys, Key{k, ev.Path})
	}
	return true
}
