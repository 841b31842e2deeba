package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/rpcbridge/rpcbridge/config"
)

// reloadDebounce collapses the burst of events an editor's save causes.
const reloadDebounce = 200 * time.Millisecond

// watchConfig reloads the configuration when its file changes or on SIGHUP. The directory is
// watched rather than the file, so that editors that replace the file by renaming are seen.
func (s *server) watchConfig(ctx context.Context, sup *supervisor) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	abs, err := filepath.Abs(s.file)
	if err != nil {
		return err
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		s.log.Warn("cannot watch the configuration file; reload with SIGHUP", "err", err)
	}
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-hup:
			s.reload(ctx, sup, "SIGHUP")
		case ev := <-w.Events:
			if filepath.Clean(ev.Name) == abs && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0 {
				debounce.Reset(reloadDebounce)
			}
		case err := <-w.Errors:
			s.log.Warn("configuration watch error", "err", err)
		case <-debounce.C:
			s.reload(ctx, sup, "file changed")
		}
	}
}

// reload loads the file again; an invalid file is reported and the running configuration kept.
func (s *server) reload(ctx context.Context, sup *supervisor, why string) {
	cfg, err := config.Load(s.file)
	if err != nil {
		var cerr *config.Error
		if errors.As(err, &cerr) {
			for _, p := range cerr.Problems {
				s.log.Error("configuration rejected; keeping the previous one", "problem", p.String())
			}
		} else {
			s.log.Error("configuration rejected; keeping the previous one", "err", err)
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
