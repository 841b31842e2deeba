package discovery

import (
	"errors"
	"fmt"
	"maps"
	"path"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/internal/zkwatch"
)

// definitionTree reads the /<root>/metadata tree. It keeps exactly one watch armed on every node
// it reads (a children watch on the metadata root, the interface, version, group and provider
// nodes, a data watch on every definition node, an exist watch on a missing metadata root) and
// caches what it read, so that a pass after a watch fired reads from ZooKeeper only the nodes
// whose watch fired (or that are new) and takes the rest from the cache.
//
// Watch channels are never read: every event also reaches zkwatch.Events through the connection's
// callback. go-zookeeper sends at most one event into each channel's one-slot buffer and closes
// it when the watch fires or the connection closes, so an unread channel blocks nothing.
type definitionTree struct {
	conn    *zk.Conn
	watches *zkwatch.Events
	base    string // "/<root>/metadata"

	children map[string][]string // last listing of each directory node
	data     map[string][]byte   // last data of each definition node

	// reads counts the ZooKeeper reads of the current pass.
	reads int
}

func newDefinitionTree(conn *zk.Conn, watches *zkwatch.Events, root string) *definitionTree {
	return &definitionTree{conn: conn, watches: watches, base: "/" + root + "/metadata",
		children: map[string][]string{}, data: map[string][]byte{}}
}

// treePass is one walk over the tree: what it saw replaces the tree's caches when it succeeds.
type treePass struct {
	full     bool // ignore the caches
	children map[string][]string
	data     map[string][]byte
	nodes    []definitionNode
}

// read returns every provider definition under the metadata root. With full set it reads every
// node from ZooKeeper; otherwise it reads only the nodes whose watch is not armed. A missing
// metadata root is an empty list (an exist watch tells when it appears); a node that disappears
// during the walk is left out (its parent's children watch has fired, so the next pass sees it).
func (t *definitionTree) read(full bool) ([]definitionNode, error) {
	t.reads = 0
	p := &treePass{full: full, children: map[string][]string{}, data: map[string][]byte{}}
	ifaces, exists, err := t.listRoot(p)
	for i := 0; err == nil && exists && i < len(ifaces); i++ {
		err = t.walk(p, path.Join(t.base, ifaces[i]), ifaces[i], nil)
	}
	if err != nil {
		// Keep what this pass read: a node read now may have been re-armed, and its cache
		// entry must then be the new data, not the one from before its watch fired.
		maps.Copy(t.children, p.children)
		maps.Copy(t.data, p.data)
		return nil, err
	}
	t.children, t.data = p.children, p.data
	return p.nodes, nil
}

// listRoot lists the metadata root, arming an exist watch when it is missing.
func (t *definitionTree) listRoot(p *treePass) ([]string, bool, error) {
	for range 2 {
		names, exists, err := t.list(p, t.base)
		if err != nil || exists {
			return names, exists, err
		}
		key := zkwatch.Key{Kind: zkwatch.Exist, Path: t.base}
		if !t.watches.Armed.Arm(key) {
			return nil, false, nil
		}
		t.reads++
		exists, _, _, err = t.conn.ExistsW(t.base)
		switch {
		case err != nil:
			t.watches.Armed.Disarm(key)
			return nil, false, fmt.Errorf("watch %s: %w", t.base, err)
		case !exists:
			return nil, false, nil
		}
		// The root appeared meanwhile; ExistsW set a data watch instead, which does no harm.
		t.watches.Armed.Disarm(key)
	}
	return nil, false, fmt.Errorf("list %s: node keeps appearing and vanishing", t.base)
}

// walk descends from an interface node through at most two version/group segments to
// "provider" nodes and reads their application children; "consumer" nodes are skipped.
func (t *definitionTree) walk(p *treePass, dir, iface string, between []string) error {
	children, _, err := t.list(p, dir)
	if err != nil {
		return err
	}
	for _, c := range children {
		switch {
		case c == "provider":
			if err := t.readProviders(p, path.Join(dir, c), iface, between); err != nil {
				return err
			}
		case c == "consumer" || len(between) >= 2:
		default:
			next := append(append([]string{}, between...), c)
			if err := t.walk(p, path.Join(dir, c), iface, next); err != nil {
				return err
			}
		}
	}
	return nil
}

// readProviders reads the definition of every application under a provider node.
func (t *definitionTree) readProviders(p *treePass, dir, iface string, between []string) error {
	apps, _, err := t.list(p, dir)
	if err != nil {
		return err
	}
	for _, app := range apps {
		node := path.Join(dir, app)
		data, exists, err := t.get(p, node)
		if err != nil {
			return err
		}
		if exists {
			p.nodes = append(p.nodes, definitionNode{Path: node, Interface: iface, Between: between, App: app, Data: data})
		}
	}
	return nil
}

// list returns dir's children: from the cache while its children watch is armed (and the pass
// is not full), otherwise from ZooKeeper, arming the watch when it is not armed. It reports
// exists=false for a missing node.
func (t *definitionTree) list(p *treePass, dir string) ([]string, bool, error) {
	key := zkwatch.Key{Kind: zkwatch.Children, Path: dir}
	if cached, ok := t.children[dir]; ok && !p.full && t.watches.Armed.IsArmed(key) {
		p.children[dir] = cached
		return cached, true, nil
	}
	t.reads++
	var names []string
	var err error
	if t.watches.Armed.Arm(key) {
		names, _, _, err = t.conn.ChildrenW(dir)
		if err != nil {
			t.watches.Armed.Disarm(key) // go-zookeeper sets no watch on a failed request
		}
	} else {
		names, _, err = t.conn.Children(dir)
	}
	if errors.Is(err, zk.ErrNoNode) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("list %s: %w", dir, err)
	}
	p.children[dir] = names
	return names, true, nil
}

// get returns a definition node's data, cached or read like list.
func (t *definitionTree) get(p *treePass, node string) ([]byte, bool, error) {
	key := zkwatch.Key{Kind: zkwatch.Data, Path: node}
	if cached, ok := t.data[node]; ok && !p.full && t.watches.Armed.IsArmed(key) {
		p.data[node] = cached
		return cached, true, nil
	}
	t.reads++
	var data []byte
	var err error
	if t.watches.Armed.Arm(key) {
		data, _, _, err = t.conn.GetW(node)
		if err != nil {
			t.watches.Armed.Disarm(key)
		}
	} else {
		data, _, err = t.conn.Get(node)
	}
	if errors.Is(err, zk.ErrNoNode) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", node, err)
	}
	p.data[node] = data
	return data, true, nil
}
