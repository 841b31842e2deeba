package zookeeper

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/internal/zkwatch"
)

// maxNodeData is the largest node data read from an instance, mapping or metadata node.
const maxNodeData = 1 << 20

// errNoNode says that a node does not exist (an exist watch is then armed on it).
var errNoNode = errors.New("node does not exist")

// tree reads ZooKeeper nodes and keeps exactly one watch armed on each node it reads; armed
// counts the watches it sets.
type tree struct {
	conn   *zk.Conn
	events *zkwatch.Events
	armed  *atomic.Uint64
}

// children lists path's children with a children watch, or arms an exist watch when the node is
// missing and returns errNoNode.
func (t tree) children(path string) ([]string, error) {
	for range 2 {
		key := zkwatch.Key{Kind: zkwatch.Children, Path: path}
		var names []string
		var err error
		if t.events.Armed.Arm(key) {
			names, _, _, err = t.conn.ChildrenW(path)
			t.count(key, err)
		} else {
			names, _, err = t.conn.Children(path)
		}
		if !errors.Is(err, zk.ErrNoNode) {
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", path, err)
			}
			return names, nil
		}
		if exists, err := t.watchExistence(path); err != nil || !exists {
			return nil, err
		}
	}
	return nil, fmt.Errorf("list %s: node keeps appearing and vanishing", path)
}

// data reads path's data with a data watch, or arms an exist watch when the node is missing and
// returns errNoNode.
func (t tree) data(path string) ([]byte, error) {
	for range 2 {
		key := zkwatch.Key{Kind: zkwatch.Data, Path: path}
		var b []byte
		var err error
		if t.events.Armed.Arm(key) {
			b, _, _, err = t.conn.GetW(path)
			t.count(key, err)
		} else {
			b, _, err = t.conn.Get(path)
		}
		if !errors.Is(err, zk.ErrNoNode) {
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", path, err)
			}
			return b, nil
		}
		if exists, err := t.watchExistence(path); err != nil || !exists {
			return nil, err
		}
	}
	return nil, fmt.Errorf("read %s: node keeps appearing and vanishing", path)
}

// watchExistence arms an exist watch on a missing node. It returns errNoNode when the node is
// still missing, and exists=true when it appeared meanwhile (ZooKeeper then set a data watch).
func (t tree) watchExistence(path string) (exists bool, err error) {
	key := zkwatch.Key{Kind: zkwatch.Exist, Path: path}
	if !t.events.Armed.Arm(key) {
		return false, errNoNode
	}
	exists, _, _, err = t.conn.ExistsW(path)
	if err == nil {
		t.armed.Add(1)
	}
	switch {
	case err != nil:
		t.events.Armed.Disarm(key)
		return false, fmt.Errorf("watch %s: %w", path, err)
	case exists:
		// ExistsW set a data watch instead of an exist watch.
		t.events.Armed.Disarm(key)
		t.events.Armed.Arm(zkwatch.Key{Kind: zkwatch.Data, Path: path})
		return true, nil
	}
	return false, errNoNode
}

// count records the outcome of a request that set the watch key: counted when it was set,
// disarmed when the request failed (go-zookeeper then sets no watch).
func (t tree) count(key zkwatch.Key, err error) {
	if err != nil {
		t.events.Armed.Disarm(key)
		return
	}
	t.armed.Add(1)
}
