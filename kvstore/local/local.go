// Package local is the kvstore backend on a local directory, the embedded default. Each key is
// one file holding a head line (revision, size, SHA-256) and the value; a write takes an
// exclusive flock on the directory's lock file, checks the key's revision, takes the next
// revision from the directory's counter, writes the file under a temporary name, syncs it and
// renames it into place. Readers never lock: a rename is atomic, so they see the old file or
// the new one. Processes sharing the directory on one host are serialized by the flock;
// network file systems are not supported (flock and fsnotify are unreliable there).
//
// Watches follow the directory with fsnotify and list it again every Config.Poll in case an
// event was missed; only files whose inode, size or modification time changed are read again.
//
// Layout (see docs/store.md):
//
//	<dir>/lock              flock'ed by writers
//	<dir>/revision          the highest revision handed out, in decimal
//	<dir>/keys/<flat key>   one file per key: '/' in the key becomes ':'
//	<dir>/tmp/              files being written
package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/follow"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
)

const backend = "local"

// Store is a kvstore.Store on a directory.
type Store struct {
	cfg     Config
	log     *slog.Logger
	lock    *os.File
	mu      sync.Mutex // serializes this process's writers; the flock serializes processes
	closing context.Context
	close   context.CancelFunc
	closed  sync.Once
}

var _ kvstore.Store = (*Store)(nil)

// Open opens (creating) the store in cfg.Dir.
func Open(cfg Config, logger *slog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	for _, d := range []string{cfg.Dir, filepath.Join(cfg.Dir, "keys"), filepath.Join(cfg.Dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("local store: %w", err)
		}
	}
	lock, err := os.OpenFile(filepath.Join(cfg.Dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	closing, cancel := context.WithCancel(context.Background())
	return &Store{cfg: cfg, log: logger.With("store", backend, "dir", cfg.Dir), lock: lock,
		closing: closing, close: cancel}, nil
}

// Close ends the store's watches and releases its lock file.
func (s *Store) Close() error {
	var err error
	s.closed.Do(func() {
		s.close()
		err = s.lock.Close()
	})
	return err
}

func (s *Store) keyPath(key string) string {
	return filepath.Join(s.cfg.Dir, "keys", layout.FlatKey(key))
}

// Get returns the entry of key. See kvstore.Store.
func (s *Store) Get(ctx context.Context, key string) (kvstore.Entry, error) {
	if err := kvstore.ValidKey(key); err != nil {
		return kvstore.Entry{}, err
	}
	if err := s.usable(ctx, "get "+key); err != nil {
		return kvstore.Entry{}, err
	}
	raw, err := os.ReadFile(s.keyPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return kvstore.Entry{}, &kvstore.NotFoundError{Key: key}
	}
	if err != nil {
		return kvstore.Entry{}, s.unavailable("get "+key, err)
	}
	return decode(key, raw)
}

// decode turns a key file into an entry, or a *kvstore.CorruptError.
func decode(key string, raw []byte) (kvstore.Entry, error) {
	h, err := layout.ParseHead(raw)
	if err != nil {
		return kvstore.Entry{}, &kvstore.CorruptError{Key: key, Revision: h.Revision, Reason: err.Error()}
	}
	v, err := layout.Decode(h, nil)
	if err != nil || h.Revision <= 0 {
		if err == nil {
			err = errors.New("no revision")
		}
		return kvstore.Entry{}, &kvstore.CorruptError{Key: key, Revision: h.Revision, Reason: err.Error()}
	}
	return kvstore.Entry{Key: key, Value: v, Revision: h.Revision}, nil
}

// List returns the entries under prefix. See kvstore.Store.
func (s *Store) List(ctx context.Context, prefix string) (kvstore.Snapshot, error) {
	if err := kvstore.ValidPrefix(prefix); err != nil {
		return kvstore.Snapshot{}, err
	}
	res, err := s.readDir(ctx, &follow.Cache[fileVersion]{}, prefix)
	if err != nil {
		return kvstore.Snapshot{}, err
	}
	return follow.Merge(nil, res), nil
}

// usable fails when ctx ended or the store is closed.
func (s *Store) usable(ctx context.Context, op string) error {
	if s.closing.Err() != nil {
		return kvstore.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return s.unavailable(op, err)
	}
	return nil
}

func (s *Store) unavailable(op string, err error) error {
	return &kvstore.UnavailableError{Backend: backend, Op: op, Err: err}
}

// prefixOf reports whether a file name in keys/ is a key under prefix, and its key.
func prefixOf(name, prefix string) (string, bool, bool) {
	if strings.HasPrefix(name, ".") {
		return "", false, false
	}
	key, ok := layout.KeyOfFlat(name)
	return key, ok, strings.HasPrefix(key, prefix)
}
