// Package zookeeper is the kvstore backend on a ZooKeeper ensemble, through
// github.com/go-zookeeper/zk.
//
// Layout under Config.Root (see docs/store.md):
//
//	<root>/keys/<flat key>    one head node per key ('/' in the key becomes ':')
//	<root>/chunks/<write>.<i> chunk i of a write, for values that do not fit in the head
//
// A key's revision is its head node's modification zxid, which only grows across the whole
// ensemble (also when a key is deleted and created again, where the node version would start
// at 0 again). Compare-and-set maps onto the node version: the head is read, its mzxid
// compared with the caller's revision, and written with the version read, so that any write in
// between fails with ZooKeeper's BadVersion. A create is one multi-op (create the head, set its
// data at version 0) so that the new mzxid comes back with it.
//
// Large values: the chunks are written first, the head last; a reader that finds a chunk
// missing reads the head again (a writer replaced the value and removed the old chunks) and
// reports the value as corrupt only when the head is unchanged. Chunks of a lost
// compare-and-set and of replaced or deleted values are removed by their writer; chunks of a
// writer that crashed are removed by the next client that writes, once they are older than
// layout.OrphanGrace.
//
// Watches: each Watch runs its own session, arms one children watch on <root>/keys and one
// data watch per head it read (the bookkeeping of internal/zkwatch, as go-zookeeper's watches
// are one-shot), reads again only the heads whose watch fired, and reads everything again on a
// new session and every Config.Resync.
package zookeeper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/internal/zkwatch"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/internal/layout"
)

const (
	backend = "zookeeper"
	stage   = "store/zookeeper"
)

// Store is a kvstore.Store on ZooKeeper.
type Store struct {
	cfg     Config
	log     *slog.Logger
	digest  string // "user:password", or ""
	acl     []zk.ACL
	main    *session // Get, List, Put, Delete
	closing context.Context
	close   context.CancelFunc

	closeOnce sync.Once
	sweepMu   sync.Mutex
	lastSweep time.Time
}

var _ kvstore.Store = (*Store)(nil)

// Open checks cfg, reads the digest credential and connects. It does not wait for ZooKeeper:
// requests fail with kvstore.ErrUnavailable until a session is established.
func Open(cfg Config, logger *slog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{cfg: cfg, log: logger.With("store", backend), acl: zk.WorldACL(zk.PermAll)}
	if !cfg.Digest.IsZero() {
		d, err := cfg.Digest.Read()
		if err != nil {
			return nil, fmt.Errorf("zookeeper store: digest: %w", err)
		}
		user, password, ok := strings.Cut(d, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("zookeeper store: the digest in %s is not user:password", cfg.Digest)
		}
		s.digest, s.acl = d, zk.DigestACL(zk.PermAll, user, password)
	}
	s.closing, s.close = context.WithCancel(context.Background())
	main, err := s.connect()
	if err != nil {
		return nil, err
	}
	s.main = main
	return s, nil
}

// Close ends the store's watches and sessions.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.close()
		s.main.close()
	})
	return nil
}

func (s *Store) keysDir() string            { return s.cfg.Root + "/keys" }
func (s *Store) chunksDir() string          { return s.cfg.Root + "/chunks" }
func (s *Store) headPath(key string) string { return s.keysDir() + "/" + layout.FlatKey(key) }
func (s *Store) chunkPath(write string, i int) string {
	return s.chunksDir() + "/" + layout.ChunkName(write, i)
}

// session is one ZooKeeper connection with its event collector.
type session struct {
	conn   *zk.Conn
	events *zkwatch.Events
	authed chan struct{} // closed once the digest is added (at once without one)
	stop   chan struct{}
	wg     sync.WaitGroup

	mu sync.Mutex
	up chan struct{} // closed while the session is established
}

// connect opens a session. With a digest, a goroutine adds it as soon as the session is up
// (go-zookeeper sends it again on every reconnect); requests wait for it.
func (s *Store) connect() (*session, error) {
	ss := &session{events: zkwatch.NewEvents(), authed: make(chan struct{}), stop: make(chan struct{}),
		up: make(chan struct{})}
	conn, _, err := zk.Connect(s.cfg.Servers, s.cfg.SessionTimeout.Std(), zk.WithLogger(zkLogger{s.log}),
		zk.WithLogInfo(false), zk.WithEventCallback(ss.callback))
	if err != nil {
		return nil, fmt.Errorf("zookeeper store: connect: %w", err)
	}
	ss.conn = conn
	if s.digest == "" {
		close(ss.authed)
		return ss, nil
	}
	ss.wg.Go(func() {
		for {
			err := conn.AddAuth("digest", []byte(s.digest))
			if err == nil {
				close(ss.authed)
				return
			}
			s.log.Debug("zookeeper digest auth failed; retrying", "err", err)
			select {
			case <-ss.stop:
				return
			case <-time.After(time.Second):
			}
		}
	})
	return ss, nil
}

// callback records the connection's events for watches and tracks whether the session is up.
func (ss *session) callback(ev zk.Event) {
	ss.events.Callback(ev)
	if ev.Type != zk.EventSession {
		return
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	select {
	case <-ss.up:
		if ev.State != zk.StateHasSession {
			ss.up = make(chan struct{})
		}
	default:
		if ev.State == zk.StateHasSession {
			close(ss.up)
		}
	}
}

// established returns a channel that is closed while the session is up.
func (ss *session) established() <-chan struct{} {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.up
}

func (ss *session) close() {
	close(ss.stop)
	ss.conn.Close()
	ss.wg.Wait()
}

// call runs fn, one or a few ZooKeeper requests, once the session is up, and gives up after
// Config.RequestTimeout or when ctx ends. It does not hand go-zookeeper a request while the
// session is down: the request would wait in its queue for the next connection, and a write
// could then apply long after its caller gave up. Connection-level failures become a
// *kvstore.UnavailableError; ZooKeeper's answers (ErrNoNode, ErrBadVersion, ...) are returned
// as they are for the caller to interpret.
func (s *Store) call(ctx context.Context, ss *session, op string, fn func() error) error {
	if s.closing.Err() != nil {
		return kvstore.ErrClosed
	}
	unavailable := func(err error) error { return &kvstore.UnavailableError{Backend: backend, Op: op, Err: err} }
	timeout := time.NewTimer(s.cfg.RequestTimeout.Std())
	defer timeout.Stop()
	for _, wait := range []struct {
		ch   <-chan struct{}
		what string
	}{{ss.established(), "no ZooKeeper session"}, {ss.authed, "digest authentication did not complete"}} {
		select {
		case <-wait.ch:
		case <-ctx.Done():
			return unavailable(ctx.Err())
		case <-s.closing.Done():
			return kvstore.ErrClosed
		case <-timeout.C:
			return unavailable(fmt.Errorf("%s within %s (state %s)", wait.what, s.cfg.RequestTimeout.Std(), ss.conn.State()))
		}
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		if transient(err) {
			return unavailable(err)
		}
		return err
	case <-ctx.Done():
		return unavailable(ctx.Err())
	case <-timeout.C:
		return unavailable(fmt.Errorf("no answer within %s", s.cfg.RequestTimeout.Std()))
	}
}

// transient reports errors of the connection rather than answers about nodes. A missing
// permission (ErrNoAuth) counts: the store cannot serve until an operator fixes the ACL or the
// credential.
func transient(err error) bool {
	for _, e := range []error{zk.ErrNoServer, zk.ErrConnectionClosed, zk.ErrSessionExpired, zk.ErrSessionMoved,
		zk.ErrClosing, zk.ErrNoAuth, zk.ErrAuthFailed, zk.ErrUnknown, zk.ErrAPIError} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// ensure creates path and its missing parents as persistent nodes with the store's ACL.
func (s *Store) ensure(conn *zk.Conn, p string) error {
	if _, err := conn.Create(p, nil, 0, s.acl); err == nil || errors.Is(err, zk.ErrNodeExists) {
		return nil
	} else if !errors.Is(err, zk.ErrNoNode) {
		return err
	}
	if err := s.ensure(conn, path.Dir(p)); err != nil {
		return err
	}
	if _, err := conn.Create(p, nil, 0, s.acl); err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return err
	}
	return nil
}

// zkLogger routes go-zookeeper's log lines to slog at debug level.
type zkLogger struct{ log *slog.Logger }

// Printf implements zk.Logger.
func (l zkLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "component", "go-zookeeper")
}
