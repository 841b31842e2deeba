package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
)

// lockPoll is how often a writer tries the flock again while another process holds it.
const lockPoll = 5 * time.Millisecond

// Put stores value at key if the key is at ifRevision. See kvstore.Store.
func (s *Store) Put(ctx context.Context, key string, value []byte, ifRevision int64) (int64, error) {
	if err := kvstore.CheckPut(key, value, ifRevision); err != nil {
		return 0, err
	}
	op := "put " + key
	var rev int64
	err := s.locked(ctx, op, func() error {
		cur, err := s.revisionOf(key)
		if err != nil {
			return err
		}
		if cur != ifRevision {
			return &kvstore.ConflictError{Key: key, Want: ifRevision, Got: cur}
		}
		if rev, err = s.nextRevision(); err != nil {
			return err
		}
		h, _, err := layout.Encode(value, layout.Options{InlineMax: kvstore.MaxValueSize, Plain: true}, nil)
		if err != nil {
			return err
		}
		h.Revision = rev
		return s.replace(s.keyPath(key), layout.MarshalHead(h))
	})
	return rev, err
}

// Delete removes key if it is at ifRevision. See kvstore.Store.
func (s *Store) Delete(ctx context.Context, key string, ifRevision int64) error {
	if err := kvstore.CheckDelete(key, ifRevision); err != nil {
		return err
	}
	return s.locked(ctx, "delete "+key, func() error {
		cur, err := s.revisionOf(key)
		if err != nil {
			return err
		}
		if cur != ifRevision {
			return &kvstore.ConflictError{Key: key, Want: ifRevision, Got: cur}
		}
		if err := os.Remove(s.keyPath(key)); err != nil {
			return err
		}
		return syncDir(filepath.Join(s.cfg.Dir, "keys"))
	})
}

// locked runs fn holding the store's write lock, in this process and across processes. Errors
// of fn other than the kvstore ones are reported as unavailable.
func (s *Store) locked(ctx context.Context, op string, fn func() error) error {
	if err := s.usable(ctx, op); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		err := syscall.Flock(int(s.lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return s.unavailable(op, fmt.Errorf("lock: %w", err))
		}
		select {
		case <-ctx.Done():
			return s.unavailable(op, fmt.Errorf("waiting for the lock: %w", ctx.Err()))
		case <-time.After(lockPoll):
		}
	}
	defer func() { _ = syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN) }()
	err := fn()
	var conflict *kvstore.ConflictError
	if err != nil && !errors.As(err, &conflict) {
		return s.unavailable(op, err)
	}
	return err
}

// revisionOf is key's current revision (0 when absent). Only the head line is read. A file
// that is not ours has no revision: -1, which no compare-and-set names.
func (s *Store) revisionOf(key string) (int64, error) {
	f, err := os.Open(s.keyPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 4096).ReadSlice('\n')
	if err != nil {
		return -1, nil
	}
	h, err := layout.ParseHead(line)
	if errors.Is(err, layout.ErrForeign) || h.Revision <= 0 {
		return -1, nil
	}
	return h.Revision, nil
}

// nextRevision advances the directory's revision counter and returns the new revision. A
// missing counter (a new directory, or one restored without it) starts above every revision in
// the key files. Caller holds the lock.
func (s *Store) nextRevision() (int64, error) {
	path := filepath.Join(s.cfg.Dir, "revision")
	var last int64
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if last, err = s.highestRevision(); err != nil {
			return 0, err
		}
	case err != nil:
		return 0, err
	default:
		if last, err = strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64); err != nil {
			return 0, fmt.Errorf("revision counter %s: %w", path, err)
		}
	}
	next := last + 1
	if err := s.replace(path, []byte(strconv.FormatInt(next, 10)+"\n")); err != nil {
		return 0, err
	}
	return next, nil
}

// highestRevision is the highest revision among the key files.
func (s *Store) highestRevision() (int64, error) {
	names, err := os.ReadDir(filepath.Join(s.cfg.Dir, "keys"))
	if err != nil {
		return 0, err
	}
	var highest int64
	for _, n := range names {
		if key, ok := layout.KeyOfFlat(n.Name()); ok {
			r, err := s.revisionOf(key)
			if err != nil {
				return 0, err
			}
			highest = max(highest, r)
		}
	}
	return highest, nil
}

// replace atomically replaces path with data: a synced temporary file renamed into place.
func (s *Store) replace(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Join(s.cfg.Dir, "tmp"), "w-")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(f.Name()) }() // fails harmlessly after the rename
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
