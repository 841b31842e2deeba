package consul

import (
	"context"
	"sync"

	"github.com/hashicorp/consul/api"

	"github.com/rpcbridge/rpcbridge/internal/consulwatch"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/follow"
)

// Watch publishes the state of prefix on every change. See kvstore.Store.
func (s *Store) Watch(ctx context.Context, prefix string, publish func(kvstore.Snapshot)) error {
	if err := kvstore.ValidPrefix(prefix); err != nil {
		return err
	}
	if s.closing.Err() != nil {
		return kvstore.ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.closing, cancel)
	defer stop()
	m := &mailbox{wake: make(chan struct{}, 1), first: make(chan struct{})}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		consulwatch.Loop(ctx, s.listQuery(prefix), func(pairs api.KVPairs, err error) bool {
			m.put(pairs, err)
			return true
		})
	})
	cache := follow.NewCache[uint64]()
	read := func(ctx context.Context) (follow.Result, error) {
		pairs, err := m.take(ctx)
		if err != nil {
			return follow.Result{}, err
		}
		return s.read(ctx, cache, pairs)
	}
	// The blocking query is the watch and Consul's wait its resync: no timer of its own.
	err := follow.Run(ctx, follow.Options{Logger: s.log, Closing: s.closing}, m.wake, read, publish)
	if s.closing.Err() != nil {
		return kvstore.ErrClosed
	}
	return err
}

// listQuery lists the heads under prefix, blocking until the index passes the one given.
func (s *Store) listQuery(prefix string) consulwatch.Query[api.KVPairs] {
	return func(ctx context.Context, index uint64) (api.KVPairs, uint64, error) {
		ctx, cancel := context.WithTimeout(ctx, consulwatch.RequestTimeout(s.cfg.Wait.Std()))
		defer cancel()
		q := &api.QueryOptions{Datacenter: s.cfg.Datacenter, WaitIndex: index, WaitTime: s.cfg.Wait.Std()}
		pairs, meta, err := s.kv.List(s.keysPrefix()+prefix, q.WithContext(ctx))
		if err != nil {
			return nil, 0, unavailable("watch "+prefix, err)
		}
		return pairs, meta.LastIndex, nil
	}
}

// mailbox hands the latest answer of the blocking query to the watch loop.
type mailbox struct {
	mu    sync.Mutex
	pairs api.KVPairs
	err   error
	got   bool
	first chan struct{} // closed at the first answer
	wake  chan struct{}
}

func (m *mailbox) put(pairs api.KVPairs, err error) {
	m.mu.Lock()
	m.pairs, m.err = pairs, err
	if !m.got {
		m.got = true
		close(m.first)
	}
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// take returns the latest answer, waiting for the first one.
func (m *mailbox) take(ctx context.Context) (api.KVPairs, error) {
	select {
	case <-m.first:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pairs, m.err
}
