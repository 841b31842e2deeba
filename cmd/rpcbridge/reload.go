package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/rpcbridge/rpcbridge/config"
)

// reloadSettle is how long the configuration file must stay the same before a change is
// applied. After a file event or SIGHUP the file is read once reloadSettle later and again
// reloadSettle after that; only when both reads are identical is the content parsed and applied.
// A difference, or a new event in between, starts the wait again. A writer that pauses for less
// than reloadSettle between two bursts (an editor saving in place, `cat part1 part2 > file` over
// a slow pipe) is therefore never read half-way; one that pauses for longer is indistinguishable
// from two saves.
const reloadSettle = 250 * time.Millisecond

// fileState is one read of the configuration file: its content, or why it could not be read.
type fileState struct {
	data []byte
	err  string
}

func readFileState(path string) fileState {
	data, err := os.ReadFile(path)
	if err != nil {
		return fileState{err: err.Error()}
	}
	return fileState{data: data}
}

func (a fileState) equal(b fileState) bool { return a.err == b.err && bytes.Equal(a.data, b.data) }

// configWatcher watches the configuration file's directory (rather than the file, so that
// editors that replace the file by renaming are seen). It is made before serve says it serves,
// so that no change made after that is missed.
func (s *server) configWatcher() (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch the configuration file: %w", err)
	}
	abs, err := filepath.Abs(s.file)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("watch the configuration file: %w", err)
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		s.log.Warn("cannot watch the configuration file; reload with SIGHUP", "err", err)
	}
	return w, nil
}

// watchConfig reloads the configuration when its file changes (events of w, configWatcher's) or
// on SIGHUP, once the file has settled (see reloadSettle). It closes w when it returns.
func (s *server) watchConfig(ctx context.Context, sup *supervisor, w *fsnotify.Watcher) error {
	defer w.Close()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	abs, err := filepath.Abs(s.file)
	if err != nil {
		return err
	}
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	var (
		candidate *fileState // the last read, waiting to be confirmed by an identical one
		trigger   string
	)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-hup:
			trigger = "SIGHUP"
			settle.Reset(reloadSettle)
		case ev := <-w.Events:
			if filepath.Clean(ev.Name) == abs && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0 {
				if trigger == "" {
					trigger = "file changed"
				}
				settle.Reset(reloadSettle)
			}
		case err := <-w.Errors:
			s.log.Warn("configuration watch error", "err", err)
		case <-settle.C:
			cur := readFileState(s.file)
			if candidate == nil || !candidate.equal(cur) {
				if candidate == nil {
					s.log.Debug("configuration file changed; it is applied once it stays the same for the settle interval",
						"file", s.file, "trigger", trigger, "settle", reloadSettle)
				} else {
					s.log.Info("configuration file is still changing; not applied yet", "file", s.file,
						"bytes_before", len(candidate.data), "bytes_now", len(cur.data), "settle", reloadSettle)
				}
				candidate = &cur
				settle.Reset(reloadSettle)
				continue
			}
			s.reload(ctx, sup, cur, trigger)
			candidate, trigger = nil, ""
		}
	}
}

// reload applies a settled read of the file; an invalid file is reported, every problem on a
// line of its own, and the running configuration kept.
func (s *server) reload(ctx context.Context, sup *supervisor, st fileState, why string) {
	reject := func(args ...any) {
		s.log.Error("configuration rejected; keeping the previous one", append([]any{"file", s.file, "trigger", why}, args...)...)
	}
	if st.err != "" {
		reject("err", st.err)
		return
	}
	cfg, err := config.Parse(s.file, st.data)
	if err != nil {
		var cerr *config.Error
		if errors.As(err, &cerr) {
			for _, p := range cerr.Problems {
				reject("problem", p.String())
			}
		} else {
			reject("err", err)
		}
		return
	}
	if fixed := restartOnly(s.start, cfg); len(fixed) > 0 {
		s.log.Warn("these settings change only on restart", "settings", joinOr(fixed, ""))
	}
	if !s.cfg.Publish(cfg) {
		s.log.Debug("configuration unchanged", "trigger", why)
		return
	}
	if err := sup.apply(ctx, cfg.Registries); err != nil {
		s.log.Error("registry configuration could not be applied", "err", err)
		return
	}
	s.log.Info("configuration reloaded", "trigger", why, "registries", len(cfg.Registries), "routes", len(cfg.Routes))
}
