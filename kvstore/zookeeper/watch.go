package zookeeper

import (
	"context"
	"errors"
	"strings"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/internal/zkwatch"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/follow"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
)

// Watch publishes the state of prefix on every change, on a session of its own. See
// kvstore.Store.
func (s *Store) Watch(ctx context.Context, prefix string, publish func(kvstore.Snapshot)) error {
	if err := kvstore.ValidPrefix(prefix); err != nil {
		return err
	}
	if s.closing.Err() != nil {
		return kvstore.ErrClosed
	}
	ss, err := s.connect()
	if err != nil {
		return err
	}
	defer ss.close()
	w := &watcher{s: s, ss: ss, prefix: prefix, full: true, dirty: map[string]bool{}, heads: map[string]head{}}
	return follow.Run(ctx, follow.Options{Resync: s.cfg.Resync.Std(), Logger: s.log, Closing: s.closing},
		ss.events.Wake(), w.read, publish)
}

// watcher is the state of one watch between reads.
type watcher struct {
	s      *Store
	ss     *session
	prefix string
	full   bool            // read everything at the next read
	dirty  map[string]bool // nodes whose watch fired since the last read
	names  []string        // the children of <root>/keys at the last read
	heads  map[string]head // by node name
}

// head is what a head node gave at its last read.
type head struct {
	entry   kvstore.Entry
	problem *follow.Problem
}

func (w *watcher) read(ctx context.Context) (follow.Result, error) {
	ch, connected := w.ss.events.Take()
	w.full = w.full || ch.Full
	for p := range ch.Paths {
		w.dirty[p] = true
	}
	if !connected {
		return follow.Result{}, &kvstore.UnavailableError{Backend: backend, Op: "watch " + w.prefix,
			Err: errors.New("no ZooKeeper session")}
	}
	if err := w.s.call(ctx, w.ss, "watch "+w.prefix, w.pass); err != nil {
		w.full = true // what was read before the failure may have missed watches
		return follow.Result{}, err
	}
	w.full = false
	clear(w.dirty)
	var res follow.Result
	for _, name := range w.names {
		key, ok := layout.KeyOfFlat(name)
		switch {
		case !ok && w.prefix == "":
			res.Problems = append(res.Problems, follow.Stray(stage, w.s.keysDir()+"/"+name))
		case !ok || !strings.HasPrefix(key, w.prefix):
		default:
			if h, ok := w.heads[name]; ok && h.problem != nil {
				res.Problems = append(res.Problems, *h.problem)
			} else if ok {
				res.Entries = append(res.Entries, h.entry)
			}
		}
	}
	return res, nil
}

// pass reads the heads that may have changed, arming one watch on each node it reads.
func (w *watcher) pass() error {
	dir := w.s.keysDir()
	if w.full || w.dirty[dir] {
		names, err := w.children(dir)
		if err != nil {
			return err
		}
		w.names = names
	}
	listed := map[string]bool{}
	for _, name := range w.names {
		key, ok := layout.KeyOfFlat(name)
		if !ok || !strings.HasPrefix(key, w.prefix) {
			continue
		}
		listed[name] = true
		p := dir + "/" + name
		if _, cached := w.heads[name]; cached && !w.full && !w.dirty[p] &&
			w.ss.events.Armed.IsArmed(zkwatch.Key{Kind: zkwatch.Data, Path: p}) {
			continue // its data watch has not fired: unchanged
		}
		e, err := w.s.read(w.ss.conn, key, func() ([]byte, *zk.Stat, error) { return w.data(p) })
		var corrupt *kvstore.CorruptError
		switch {
		case errors.Is(err, kvstore.ErrNotFound):
			delete(listed, name) // deleted since the listing; its watch brings the new listing
		case errors.As(err, &corrupt):
			pr := follow.Unreadable(stage, key, err)
			w.heads[name] = head{problem: &pr}
		case err != nil:
			return err
		default:
			w.heads[name] = head{entry: e}
		}
	}
	for name := range w.heads {
		if !listed[name] {
			delete(w.heads, name)
		}
	}
	return nil
}

// children lists a node's children with a children watch, or arms an exist watch when the
// node is missing and returns no children.
func (w *watcher) children(p string) ([]string, error) {
	armed := &w.ss.events.Armed
	key := zkwatch.Key{Kind: zkwatch.Children, Path: p}
	var names []string
	var err error
	if armed.Arm(key) {
		if names, _, _, err = w.ss.conn.ChildrenW(p); err != nil {
			armed.Disarm(key)
		}
	} else {
		names, _, err = w.ss.conn.Children(p)
	}
	if !errors.Is(err, zk.ErrNoNode) {
		return names, err
	}
	exist := zkwatch.Key{Kind: zkwatch.Exist, Path: p}
	if !armed.Arm(exist) {
		return nil, nil
	}
	found, _, _, err := w.ss.conn.ExistsW(p)
	switch {
	case err != nil:
		armed.Disarm(exist)
		return nil, err
	case found: // created meanwhile: ExistsW set a data watch; list it at the next read
		armed.Disarm(exist)
		armed.Arm(zkwatch.Key{Kind: zkwatch.Data, Path: p})
		w.ss.events.RequestFull()
	}
	return nil, nil
}

// data reads a node with a data watch (one per node: go-zookeeper keeps a channel per watching
// call until it fires).
func (w *watcher) data(p string) ([]byte, *zk.Stat, error) {
	armed := &w.ss.events.Armed
	key := zkwatch.Key{Kind: zkwatch.Data, Path: p}
	if !armed.Arm(key) {
		return w.ss.conn.Get(p)
	}
	b, stat, _, err := w.ss.conn.GetW(p)
	if err != nil {
		armed.Disarm(key)
	}
	return b, stat, err
}
