package zookeeper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"
	"golang.org/x/sync/errgroup"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
)

// sweepEvery is how often a client looks for leftovers of crashed writers (its first write
// always does).
const sweepEvery = 10 * time.Minute

// Put stores value at key if the key is at ifRevision. See kvstore.Store.
func (s *Store) Put(ctx context.Context, key string, value []byte, ifRevision int64) (int64, error) {
	if err := kvstore.CheckPut(key, value, ifRevision); err != nil {
		return 0, err
	}
	h, chunks, err := layout.Encode(value, layout.Options{InlineMax: s.cfg.ChunkSize, ChunkSize: s.cfg.ChunkSize},
		func() string { return layout.NewWriteID(time.Now()) })
	if err != nil {
		return 0, err
	}
	head := layout.MarshalHead(h)
	conn, op := s.main.conn, "put "+key
	var rev int64
	var old layout.Head
	err = s.call(ctx, s.main, op, func() error {
		var version int32
		if ifRevision > 0 {
			raw, stat, err := conn.Get(s.headPath(key))
			if err != nil {
				return s.conflictOr(conn, key, ifRevision, err)
			}
			if stat.Mzxid != ifRevision {
				return &kvstore.ConflictError{Key: key, Want: ifRevision, Got: stat.Mzxid}
			}
			version = stat.Version
			old, _ = layout.ParseHead(raw) // foreign data has no chunks to remove
		} else if ok, _, err := conn.Exists(s.headPath(key)); err != nil || ok {
			return s.conflictOr(conn, key, 0, err)
		}
		if err := s.writeChunks(conn, h.Write, chunks); err != nil {
			return err
		}
		if len(chunks) > 0 && layout.Expired(h.Write, time.Now()) {
			s.deleteChunks(conn, h.Write, len(chunks))
			return fmt.Errorf("writing the chunks took longer than %s", layout.OrphanGrace/2)
		}
		var err error
		if ifRevision == 0 {
			rev, err = s.create(conn, key, head)
		} else {
			var stat *zk.Stat
			if stat, err = conn.Set(s.headPath(key), head, version); err == nil {
				rev = stat.Mzxid
			}
		}
		if err != nil {
			s.deleteChunks(conn, h.Write, len(chunks))
			return s.conflictOr(conn, key, ifRevision, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.afterWrite(ctx, old)
	return rev, nil
}

// create makes the head node and returns its mzxid: a multi-op that creates the node and sets
// its data at version 0, since a plain create answers only with the path.
func (s *Store) create(conn *zk.Conn, key string, head []byte) (int64, error) {
	if err := s.ensure(conn, s.keysDir()); err != nil {
		return 0, err
	}
	p := s.headPath(key)
	res, err := conn.Multi(&zk.CreateRequest{Path: p, Acl: s.acl}, &zk.SetDataRequest{Path: p, Data: head, Version: 0})
	for _, r := range res {
		if err == nil && r.Error != nil {
			err = r.Error
		}
	}
	if err != nil {
		return 0, err
	}
	if len(res) != 2 || res[1].Stat == nil {
		return 0, errors.New("multi-op answered without the head's stat")
	}
	return res[1].Stat.Mzxid, nil
}

// Delete removes key if it is at ifRevision. See kvstore.Store.
func (s *Store) Delete(ctx context.Context, key string, ifRevision int64) error {
	if err := kvstore.CheckDelete(key, ifRevision); err != nil {
		return err
	}
	conn := s.main.conn
	var old layout.Head
	err := s.call(ctx, s.main, "delete "+key, func() error {
		raw, stat, err := conn.Get(s.headPath(key))
		if err != nil {
			return s.conflictOr(conn, key, ifRevision, err)
		}
		if stat.Mzxid != ifRevision {
			return &kvstore.ConflictError{Key: key, Want: ifRevision, Got: stat.Mzxid}
		}
		old, _ = layout.ParseHead(raw)
		if err := conn.Delete(s.headPath(key), stat.Version); err != nil {
			return s.conflictOr(conn, key, ifRevision, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.afterWrite(ctx, old)
	return nil
}

// conflictOr turns ZooKeeper's answers to a conditional write (no node, node exists, bad
// version) into a *kvstore.ConflictError carrying the key's current revision; other errors
// pass through.
func (s *Store) conflictOr(conn *zk.Conn, key string, want int64, err error) error {
	if err != nil && !errors.Is(err, zk.ErrNoNode) && !errors.Is(err, zk.ErrNodeExists) && !errors.Is(err, zk.ErrBadVersion) {
		return err
	}
	got := int64(-1)
	if ok, stat, err := conn.Exists(s.headPath(key)); err == nil {
		got = 0
		if ok {
			got = stat.Mzxid
		}
	}
	return &kvstore.ConflictError{Key: key, Want: want, Got: got}
}

// writeChunks creates the chunk nodes of a write; on failure it removes the ones it made.
func (s *Store) writeChunks(conn *zk.Conn, write string, chunks [][]byte) error {
	if len(chunks) == 0 {
		return nil
	}
	if err := s.ensure(conn, s.chunksDir()); err != nil {
		return err
	}
	var g errgroup.Group
	g.SetLimit(chunkReaders)
	for i, c := range chunks {
		g.Go(func() error {
			_, err := conn.Create(s.chunkPath(write, i), c, 0, s.acl)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		s.deleteChunks(conn, write, len(chunks))
		return fmt.Errorf("write chunks: %w", err)
	}
	return nil
}

// deleteChunks removes the chunk nodes of a write, as far as they exist. Failures are logged:
// a chunk left behind is swept later.
func (s *Store) deleteChunks(conn *zk.Conn, write string, n int) {
	var g errgroup.Group
	g.SetLimit(chunkReaders)
	for i := range n {
		g.Go(func() error {
			if err := conn.Delete(s.chunkPath(write, i), -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
				s.log.Warn("cannot remove a chunk; it is swept later", "chunk", s.chunkPath(write, i), "err", err)
			}
			return nil
		})
	}
	_ = g.Wait()
}

// afterWrite removes the chunks of the value a write replaced, and sweeps leftovers of crashed
// writers when that is due. It is bounded like a request; what it leaves is swept later.
func (s *Store) afterWrite(ctx context.Context, old layout.Head) {
	conn := s.main.conn
	if len(old.Chunks) > 0 {
		_ = s.call(ctx, s.main, "remove replaced chunks", func() error {
			s.deleteChunks(conn, old.Write, len(old.Chunks))
			return nil
		})
	}
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	if time.Since(s.lastSweep) < sweepEvery {
		return
	}
	s.lastSweep = time.Now()
	if err := s.call(ctx, s.main, "sweep chunks", func() error { return s.sweep(conn) }); err != nil {
		s.log.Warn("sweeping leftover chunks failed; trying again later", "err", err)
	}
}

// sweep deletes the chunks of writes that no head names and that are older than
// layout.OrphanGrace.
func (s *Store) sweep(conn *zk.Conn) error {
	names, _, err := conn.Children(s.chunksDir())
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, n := range names {
		if w, i, ok := layout.ParseChunkName(n); ok {
			counts[w] = max(counts[w], i+1)
		}
	}
	if len(counts) == 0 {
		return nil
	}
	referenced := map[string]bool{}
	heads, _, err := conn.Children(s.keysDir())
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return err
	}
	for _, name := range heads {
		raw, _, err := conn.Get(s.keysDir() + "/" + name)
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		if h, err := layout.ParseHead(raw); err == nil && h.Write != "" {
			referenced[h.Write] = true
		}
	}
	ids := make([]string, 0, len(counts))
	for w := range counts {
		ids = append(ids, w)
	}
	for _, w := range layout.Garbage(ids, func(id string) bool { return referenced[id] }, time.Now()) {
		s.log.Info("removing the chunks of an unfinished write", "write", w, "chunks", counts[w])
		s.deleteChunks(conn, w, counts[w])
	}
	return nil
}
