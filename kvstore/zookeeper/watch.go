package zookeeper

import (
	"context"
	"errors"
	"maps"
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
	// The pass runs under call, which gives up on it after the request timeout while its
	// requests may still be answered: it works on a copy of the state, committed here only
	// when it finished.
	cached := make(map[string]bool, len(w.heads))
	for name := range w.heads {
		cached[name] = true
	}
	p := pass{w: w, full: w.full, dirty: maps.Clone(w.dirty), names: w.names, cached: cached}
	if err := w.s.call(ctx, w.ss, "watch "+w.prefix, p.run); err != nil {
		w.full = true // what was read before the failure may have missed watches
		return follow.Result{}, err
	}
	w.full = false
	clear(w.dirty)
	w.names = p.names
	for name := range w.heads {
		if !p.listed[name] {
			delete(w.heads, name)
		}
	}
	for name, f := range p.read {
		h := head{}
		if e, err := f.entry(); err != nil { // decoded here, outside the request bound
			pr := follow.Unreadable(stage, f.key, err)
			h.problem = &pr
		} else {
			h.entry = e
		}
		w.heads[name] = h
	}
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

// pass is one read of the heads that may have changed, arming one watch on each node it
// reads. Of its watcher it uses only what does not change (the store, the session, the prefix)
// and what is safe for concurrent use (the armed watches).
type pass struct {
	w      *watcher
	full   bool
	dirty  map[string]bool
	cached map[string]bool    // the names whose heads the watcher has
	names  []string           // in: the last listing; out: the current one
	listed map[string]bool    // out: the names under the prefix that exist
	read   map[string]fetched // out: the heads read again, by name
}

func (p *pass) run() error {
	w := p.w
	dir := w.s.keysDir()
	if p.full || p.dirty[dir] {
		names, err := w.children(dir)
		if err != nil {
			return err
		}
		p.names = names
	}
	p.listed, p.read = map[string]bool{}, map[string]fetched{}
	for _, name := range p.names {
		key, ok := layout.KeyOfFlat(name)
		if !ok || !strings.HasPrefix(key, w.prefix) {
			continue
		}
		path := dir + "/" + name
		if p.cached[name] && !p.full && !p.dirty[path] &&
			w.ss.events.Armed.IsArmed(zkwatch.Key{Kind: zkwatch.Data, Path: path}) {
			p.listed[name] = true
			continue // its data watch has not fired: unchanged
		}
		f, err := w.s.fetch(w.ss.conn, key, func() ([]byte, *zk.Stat, error) { return w.data(path) })
		switch {
		case errors.Is(err, kvstore.ErrNotFound):
			// deleted since the listing; its watch brings the new listing
		case err != nil:
			return err
		default:
			p.listed[name] = true
			p.read[name] = f
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
