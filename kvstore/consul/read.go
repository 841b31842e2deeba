package consul

import (
	"context"
	"errors"
	"strings"

	"github.com/hashicorp/consul/api"
	"golang.org/x/sync/errgroup"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/follow"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
)

// headReads bounds how often a reader reads a head again after finding one of its chunks gone.
const headReads = 3

// Get returns the entry of key. See kvstore.Store.
func (s *Store) Get(ctx context.Context, key string) (kvstore.Entry, error) {
	if err := kvstore.ValidKey(key); err != nil {
		return kvstore.Entry{}, err
	}
	if err := s.usable(); err != nil {
		return kvstore.Entry{}, err
	}
	var lastErr error
	for range headReads {
		pair, err := s.get(ctx, s.headKey(key))
		if err != nil {
			return kvstore.Entry{}, unavailable("get "+key, err)
		}
		if pair == nil {
			return kvstore.Entry{}, &kvstore.NotFoundError{Key: key}
		}
		e, missing, err := s.decode(ctx, key, pair)
		if !missing {
			return e, err
		}
		lastErr = err
	}
	return kvstore.Entry{}, lastErr
}

// List returns the entries under prefix. See kvstore.Store.
func (s *Store) List(ctx context.Context, prefix string) (kvstore.Snapshot, error) {
	if err := kvstore.ValidPrefix(prefix); err != nil {
		return kvstore.Snapshot{}, err
	}
	if err := s.usable(); err != nil {
		return kvstore.Snapshot{}, err
	}
	pairs, err := s.list(ctx, s.keysPrefix()+prefix)
	if err != nil {
		return kvstore.Snapshot{}, unavailable("list "+prefix, err)
	}
	res, err := s.read(ctx, &follow.Cache[uint64]{}, pairs)
	if err != nil {
		return kvstore.Snapshot{}, err
	}
	return follow.Merge(nil, res), nil
}

// read turns listed heads into entries, reading a value's chunks only when its head's
// ModifyIndex is not the one c holds.
func (s *Store) read(ctx context.Context, c *follow.Cache[uint64], pairs api.KVPairs) (follow.Result, error) {
	var res follow.Result
	for _, p := range pairs {
		key, ok := strings.CutPrefix(p.Key, s.keysPrefix())
		if !ok || kvstore.ValidKey(key) != nil {
			res.Problems = append(res.Problems, follow.Stray(stage, p.Key))
			continue
		}
		if err := c.Add(&res, stage, key, p.ModifyIndex, func() (kvstore.Entry, bool, error) {
			return s.decode(ctx, key, p)
		}); err != nil {
			return follow.Result{}, err
		}
	}
	c.Prune()
	return res, nil
}

// decode turns a head into an entry, reading its chunks. missing reports a chunk that does not
// exist (the error is then a *kvstore.CorruptError that may be worth a second look).
func (s *Store) decode(ctx context.Context, key string, pair *api.KVPair) (e kvstore.Entry, missing bool, err error) {
	rev := int64(pair.ModifyIndex)
	corrupt := func(reason error) error {
		return &kvstore.CorruptError{Key: key, Revision: rev, Reason: reason.Error()}
	}
	h, err := layout.ParseHead(pair.Value)
	if err != nil {
		return kvstore.Entry{}, false, corrupt(err)
	}
	chunks := make([][]byte, len(h.Chunks))
	var g errgroup.Group
	g.SetLimit(parallel)
	for i := range h.Chunks {
		g.Go(func() error {
			c, err := s.get(ctx, s.chunkKey(h.Write, i))
			if err != nil {
				return unavailable("get "+key, err)
			}
			if c == nil {
				return errMissing{layout.MissingChunk(i, len(h.Chunks))}
			}
			chunks[i] = c.Value
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		var m errMissing
		if errors.As(err, &m) {
			return kvstore.Entry{}, true, corrupt(m.error)
		}
		return kvstore.Entry{}, false, err
	}
	v, err := layout.Decode(h, chunks)
	if err != nil {
		return kvstore.Entry{}, false, corrupt(err)
	}
	return kvstore.Entry{Key: key, Value: v, Revision: rev}, false, nil
}

// errMissing marks a chunk that does not exist.
type errMissing struct{ error }
