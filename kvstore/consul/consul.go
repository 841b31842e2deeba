// Package consul is the kvstore backend on Consul's KV store, through
// github.com/hashicorp/consul/api.
//
// Layout under Config.Root (see docs/store.md):
//
//	<root>/keys/<key>          one head per key, small (values up to 8 KiB inline)
//	<root>/chunks/<write>/<i>  chunk i of a write
//
// A key's revision is its head's ModifyIndex, Consul's Raft index, which only grows. Writes
// are transactions (/v1/txn): a check-and-set of the head at the caller's revision (index 0
// creates only) followed by a read of it, so that the new ModifyIndex comes back atomically; a
// delete is a delete-cas. Chunks are written before their head and removed after it stops
// naming them; leftovers of writers that crashed are swept by the next client that writes.
//
// Watches are blocking queries on <root>/keys/<prefix> through internal/consulwatch (Consul's
// index rules: reset when the index goes backwards, never wait on 0, space the requests, back
// off on errors). Heads stay small so that every return of the blocking query is cheap, and a
// value's chunks are read only when its head's ModifyIndex changes.
package consul

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

const (
	backend = "consul"
	stage   = "store/consul"
	// inlineMax keeps heads small: every blocking query on a prefix returns all of them.
	inlineMax = 8 << 10
	// parallel is how many chunks of a value are read or written at a time.
	parallel = 4
)

// Store is a kvstore.Store on Consul KV.
type Store struct {
	cfg     Config
	log     *slog.Logger
	kv      *api.KV
	txn     *api.Txn
	closing context.Context
	close   context.CancelFunc

	sweepMu   sync.Mutex
	lastSweep time.Time
}

var _ kvstore.Store = (*Store)(nil)

// Open checks cfg, reads the ACL token and makes the client. It does not contact Consul.
func Open(cfg Config, logger *slog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ac := &api.Config{Address: cfg.Address, Scheme: cfg.Scheme, Datacenter: cfg.Datacenter,
		TLSConfig: api.TLSConfig{Address: cfg.TLS.ServerName, CAFile: cfg.TLS.CAFile,
			CertFile: cfg.TLS.CertFile, KeyFile: cfg.TLS.KeyFile}}
	if !cfg.Token.IsZero() {
		token, err := cfg.Token.Read()
		if err != nil {
			return nil, fmt.Errorf("consul store: token: %w", err)
		}
		ac.Token = token
	}
	client, err := api.NewClient(ac)
	if err != nil {
		return nil, fmt.Errorf("consul store: %w", err)
	}
	closing, cancel := context.WithCancel(context.Background())
	return &Store{cfg: cfg, log: logger.With("store", backend), kv: client.KV(), txn: client.Txn(),
		closing: closing, close: cancel}, nil
}

// Close ends the store's watches.
func (s *Store) Close() error {
	s.close()
	return nil
}

func (s *Store) keysPrefix() string          { return s.cfg.Root + "/keys/" }
func (s *Store) headKey(key string) string   { return s.keysPrefix() + key }
func (s *Store) chunksPrefix() string        { return s.cfg.Root + "/chunks/" }
func (s *Store) writePrefix(w string) string { return s.chunksPrefix() + w + "/" }
func (s *Store) chunkKey(w string, i int) string {
	return fmt.Sprintf("%s%d", s.writePrefix(w), i)
}

// usable fails when the store is closed.
func (s *Store) usable() error {
	if s.closing.Err() != nil {
		return kvstore.ErrClosed
	}
	return nil
}

// bound bounds one request by ctx, Config.RequestTimeout and the store's life. Each request
// has its own bound, so that decoding a large value between requests does not eat into it.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout.Std())
	stop := context.AfterFunc(s.closing, cancel)
	return ctx, func() { stop(); cancel() }
}

// get reads one key (nil when it does not exist).
func (s *Store) get(ctx context.Context, key string) (*api.KVPair, error) {
	ctx, done := s.bound(ctx)
	defer done()
	p, _, err := s.kv.Get(key, (&api.QueryOptions{Datacenter: s.cfg.Datacenter}).WithContext(ctx))
	return p, err
}

// list reads the keys under a prefix.
func (s *Store) list(ctx context.Context, prefix string) (api.KVPairs, error) {
	ctx, done := s.bound(ctx)
	defer done()
	ps, _, err := s.kv.List(prefix, (&api.QueryOptions{Datacenter: s.cfg.Datacenter}).WithContext(ctx))
	return ps, err
}

// keys lists the key prefixes up to separator under prefix.
func (s *Store) keys(ctx context.Context, prefix, separator string) ([]string, error) {
	ctx, done := s.bound(ctx)
	defer done()
	ks, _, err := s.kv.Keys(prefix, separator, (&api.QueryOptions{Datacenter: s.cfg.Datacenter}).WithContext(ctx))
	return ks, err
}

// put writes one key unconditionally (chunks, under write IDs of their own).
func (s *Store) put(ctx context.Context, key string, value []byte) error {
	ctx, done := s.bound(ctx)
	defer done()
	_, err := s.kv.Put(&api.KVPair{Key: key, Value: value}, (&api.WriteOptions{Datacenter: s.cfg.Datacenter}).WithContext(ctx))
	return err
}

// deleteTree removes every key under a prefix.
func (s *Store) deleteTree(ctx context.Context, prefix string) error {
	ctx, done := s.bound(ctx)
	defer done()
	_, err := s.kv.DeleteTree(prefix, (&api.WriteOptions{Datacenter: s.cfg.Datacenter}).WithContext(ctx))
	return err
}

// transact runs a transaction; ok is false when Consul rolled it back.
func (s *Store) transact(ctx context.Context, ops api.TxnOps) (bool, *api.TxnResponse, error) {
	ctx, done := s.bound(ctx)
	defer done()
	ok, resp, _, err := s.txn.Txn(ops, (&api.QueryOptions{Datacenter: s.cfg.Datacenter}).WithContext(ctx))
	return ok, resp, err
}

// unavailable wraps a failed request: every error of the Consul client is one (no agent, a
// 5xx, an ACL denial).
func unavailable(op string, err error) error {
	return &kvstore.UnavailableError{Backend: backend, Op: op, Err: err}
}
