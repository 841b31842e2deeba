package nacos

import (
	"context"
	"sync"

	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/follow"
)

// feed is the store's one listener on the index, shared by its watches: the SDK keeps one
// listener per configuration and client, so a second ListenConfig on the same client would
// not be called.
type feed struct {
	mu        sync.Mutex
	listening bool
	content   string // the latest index content the listener delivered
	seq       uint64 // counts deliveries
	subs      map[chan struct{}]bool
}

// subscribe starts the listener if needed and returns a wake channel for one watch.
func (s *Store) subscribe() (chan struct{}, error) {
	f := &s.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.listening {
		err := s.client.ListenConfig(vo.ConfigParam{DataId: s.indexID(), Group: s.cfg.Group,
			OnChange: func(_, _, _, data string) { s.deliver(data) }})
		if err != nil {
			return nil, &kvstore.UnavailableError{Backend: backend, Op: "listen", Err: err}
		}
		f.listening = true
	}
	wake := make(chan struct{}, 1)
	f.subs[wake] = true
	return wake, nil
}

func (s *Store) unsubscribe(wake chan struct{}) {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	delete(s.feed.subs, wake)
}

// deliver is the listener: it keeps the content and wakes every watch.
func (s *Store) deliver(content string) {
	f := &s.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	f.content, f.seq = content, f.seq+1
	for wake := range f.subs {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// latest returns the listener's latest delivery and its number.
func (s *Store) latest() (string, uint64) {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	return s.feed.content, s.feed.seq
}

// Watch publishes the state of prefix on every change. See kvstore.Store.
func (s *Store) Watch(ctx context.Context, prefix string, publish func(kvstore.Snapshot)) error {
	if err := kvstore.ValidPrefix(prefix); err != nil {
		return err
	}
	if s.closing.Err() != nil {
		return kvstore.ErrClosed
	}
	wake, err := s.subscribe()
	if err != nil {
		return err
	}
	defer s.unsubscribe(wake)
	w := watcher{s: s, prefix: prefix, cache: follow.NewCache[int64]()}
	return follow.Run(ctx, follow.Options{Resync: s.cfg.Resync.Std(), Logger: s.log, Closing: s.closing},
		wake, w.read, publish)
}

// watcher is one watch's state between reads.
type watcher struct {
	s      *Store
	prefix string
	cache  *follow.Cache[int64]
	seen   uint64 // the last listener delivery used
	rev    int64  // the revision of the last index read
}

// read uses the listener's delivery when there is a new one (saving a query: the SDK allows
// five a second per configuration), and queries the index otherwise (the first read, a
// resync, a retry). A delivery older than what was read already (the SDK calls listeners on
// goroutines of their own, so two can swap) is passed over.
func (w *watcher) read(ctx context.Context) (follow.Result, error) {
	op := "watch " + w.prefix
	var idx *index
	if content, seq := w.s.latest(); seq != w.seen {
		w.seen = seq
		if parsed, err := parseIndex(content); err == nil && parsed.Revision >= w.rev && content != "" {
			idx = parsed
		}
	}
	if idx == nil {
		var err error
		if idx, _, err = w.s.readIndex(ctx, op); err != nil {
			return follow.Result{}, err
		}
	}
	w.rev = idx.Revision
	return w.s.read(ctx, w.cache, idx, w.prefix)
}
