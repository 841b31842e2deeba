package consul

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
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
	h, chunks, err := layout.Encode(value, layout.Options{InlineMax: inlineMax, ChunkSize: s.cfg.ChunkSize},
		func() string { return layout.NewWriteID(time.Now()) })
	if err != nil {
		return 0, err
	}
	if err := s.usable(); err != nil {
		return 0, err
	}
	op := "put " + key
	// Read the head first: a stale revision fails before any chunk is written, and the old
	// value's chunks are known for removal.
	cur, err := s.get(ctx, s.headKey(key))
	if err != nil {
		return 0, unavailable(op, err)
	}
	if got := indexOf(cur); got != ifRevision {
		return 0, &kvstore.ConflictError{Key: key, Want: ifRevision, Got: got}
	}
	var old layout.Head
	if cur != nil {
		old, _ = layout.ParseHead(cur.Value) // foreign data has no chunks to remove
	}
	if err := s.writeChunks(ctx, h.Write, chunks); err != nil {
		return 0, unavailable(op, err)
	}
	if len(chunks) > 0 && layout.Expired(h.Write, time.Now()) {
		s.deleteWrite(ctx, h.Write)
		return 0, unavailable(op, fmt.Errorf("writing the chunks took longer than %s", layout.OrphanGrace/2))
	}
	ok, resp, err := s.transact(ctx, api.TxnOps{
		{KV: &api.KVTxnOp{Verb: api.KVCAS, Key: s.headKey(key), Value: layout.MarshalHead(h), Index: uint64(ifRevision)}},
		{KV: &api.KVTxnOp{Verb: api.KVGet, Key: s.headKey(key)}},
	})
	if err != nil || !ok {
		if len(chunks) > 0 {
			s.deleteWrite(ctx, h.Write)
		}
		if err != nil {
			return 0, unavailable(op, err)
		}
		return 0, s.conflict(ctx, key, ifRevision, resp)
	}
	if len(resp.Results) != 2 || resp.Results[1].KV == nil {
		return 0, unavailable(op, errors.New("the transaction answered without the head"))
	}
	s.afterWrite(ctx, old)
	return int64(resp.Results[1].KV.ModifyIndex), nil
}

// Delete removes key if it is at ifRevision. See kvstore.Store.
func (s *Store) Delete(ctx context.Context, key string, ifRevision int64) error {
	if err := kvstore.CheckDelete(key, ifRevision); err != nil {
		return err
	}
	if err := s.usable(); err != nil {
		return err
	}
	op := "delete " + key
	cur, err := s.get(ctx, s.headKey(key))
	if err != nil {
		return unavailable(op, err)
	}
	if got := indexOf(cur); got != ifRevision {
		return &kvstore.ConflictError{Key: key, Want: ifRevision, Got: got}
	}
	old, _ := layout.ParseHead(cur.Value)
	ok, resp, err := s.transact(ctx, api.TxnOps{
		{KV: &api.KVTxnOp{Verb: api.KVDeleteCAS, Key: s.headKey(key), Index: uint64(ifRevision)}},
	})
	if err != nil {
		return unavailable(op, err)
	}
	if !ok {
		return s.conflict(ctx, key, ifRevision, resp)
	}
	s.afterWrite(ctx, old)
	return nil
}

func indexOf(p *api.KVPair) int64 {
	if p == nil {
		return 0
	}
	return int64(p.ModifyIndex)
}

// conflict is the error of a transaction Consul rolled back: a *kvstore.ConflictError with the
// head's current index when the check-and-set failed, else what Consul said.
func (s *Store) conflict(ctx context.Context, key string, want int64, resp *api.TxnResponse) error {
	if resp != nil && len(resp.Errors) > 0 && !strings.Contains(resp.Errors[0].What, "index") &&
		!strings.Contains(resp.Errors[0].What, "exist") {
		return unavailable("write "+key, fmt.Errorf("transaction rolled back: %s", resp.Errors[0].What))
	}
	got := int64(-1)
	if cur, err := s.get(ctx, s.headKey(key)); err == nil {
		got = indexOf(cur)
	}
	return &kvstore.ConflictError{Key: key, Want: want, Got: got}
}

// writeChunks stores the chunks of a write; on failure it removes what it stored.
func (s *Store) writeChunks(ctx context.Context, write string, chunks [][]byte) error {
	if len(chunks) == 0 {
		return nil
	}
	var g errgroup.Group
	g.SetLimit(parallel)
	for i, c := range chunks {
		g.Go(func() error {
			return s.put(ctx, s.chunkKey(write, i), c)
		})
	}
	if err := g.Wait(); err != nil {
		s.deleteWrite(ctx, write)
		return fmt.Errorf("write chunks: %w", err)
	}
	return nil
}

// deleteWrite removes every chunk of a write. A failure is logged: it is swept later.
func (s *Store) deleteWrite(ctx context.Context, write string) {
	if write == "" {
		return
	}
	// Also after the write's own context ended (its caller gave up): the chunks must go.
	if err := s.deleteTree(context.WithoutCancel(ctx), s.writePrefix(write)); err != nil {
		s.log.Warn("cannot remove chunks; they are swept later", "write", write, "err", err)
	}
}

// afterWrite removes the chunks of the value a write replaced, and sweeps leftovers of crashed
// writers when that is due.
func (s *Store) afterWrite(ctx context.Context, old layout.Head) {
	if len(old.Chunks) > 0 {
		s.deleteWrite(ctx, old.Write)
	}
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	if time.Since(s.lastSweep) < sweepEvery {
		return
	}
	s.lastSweep = time.Now()
	if err := s.sweep(ctx); err != nil {
		s.log.Warn("sweeping leftover chunks failed; trying again later", "err", err)
	}
}

// sweep deletes the writes that no head names and that are older than layout.OrphanGrace.
func (s *Store) sweep(ctx context.Context) error {
	dirs, err := s.keys(ctx, s.chunksPrefix(), "/")
	if err != nil {
		return err
	}
	var ids []string
	for _, d := range dirs {
		if w, ok := strings.CutPrefix(strings.TrimSuffix(d, "/"), s.chunksPrefix()); ok && layout.ValidWriteID(w) {
			ids = append(ids, w)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	heads, err := s.list(ctx, s.keysPrefix())
	if err != nil {
		return err
	}
	referenced := map[string]bool{}
	for _, p := range heads {
		if h, err := layout.ParseHead(p.Value); err == nil && h.Write != "" {
			referenced[h.Write] = true
		}
	}
	for _, w := range layout.Garbage(ids, func(id string) bool { return referenced[id] }, time.Now()) {
		s.log.Info("removing the chunks of an unfinished write", "write", w)
		s.deleteWrite(ctx, w)
	}
	return nil
}
