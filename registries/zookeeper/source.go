// Package zookeeper is the registry adapter for Dubbo services registered in ZooKeeper.
//
// It reads interface-level registrations (/<root>/<interface>/providers/<URL-encoded provider
// URL>, split into one service per version, group and protocol) and Dubbo 3 application-level
// ones (/services/<app>/<instance> plus /<root>/mapping/<interface>), and method names from
// metadata-center service definitions when providers do not advertise them.
//
// go-zookeeper has only one-shot watches, so the source re-arms a watch on every node it reads
// (exactly one per node), lets bursts settle for Config.Debounce, re-reads only the nodes whose
// watch fired, and publishes the full state. Everything is listed again on every new ZooKeeper
// session (after a reconnect or an expiry) and every Config.ResyncInterval. While ZooKeeper
// cannot be reached, the last known services are published with Stale set, and a
// registries.Unreachable diagnostic says why (before the first listing, on a pending snapshot).
package zookeeper

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/internal/backoff"
	"github.com/rpcbridge/rpcbridge/internal/zkwatch"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
)

// retryDelay is how long to wait before listing again after a pass failed.
const retryDelay = time.Second

// Source watches the Dubbo services of one ZooKeeper ensemble. It implements registries.Source.
type Source struct {
	name   string
	stage  string
	cfg    Config
	digest string // "user:password" of digest auth, "" without
	logger *slog.Logger

	// armed counts the watches set; rearmBase is its value when the first pass completed
	// (valid once listed is set); lastSync is the end of the last successful pass (Unix ns).
	armed     atomic.Uint64
	rearmBase atomic.Uint64
	listed    atomic.Bool
	lastSync  atomic.Int64
}

var (
	_ registries.Source           = (*Source)(nil)
	_ registries.ActivityReporter = (*Source)(nil)
)

// New checks cfg, fills its defaults and returns a source named name.
func New(name string, cfg Config, logger *slog.Logger) (*Source, error) {
	if name == "" {
		return nil, fmt.Errorf("zookeeper: registry name is empty")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", name, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	digest, err := cfg.Digest.Read()
	if err != nil {
		return nil, fmt.Errorf("registry %s: zookeeper digest: %w", name, err)
	}
	if digest != "" {
		if err := parseDigest(digest); err != nil {
			return nil, fmt.Errorf("registry %s: zookeeper: %s: %w", name, cfg.Digest, err)
		}
	}
	return &Source{name: name, stage: registries.Stage(name), cfg: cfg, digest: digest,
		logger: logger.With("registry", name)}, nil
}

// Name is the registry's name from the configuration.
func (s *Source) Name() string { return s.name }

// Run watches ZooKeeper until ctx ends. See registries.Source. While there is no session,
// it publishes why (the dial or handshake error) as a registries.Unreachable diagnostic: on a
// pending snapshot before the first listing, on the last one, marked stale, after it.
func (s *Source) Run(ctx context.Context, publish func(registries.Snapshot)) error {
	ev := zkwatch.NewEvents()
	cerr := newConnErrors()
	conn, _, err := zk.Connect(s.cfg.Servers, time.Duration(s.cfg.SessionTimeout),
		zk.WithLogger(zkLogger{s.logger, cerr}), zk.WithLogInfo(false), zk.WithEventCallback(ev.Callback),
		zk.WithDialer(cerr.dial))
	if err != nil {
		return fmt.Errorf("registry %s: connect: %w", s.name, err)
	}
	auth := startDigestAuth(ctx, conn, s.digest)
	defer auth.wait()
	defer conn.Close()
	t := tree{conn: conn, events: ev, armed: &s.armed}
	st := newState()
	meta := dubbometa.NewFetcher(s.logger)
	defer meta.Close()
	resync := time.NewTicker(time.Duration(s.cfg.ResyncInterval))
	defer resync.Stop()
	var retry <-chan time.Time
	var last registries.Snapshot
	published := false
	listed := false // a pass succeeded in this run
	stale := false
	shown := "" // the reason of the last unreachable snapshot published
	unreachable := func(reason string) {
		if reason == shown {
			return
		}
		shown = reason
		d := registries.Unreachable(s.name, strings.Join(s.cfg.Servers, ","), reason)
		if !published {
			publish(registries.UnreachableSnapshot(s.name, nil, d))
			s.logger.Warn("zookeeper unreachable", "err", reason)
			return
		}
		if !stale {
			s.logger.Warn("zookeeper unreachable: publishing the last known services as stale", "err", reason)
		}
		stale = true
		publish(registries.UnreachableSnapshot(s.name, &last, d))
	}
	emit := func() {
		st.changed, stale, shown = false, false, ""
		last = st.snapshot(s.name, s.stage, s.cfg.Root)
		published = true
		publish(last)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ev.Wake():
		case <-cerr.Wake(): // a dial or handshake failed for a new reason
		case <-auth.wake: // the digest credential was added
		case <-meta.Wake(): // a MetadataService answered, or a retry is due
		case <-resync.C:
			ev.RequestFull()
		case <-retry:
			retry = nil
			ev.RequestFull()
		}
		// The first listing is not debounced: there is nothing yet to coalesce it with. (While
		// the digest credential is pending the loop polls, so it keeps the debounce then.)
		if (listed || !auth.ok()) && !backoff.Sleep(ctx, time.Duration(s.cfg.Debounce)) {
			return ctx.Err()
		}
		ch, connected := ev.Take()
		answered := meta.Apply(st.appMeta)
		if answered {
			st.changed = true
		}
		if !connected {
			unreachable(cerr.reason()) // a new session brings a full pass
			continue
		}
		cerr.clear()
		if !auth.ok() {
			unreachable(auth.reason())
			ev.RequestFull() // list everything once the credential is added
			continue
		}
		if !ch.Full && len(ch.Paths) == 0 {
			startMetadataFetches(ctx, meta, st)
			if !answered && !st.changed {
				continue
			}
			emit()
			continue
		}
		start := time.Now()
		if err := s.pass(ctx, t, st, ch); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.logger.Warn("zookeeper listing failed; retrying", "err", err)
			unreachable("listing failed: " + err.Error())
			retry = time.After(retryDelay)
			continue
		}
		s.logger.Debug("zookeeper pass done", "full", ch.Full, "paths", len(ch.Paths),
			"changed", st.changed, "took", time.Since(start))
		s.passed()
		listed = true
		startMetadataFetches(ctx, meta, st)
		if !st.changed && published && !stale {
			continue
		}
		emit()
	}
}

// passed records a successful pass: the first one sets the base of the re-arm count.
func (s *Source) passed() {
	if !s.listed.Load() {
		s.rearmBase.Store(s.armed.Load())
		s.listed.Store(true)
	}
	s.lastSync.Store(time.Now().UnixNano())
}

// Activity reports the end of the last successful pass and the watches set since the first.
// See registries.ActivityReporter.
func (s *Source) Activity() registries.Activity {
	var a registries.Activity
	if s.listed.Load() {
		a.WatchRearms = s.armed.Load() - s.rearmBase.Load()
		a.LastSync = time.Unix(0, s.lastSync.Load())
	}
	return a
}
