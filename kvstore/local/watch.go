package local

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

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
		err = w.Add(filepath.Join(s.cfg.Dir, "keys"))
	}
	if err != nil {
		s.log.Warn("fsnotify unavailable: the watch only polls", "err", err, "poll", s.cfg.Poll.Std())
	} else {
		defer w.Close()
		go forward(w, wake)
	}
	d := dirReader{cache: map[string]cached{}}
	return follow.Run(ctx, follow.Options{Resync: s.cfg.Poll.Std(), Logger: s.log, Closing: s.closing}, wake,
		func(ctx context.Context) (follow.Result, error) { return d.read(ctx, s, prefix) }, publish)
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

// cached is what a file held when it was last read, and how to tell whether it changed.
type cached struct {
	ino     uint64
	size    int64
	mtime   time.Time
	entry   kvstore.Entry
	problem *follow.Problem
}

// dirReader reads the key files under a prefix, reading again only the files that changed.
type dirReader struct {
	cache map[string]cached // by file name
}

func (d *dirReader) read(ctx context.Context, s *Store, prefix string) (follow.Result, error) {
	if err := s.usable(ctx, "list "+prefix); err != nil {
		return follow.Result{}, err
	}
	dir := filepath.Join(s.cfg.Dir, "keys")
	names, err := os.ReadDir(dir)
	if err != nil {
		return follow.Result{}, s.unavailable("list "+prefix, err)
	}
	var res follow.Result
	seen := map[string]bool{}
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
		c, err := d.file(filepath.Join(dir, n.Name()), key, n.Name())
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return follow.Result{}, s.unavailable("read "+key, err)
		}
		seen[n.Name()] = true
		if c.problem != nil {
			res.Problems = append(res.Problems, *c.problem)
		} else {
			res.Entries = append(res.Entries, c.entry)
		}
	}
	for name := range d.cache {
		if !seen[name] {
			delete(d.cache, name)
		}
	}
	return res, nil
}

// file returns what path holds, from the cache when its inode, size and mtime are unchanged.
func (d *dirReader) file(path, key, name string) (cached, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return cached{}, err
	}
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	if c, ok := d.cache[name]; ok && c.ino == ino && c.size == fi.Size() && c.mtime.Equal(fi.ModTime()) {
		return c, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return cached{}, err
	}
	c := cached{ino: ino, size: fi.Size(), mtime: fi.ModTime()}
	if c.entry, err = decode(key, raw); err != nil {
		p := follow.Unreadable(stage, key, err)
		c.problem = &p
	}
	if d.cache != nil {
		d.cache[name] = c
	}
	return c, nil
}
