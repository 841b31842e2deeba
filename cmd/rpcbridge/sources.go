package main

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/internal/bus"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// filters returns the include/exclude filter of every registry.
func filters(cfg *config.Config) map[string]bridge.Filter {
	out := map[string]bridge.Filter{}
	for _, rc := range cfg.Registries {
		out[rc.Name] = bridge.Filter{Include: rc.Include, Exclude: rc.Exclude}
	}
	return out
}

// snapshotSet collects the latest snapshot of every running source and publishes them, sorted
// by source, as one value.
type snapshotSet struct {
	mu    sync.Mutex
	snaps map[string]registries.Snapshot
	out   *bus.Topic[[]registries.Snapshot]
}

// newSnapshotSet returns an empty set that has already published its (empty) state, so that a
// configuration without registries still flows through the pipeline.
func newSnapshotSet() *snapshotSet {
	s := &snapshotSet{
		snaps: map[string]registries.Snapshot{},
		out:   bus.NewTopic(func(a, b []registries.Snapshot) bool { return reflect.DeepEqual(a, b) }),
	}
	s.out.Publish([]registries.Snapshot{})
	return s
}

func (s *snapshotSet) set(snap registries.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snaps[snap.Source] = snap
	s.publishLocked()
}

func (s *snapshotSet) remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.snaps, name)
	s.publishLocked()
}

// expect registers a source that has not published yet, so that the catalog reports it as
// pending instead of forgetting it.
func (s *snapshotSet) expect(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.snaps[name]; !ok {
		s.snaps[name] = registries.Snapshot{Source: name}
		s.publishLocked()
	}
}

// stopped records that the source called name returned with err: its last snapshot, if it had
// one, is kept as stale; either way it carries a registries.Stopped diagnostic.
func (s *snapshotSet) stopped(name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := registries.Stopped(name, err)
	if last, ok := s.snaps[name]; ok && last.Synced {
		s.snaps[name] = registries.UnreachableSnapshot(name, &last, d)
	} else {
		s.snaps[name] = registries.UnreachableSnapshot(name, nil, d)
	}
	s.publishLocked()
}

func (s *snapshotSet) publishLocked() {
	all := slices.Collect(maps.Values(s.snaps))
	slices.SortFunc(all, func(a, b registries.Snapshot) int { return cmp.Compare(a.Source, b.Source) })
	s.out.Publish(all)
}

// supervisor runs one goroutine per configured registry and replaces the ones whose
// configuration changed.
type supervisor struct {
	log     *slog.Logger
	set     *snapshotSet
	running map[string]*runningSource
	wg      sync.WaitGroup
	// metrics, when set, receive every snapshot and each source's activity.
	metrics *telemetry.RegistryMetrics
}

type runningSource struct {
	cfg    config.RegistryConfig
	cancel context.CancelFunc
	done   chan struct{}
}

func newSupervisor(log *slog.Logger, set *snapshotSet) *supervisor {
	return &supervisor{log: log, set: set, running: map[string]*runningSource{}}
}

// apply starts, stops and restarts sources so that exactly the configured ones run.
func (s *supervisor) apply(ctx context.Context, regs []config.RegistryConfig) error {
	want := map[string]config.RegistryConfig{}
	for _, rc := range regs {
		want[rc.Name] = rc
	}
	for name, r := range s.running {
		if rc, ok := want[name]; !ok || !sameSource(rc, r.cfg) {
			r.cancel()
			<-r.done
			delete(s.running, name)
			if !ok {
				s.set.remove(name)
				s.metrics.Forget(name)
				s.log.Info("registry removed", "registry", name)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if _, ok := s.running[name]; ok {
			continue
		}
		rc := want[name]
		src, err := rc.NewSource(s.log)
		if err != nil {
			return err
		}
		s.set.expect(name)
		s.metrics.Observe(name, telemetry.RegistryState{})
		s.metrics.Track(name, activityOf(src))
		publish := func(snap registries.Snapshot) {
			s.set.set(snap)
			s.metrics.Observe(name, registryState(snap))
		}
		sctx, cancel := context.WithCancel(ctx)
		r := &runningSource{cfg: rc, cancel: cancel, done: make(chan struct{})}
		s.running[name] = r
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer close(r.done)
			s.log.Info("registry started", "registry", name, "type", rc.Type)
			if err := src.Run(sctx, publish); err != nil && sctx.Err() == nil {
				s.log.Error("registry stopped", "registry", name, "err", err)
				s.set.stopped(name, err)
			}
		}()
	}
	return nil
}

// sameSource reports whether two configurations of a registry run the same source: they differ
// at most in what the merge applies (serviceRetention), which needs no reconnect.
func sameSource(a, b config.RegistryConfig) bool {
	a.ServiceRetention, b.ServiceRetention = nil, nil
	return reflect.DeepEqual(a, b)
}

// wait blocks until every source has returned (after ctx ended).
func (s *supervisor) wait() { s.wg.Wait() }

// collect runs the configured sources until each has completed its first listing or timeout
// passes, reporting progress (the snapshots so far, at every change and every second), and
// returns their snapshots. It is what one-shot commands use.
func collect(ctx context.Context, log *slog.Logger, cfg *config.Config, timeout time.Duration,
	progress func([]registries.Snapshot)) ([]registries.Snapshot, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	set := newSnapshotSet()
	sup := newSupervisor(log, set)
	defer sup.wait()
	defer cancel()
	if err := sup.apply(ctx, cfg.Registries); err != nil {
		return nil, err
	}
	deadline := time.After(timeout)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var seq uint64
	for {
		snaps, s := set.out.Latest()
		seq = s
		pending := pendingSources(snaps)
		if progress != nil {
			progress(snaps)
		}
		if len(pending) == 0 {
			return snaps, nil
		}
		select {
		case <-set.out.Changed(seq):
		case <-tick.C:
		case <-deadline:
			log.Warn("registries did not finish their first listing in time; using what they have", "pending", pending, "timeout", timeout)
			return snaps, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func pendingSources(snaps []registries.Snapshot) []string {
	var out []string
	for _, s := range snaps {
		if !s.Synced {
			out = append(out, s.Source)
		}
	}
	return out
}
