package local

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/fsnotify/fsnotify"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/follow"
)

const stage = "store/local"

// Watch publishes the state of prefix on every change. See kvstore.Store.
func (s *Store) Watch(ctx context.Context, prefix string, publish func(kvstore.Snapshot)) error {
	if err := kvstore.ValidPrefix(prefix); err != nil {
		return err
	}
	if s.closing.Err() != nil {
		return kvstore.ErrClosed
	}
	wake := make(chan struct{}, 1)
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(filepath.Join(s.cfg.Dir, "keys")); err != nil {
			_ = w.Close()
		}
	}
	if err != nil {
		s.log.Warn("fsnotify unavailable: the watch only polls", "err", err, "poll", s.cfg.Poll.Std())
	} else {
		defer w.Close()
		go forward(w, wake)
	}
	cache := follow.NewCache[fileVersion]()
	return follow.Run(ctx, follow.Options{Resync: s.cfg.Poll.Std(), Logger: s.log, Closing: s.closing}, wake,
		func(ctx context.Context) (follow.Result, error) { return s.readDir(ctx, cache, prefix) }, publish)
}

// forward turns fsnotify's events into wakes until the watcher is closed.
func forward(w *fsnotify.Watcher, wake chan<- struct{}) {
	for {
		select {
		case _, ok := <-w.Events:
			if !ok {
				return
			}
		case _, ok := <-w.Errors: // an overflow: list again
			if !ok {
				return
			}
		}
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// fileVersion tells whether a key file changed since it was read: a write renames a new file
// into place (a new inode); the size and mtime catch edits in place.
type fileVersion struct {
	ino   uint64
	size  int64
	mtime int64
}

// readDir reads the key files under prefix, reading again only the files that changed since
// c holds them.
func (s *Store) readDir(ctx context.Context, c *follow.Cache[fileVersion], prefix string) (follow.Result, error) {
	if err := s.usable(ctx, "list "+prefix); err != nil {
		return follow.Result{}, err
	}
	dir := filepath.Join(s.cfg.Dir, "keys")
	names, err := os.ReadDir(dir)
	if err != nil {
		return follow.Result{}, s.unavailable("list "+prefix, err)
	}
	var res follow.Result
	for _, n := range names {
		key, valid, under := prefixOf(n.Name(), prefix)
		if !valid {
			if !n.IsDir() && prefix == "" {
				res.Problems = append(res.Problems, follow.Stray(stage, filepath.Join(dir, n.Name())))
			}
			continue
		}
		if !under {
			continue
		}
		path := filepath.Join(dir, n.Name())
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return follow.Result{}, s.unavailable("read "+key, err)
		}
		v := fileVersion{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			v.ino = st.Ino
		}
		err = c.Add(&res, stage, key, v, func() (kvstore.Entry, bool, error) {
			raw, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				return kvstore.Entry{}, false, &kvstore.NotFoundError{Key: key}
			}
			if err != nil {
				return kvstore.Entry{}, false, s.unavailable("read "+key, err)
			}
			e, err := decode(key, raw)
			return e, false, err
		})
		if err != nil {
			return follow.Result{}, err
		}
	}
	c.Prune()
	return res, nil
}
