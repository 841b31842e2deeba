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
	var e kvstore.Entry
	err := s.call(ctx, s.main, "get "+key, func() error {
		var err error
		e, err = s.read(s.main.conn, key, nil)
		return err
	})
	return e, err
}

// List returns the entries under prefix. See kvstore.Store.
func (s *Store) List(ctx context.Context, prefix string) (kvstore.Snapshot, error) {
	if err := kvstore.ValidPrefix(prefix); err != nil {
		return kvstore.Snapshot{}, err
	}
	var res follow.Result
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
			e, err := s.read(s.main.conn, key, nil)
			var corrupt *kvstore.CorruptError
			switch {
			case errors.As(err, &corrupt):
				res.Problems = append(res.Problems, follow.Unreadable(stage, key, err))
			case errors.Is(err, kvstore.ErrNotFound): // deleted meanwhile
			case err != nil:
				return err
			default:
				res.Entries = append(res.Entries, e)
			}
		}
		return nil
	})
	if err != nil {
		return kvstore.Snapshot{}, err
	}
	return follow.Merge(nil, res), nil
}

// read reads key's head and value. getHead reads the head (nil: conn.Get); it is called again
// when a chunk has gone, since a writer may have replaced the value meanwhile.
func (s *Store) read(conn *zk.Conn, key string, getHead func() ([]byte, *zk.Stat, error)) (kvstore.Entry, error) {
	if getHead == nil {
		getHead = func() ([]byte, *zk.Stat, error) { return conn.Get(s.headPath(key)) }
	}
	var lastErr error
	for range headReads {
		raw, stat, err := getHead()
		if errors.Is(err, zk.ErrNoNode) {
			return kvstore.Entry{}, &kvstore.NotFoundError{Key: key}
		}
		if err != nil {
			return kvstore.Entry{}, err
		}
		e, missing, err := s.decode(conn, key, raw, stat.Mzxid)
		if !missing {
			return e, err
		}
		lastErr = err
	}
	return kvstore.Entry{}, lastErr
}

// decode turns a head into an entry, reading its chunks. missing reports a chunk that does not
// exist (the error is then a *kvstore.CorruptError that may be worth a second look).
func (s *Store) decode(conn *zk.Conn, key string, raw []byte, rev int64) (e kvstore.Entry, missing bool, err error) {
	corrupt := func(reason error) error {
		return &kvstore.CorruptError{Key: key, Revision: rev, Reason: reason.Error()}
	}
	h, err := layout.ParseHead(raw)
	if err != nil {
		return kvstore.Entry{}, false, corrupt(err)
	}
	chunks := make([][]byte, len(h.Chunks))
	var g errgroup.Group
	g.SetLimit(chunkReaders)
	for i := range h.Chunks {
		g.Go(func() error {
			data, _, err := conn.Get(s.chunkPath(h.Write, i))
			if errors.Is(err, zk.ErrNoNode) {
				return errMissing{layout.MissingChunk(i, len(h.Chunks))}
			}
			chunks[i] = data
			return err
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
