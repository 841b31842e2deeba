package zookeeper

import (
	"context"
	"errors"
	"strings"

	"github.com/go-zookeeper/zk"
	"golang.org/x/sync/errgroup"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/follow"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
)

// chunkReaders is how many chunks of one value are read at a time (go-zookeeper pipelines
// concurrent requests on its connection).
const chunkReaders = 4

// headReads bounds how often a reader reads a head again after finding one of its chunks gone.
const headReads = 3

// Get returns the entry of key. See kvstore.Store.
func (s *Store) Get(ctx context.Context, key string) (kvstore.Entry, error) {
	if err := kvstore.ValidKey(key); err != nil {
		return kvstore.Entry{}, err
	}
	var f fetched
	err := s.call(ctx, s.main, "get "+key, func() error {
		var err error
		f, err = s.fetch(s.main.conn, key, nil)
		return err
	})
	if err != nil {
		return kvstore.Entry{}, err
	}
	return f.entry() // decoded outside the request bound: 20 MB take a while
}

// List returns the entries under prefix. See kvstore.Store.
func (s *Store) List(ctx context.Context, prefix string) (kvstore.Snapshot, error) {
	if err := kvstore.ValidPrefix(prefix); err != nil {
		return kvstore.Snapshot{}, err
	}
	var res follow.Result
	var values []fetched
	err := s.call(ctx, s.main, "list "+prefix, func() error {
		names, _, err := s.main.conn.Children(s.keysDir())
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, name := range names {
			key, ok := layout.KeyOfFlat(name)
			if !ok {
				if prefix == "" {
					res.Problems = append(res.Problems, follow.Stray(stage, s.keysDir()+"/"+name))
				}
				continue
			}
			if !strings.HasPrefix(key, prefix) {
				continue
			}
			f, err := s.fetch(s.main.conn, key, nil)
			if errors.Is(err, kvstore.ErrNotFound) {
				continue // deleted meanwhile
			}
			if err != nil {
				return err
			}
			values = append(values, f)
		}
		return nil
	})
	if err != nil {
		return kvstore.Snapshot{}, err
	}
	for _, f := range values {
		if e, err := f.entry(); err != nil {
			res.Problems = append(res.Problems, follow.Unreadable(stage, f.key, err))
		} else {
			res.Entries = append(res.Entries, e)
		}
	}
	return follow.Merge(nil, res), nil
}

// fetched is a value as read from ZooKeeper, not yet decoded.
type fetched struct {
	key    string
	rev    int64
	head   layout.Head
	chunks [][]byte
	bad    error // why the value is unreadable, found while reading (foreign data, a missing chunk)
}

// entry decodes a fetched value, or returns the *kvstore.CorruptError that says why it cannot.
func (f fetched) entry() (kvstore.Entry, error) {
	corrupt := func(reason error) error {
		return &kvstore.CorruptError{Key: f.key, Revision: f.rev, Reason: reason.Error()}
	}
	if f.bad != nil {
		return kvstore.Entry{}, corrupt(f.bad)
	}
	v, err := layout.Decode(f.head, f.chunks)
	if err != nil {
		return kvstore.Entry{}, corrupt(err)
	}
	return kvstore.Entry{Key: f.key, Value: v, Revision: f.rev}, nil
}

// fetch reads key's head and chunks. getHead reads the head (nil: conn.Get); it is called again
// when a chunk has gone, since a writer may have replaced the value meanwhile. A key that does
// not exist gives a *kvstore.NotFoundError; connection failures are returned as they are.
func (s *Store) fetch(conn *zk.Conn, key string, getHead func() ([]byte, *zk.Stat, error)) (fetched, error) {
	if getHead == nil {
		getHead = func() ([]byte, *zk.Stat, error) { return conn.Get(s.headPath(key)) }
	}
	var f fetched
	for range headReads {
		raw, stat, err := getHead()
		if errors.Is(err, zk.ErrNoNode) {
			return fetched{}, &kvstore.NotFoundError{Key: key}
		}
		if err != nil {
			return fetched{}, err
		}
		f = fetched{key: key, rev: stat.Mzxid}
		if f.head, err = layout.ParseHead(raw); err != nil {
			f.bad = err
			return f, nil
		}
		missing, err := s.fetchChunks(conn, &f)
		if err != nil || !missing {
			return f, err
		}
	}
	return f, nil // still missing after reading the head again: f.bad says which chunk
}

// fetchChunks reads the chunks f.head names; missing reports one that does not exist.
func (s *Store) fetchChunks(conn *zk.Conn, f *fetched) (missing bool, err error) {
	h := f.head
	f.chunks = make([][]byte, len(h.Chunks))
	var g errgroup.Group
	g.SetLimit(chunkReaders)
	for i := range h.Chunks {
		g.Go(func() error {
			data, _, err := conn.Get(s.chunkPath(h.Write, i))
			if errors.Is(err, zk.ErrNoNode) {
				return errMissing{layout.MissingChunk(i, len(h.Chunks))}
			}
			f.chunks[i] = data
			return err
		})
	}
	err = g.Wait()
	var m errMissing
	if errors.As(err, &m) {
		f.bad = m.error
		return true, nil
	}
	return false, err
}

// errMissing marks a chunk that does not exist.
type errMissing struct{ error }
