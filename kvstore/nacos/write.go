package nacos

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
)

// Put stores value at key if the key is at ifRevision. See kvstore.Store.
func (s *Store) Put(ctx context.Context, key string, value []byte, ifRevision int64) (int64, error) {
	if err := kvstore.CheckPut(key, value, ifRevision); err != nil {
		return 0, err
	}
	h, chunks, err := layout.Encode(value, layout.Options{InlineMax: inlineMax, ChunkSize: s.cfg.ChunkSize},
		func() string { return layout.NewWriteID(time.Now()) })
	if err != nil {
		return 0, err
	}
	op := "put " + key
	check := func(idx *index) error {
		if cur := idx.revision(key); cur != ifRevision {
			return &kvstore.ConflictError{Key: key, Want: ifRevision, Got: cur}
		}
		return nil
	}
	if len(chunks) > 0 {
		// Register the write first: if this writer dies while publishing chunks, the next
		// writer finds them in the index and deletes them.
		if _, err := s.update(ctx, op, func(idx *index) error {
			if err := check(idx); err != nil {
				return err
			}
			idx.Revision++
			idx.Writes[h.Write] = write{Chunks: len(chunks)}
			return nil
		}); err != nil {
			return 0, err
		}
		if err := s.writeChunks(ctx, op, h.Write, chunks); err != nil {
			s.abandon(ctx, h.Write, len(chunks))
			return 0, err
		}
		if layout.Expired(h.Write, time.Now()) {
			s.abandon(ctx, h.Write, len(chunks))
			return 0, &kvstore.UnavailableError{Backend: backend, Op: op,
				Err: fmt.Errorf("writing the chunks took longer than %s", layout.OrphanGrace/2)}
		}
	}
	var rev int64
	idx, err := s.update(ctx, op, func(idx *index) error {
		if err := check(idx); err != nil {
			return err
		}
		var serr error
		rev, serr = idx.setHead(key, h, time.Now())
		return serr
	})
	if err != nil {
		if len(chunks) > 0 {
			s.abandon(ctx, h.Write, len(chunks))
		}
		return 0, err
	}
	s.cleanup(ctx, idx)
	return rev, nil
}

// Delete removes key if it is at ifRevision. See kvstore.Store.
func (s *Store) Delete(ctx context.Context, key string, ifRevision int64) error {
	if err := kvstore.CheckDelete(key, ifRevision); err != nil {
		return err
	}
	idx, err := s.update(ctx, "delete "+key, func(idx *index) error {
		if cur := idx.revision(key); cur != ifRevision {
			return &kvstore.ConflictError{Key: key, Want: ifRevision, Got: cur}
		}
		idx.remove(key, time.Now())
		return nil
	})
	if err != nil {
		return err
	}
	s.cleanup(ctx, idx)
	return nil
}

// update applies change to the index and publishes the result with compare-and-set; when
// another writer changed the index meanwhile, it reads it again and applies change again. An
// error of change (a *kvstore.ConflictError) ends it. It returns the index as published.
func (s *Store) update(ctx context.Context, op string, change func(*index) error) (*index, error) {
	for attempt := 1; ; attempt++ {
		idx, content, err := s.readIndex(ctx, op)
		if err != nil {
			return nil, err
		}
		if err := change(idx); err != nil {
			return nil, err
		}
		next, err := idx.marshal()
		if err != nil {
			return nil, &kvstore.InvalidError{What: op, Reason: err.Error()}
		}
		err = s.publish(ctx, op, s.indexID(), next, true, content)
		if !errors.Is(err, errCASFailed) {
			return idx, err
		}
		// Another writer won this round; spread the retries so that both do not meet again.
		select {
		case <-ctx.Done():
			return nil, &kvstore.UnavailableError{Backend: backend, Op: op, Err: ctx.Err()}
		case <-time.After(time.Duration(rand.IntN(20*min(attempt, 10))) * time.Millisecond):
		}
	}
}

// writeChunks publishes the chunks of a write, as base64.
func (s *Store) writeChunks(ctx context.Context, op, write string, chunks [][]byte) error {
	var g errgroup.Group
	g.SetLimit(parallel)
	for i, c := range chunks {
		g.Go(func() error {
			return s.publish(ctx, op, s.chunkID(write, i), base64.StdEncoding.EncodeToString(c), false, "")
		})
	}
	return g.Wait()
}

// deleteChunks removes the chunks of a write; it reports whether all are gone.
func (s *Store) deleteChunks(ctx context.Context, write string, n int) bool {
	var g errgroup.Group
	g.SetLimit(parallel)
	for i := range n {
		g.Go(func() error { return s.remove(ctx, "remove chunks", s.chunkID(write, i)) })
	}
	if err := g.Wait(); err != nil {
		s.log.Warn("cannot remove chunks; trying again at a later write", "write", write, "err", err)
		return false
	}
	return true
}

// abandon removes the chunks of a write that did not become a value, and its registration;
// also after the caller's context ended. What fails is cleaned up by a later write.
func (s *Store) abandon(ctx context.Context, write string, n int) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.RequestTimeout.Std())
	defer cancel()
	if !s.deleteChunks(ctx, write, n) {
		return
	}
	s.unregister(ctx, []string{write})
}

// cleanup deletes the chunks of the writes that idx says are garbage (released values, and
// registrations of writers that crashed), then drops them from the index.
func (s *Store) cleanup(ctx context.Context, idx *index) {
	garbage := idx.garbage(time.Now())
	if len(garbage) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.RequestTimeout.Std())
	defer cancel()
	var gone []string
	for _, w := range garbage {
		if s.deleteChunks(ctx, w, idx.Writes[w].Chunks) {
			gone = append(gone, w)
		}
	}
	s.unregister(ctx, gone)
}

// unregister drops writes whose chunks are deleted from the index.
func (s *Store) unregister(ctx context.Context, writes []string) {
	if len(writes) == 0 {
		return
	}
	_, err := s.update(ctx, "unregister chunks", func(idx *index) error {
		for _, w := range writes {
			delete(idx.Writes, w)
		}
		idx.Revision++
		return nil
	})
	if err != nil {
		s.log.Warn("cannot drop deleted chunks from the index; a later write does", "err", err)
	}
}
