package nacos

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/follow"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
)

// indexReads bounds how often a reader reads the index again after finding a chunk gone.
const indexReads = 3

// readIndex reads and parses the index, with the content it was parsed from (for a
// compare-and-set).
func (s *Store) readIndex(ctx context.Context, op string) (*index, string, error) {
	content, err := s.get(ctx, op, s.indexID())
	if err != nil {
		return nil, "", err
	}
	idx, err := parseIndex(content)
	if err != nil {
		return nil, "", &kvstore.UnavailableError{Backend: backend, Op: op, Err: err}
	}
	return idx, content, nil
}

// Get returns the entry of key. See kvstore.Store.
func (s *Store) Get(ctx context.Context, key string) (kvstore.Entry, error) {
	if err := kvstore.ValidKey(key); err != nil {
		return kvstore.Entry{}, err
	}
	op := "get " + key
	var lastErr error
	for range indexReads {
		idx, _, err := s.readIndex(ctx, op)
		if err != nil {
			return kvstore.Entry{}, err
		}
		e, missing, err := s.entry(ctx, idx, key)
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
	idx, _, err := s.readIndex(ctx, "list "+prefix)
	if err != nil {
		return kvstore.Snapshot{}, err
	}
	res, err := s.read(ctx, &follow.Cache[int64]{}, idx, prefix)
	if err != nil {
		return kvstore.Snapshot{}, err
	}
	return follow.Merge(nil, res), nil
}

// read turns an index into entries under prefix, reading a value's chunks only when its
// revision is not the one c holds.
func (s *Store) read(ctx context.Context, c *follow.Cache[int64], idx *index, prefix string) (follow.Result, error) {
	var res follow.Result
	for key := range idx.Entries {
		if kvstore.ValidKey(key) != nil {
			res.Problems = append(res.Problems, follow.Stray(stage, s.indexID()+" entry "+key))
			continue
		}
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		// A damaged entry without a revision (-1) is read every time: its content may change.
		version := idx.revision(key)
		if version < 0 {
			version = -idx.Revision
		}
		if err := c.Add(&res, stage, key, version, func() (kvstore.Entry, bool, error) {
			return s.entry(ctx, idx, key)
		}); err != nil {
			return follow.Result{}, err
		}
	}
	c.Prune()
	return res, nil
}

// entry reads key's value as idx describes it. missing reports a chunk that does not exist
// (the error is then a *kvstore.CorruptError that may be worth a second look).
func (s *Store) entry(ctx context.Context, idx *index, key string) (e kvstore.Entry, missing bool, err error) {
	h, ok, herr := idx.head(key)
	if !ok {
		return kvstore.Entry{}, false, &kvstore.NotFoundError{Key: key}
	}
	corrupt := func(reason error) error {
		return &kvstore.CorruptError{Key: key, Revision: max(h.Revision, 0), Reason: reason.Error()}
	}
	if herr != nil {
		return kvstore.Entry{}, false, corrupt(herr)
	}
	chunks := make([][]byte, len(h.Chunks))
	var g errgroup.Group
	g.SetLimit(parallel)
	for i := range h.Chunks {
		g.Go(func() error {
			content, err := s.get(ctx, "get "+key, s.chunkID(h.Write, i))
			if err != nil {
				return err
			}
			if content == "" {
				return errMissing{layout.MissingChunk(i, len(h.Chunks))}
			}
			if chunks[i], err = base64.StdEncoding.DecodeString(content); err != nil {
				return errBad{errors.New("a chunk is not base64")}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		var m errMissing
		var b errBad
		switch {
		case errors.As(err, &m):
			return kvstore.Entry{}, true, corrupt(m.error)
		case errors.As(err, &b):
			return kvstore.Entry{}, false, corrupt(b.error)
		}
		return kvstore.Entry{}, false, err
	}
	v, err := layout.Decode(h, chunks)
	if err != nil {
		return kvstore.Entry{}, false, corrupt(err)
	}
	return kvstore.Entry{Key: key, Value: v, Revision: h.Revision}, false, nil
}

// errMissing marks a chunk that does not exist, errBad one that cannot be decoded.
type (
	errMissing struct{ error }
	errBad     struct{ error }
)
