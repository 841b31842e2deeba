// Package nacos is the kvstore backend on the Nacos 2.x config service, through the official
// SDK (github.com/nacos-group/nacos-sdk-go/v2) over Nacos's gRPC API.
//
// Nacos has no listing by prefix over gRPC and no compare-and-set across configurations, so
// the store keeps one index document, <root>.index in Config.Group, with every key's head
// (revision, size, checksum, and the value itself up to 1 KiB) and the registry of chunked
// writes; every write is a compare-and-set of that document (PublishConfig with casMd5, the
// MD5 of the index as read). The index's own revision counter gives every write its
// revision. A lost index compare-and-set on another key is retried inside the store; one whose
// key changed is a *kvstore.ConflictError.
//
// Larger values are compressed and chunked into <root>.chunk.<write>.<i> configurations (base64,
// since Nacos content is text), written after their write is registered in the index and before
// the head that names them, so a writer that crashes leaves a registered write that the next
// writer deletes after layout.OrphanGrace; chunks of replaced values are deleted right away.
//
// Watches listen to the index (ListenConfig; the SDK delivers the new content after Nacos
// pushes a change), read it again every Config.Resync (which is also how an outage shows), and
// read a value's chunks only when its revision changed.
//
// Two SDK behaviours shape the store: the SDK allows 5 queries per second per configuration
// in a process (a query over the limit fails with "ConfigQueryRequest is limited"; the store
// waits and retries), and a new ListenConfig takes effect at the SDK's next 5-second listen
// round.
package nacos

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/rpcbridge/rpcbridge/internal/nacossdk"
	"github.com/rpcbridge/rpcbridge/kvstore"
)

const (
	backend = "nacos"
	stage   = "store/nacos"
	// inlineMax keeps the index small: it is read on every change.
	inlineMax = 1 << 10
	// limitedRetry is how long to wait when the SDK's query limiter refuses a query.
	limitedRetry = 200 * time.Millisecond
	// parallel is how many chunks of a value are read or written at a time.
	parallel = 4
)

// Store is a kvstore.Store on the Nacos config service.
type Store struct {
	cfg     Config
	log     *slog.Logger
	client  config_client.IConfigClient
	release func()   // the SDK logger's route
	tmpDirs []string // removed by Close
	closing context.Context
	close   context.CancelFunc
	once    sync.Once
	feed    feed
}

var _ kvstore.Store = (*Store)(nil)

// Open checks cfg, reads the credentials and creates the SDK's config client (which connects
// in the background).
func Open(cfg Config, logger *slog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{cfg: cfg, log: logger.With("store", backend)}
	cc := constant.ClientConfig{NamespaceId: cfg.Namespace, TimeoutMs: uint64(cfg.RequestTimeout.Std().Milliseconds()),
		NotLoadCacheAtStart: true, DisableUseSnapShot: true, CacheDir: cfg.CacheDir, LogDir: cfg.LogDir}
	var err error
	if cc.Username, err = cfg.Username.Read(); err != nil {
		return nil, fmt.Errorf("nacos store: username: %w", err)
	}
	if cc.Password, err = cfg.Password.Read(); err != nil {
		return nil, fmt.Errorf("nacos store: password: %w", err)
	}
	for _, d := range []*string{&cc.CacheDir, &cc.LogDir} {
		if *d == "" {
			if *d, err = os.MkdirTemp("", "rpcbridge-nacos-store-"); err != nil {
				s.removeTemp()
				return nil, fmt.Errorf("nacos store: %w", err)
			}
			s.tmpDirs = append(s.tmpDirs, *d)
		}
	}
	var servers []constant.ServerConfig
	for _, addr := range cfg.Servers {
		sc, _ := serverConfig(addr) // checked by Validate
		servers = append(servers, sc)
	}
	s.release = nacossdk.InstallLogger(s.log)
	s.client, err = clients.NewConfigClient(vo.NacosClientParam{ClientConfig: &cc, ServerConfigs: servers})
	if err != nil {
		s.release()
		s.removeTemp()
		return nil, fmt.Errorf("nacos store: %w", err)
	}
	s.closing, s.close = context.WithCancel(context.Background())
	s.feed.subs = map[chan struct{}]bool{}
	return s, nil
}

// Close ends the store's watches and closes the SDK client.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.close()
		nacossdk.CloseClient(s.client)
		s.release()
		s.removeTemp()
	})
	return nil
}

func (s *Store) removeTemp() {
	for _, d := range s.tmpDirs {
		_ = os.RemoveAll(d)
	}
}

func (s *Store) indexID() string { return s.cfg.Root + ".index" }
func (s *Store) chunkID(write string, i int) string {
	return fmt.Sprintf("%s.chunk.%s.%d", s.cfg.Root, write, i)
}

// call runs fn, one SDK call, giving up after Config.RequestTimeout or when ctx ends (the SDK's
// calls take no context). fn's result comes back through a channel, so that a call given up
// on writes nothing its caller reads. Its errors become *kvstore.UnavailableError.
func call[T any](s *Store, ctx context.Context, op string, fn func() (T, error)) (T, error) {
	var zero T
	if s.closing.Err() != nil {
		return zero, kvstore.ErrClosed
	}
	unavailable := func(err error) error { return &kvstore.UnavailableError{Backend: backend, Op: op, Err: err} }
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout.Std())
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return r.v, unavailable(r.err)
		}
		return r.v, nil
	case <-ctx.Done():
		return zero, unavailable(ctx.Err())
	case <-s.closing.Done():
		return zero, kvstore.ErrClosed
	}
}

// get reads a configuration's content ("" when it does not exist), waiting out the SDK's query
// limiter.
func (s *Store) get(ctx context.Context, op, dataID string) (string, error) {
	for {
		content, err := call(s, ctx, op, func() (string, error) {
			return s.client.GetConfig(vo.ConfigParam{DataId: dataID, Group: s.cfg.Group})
		})
		if err == nil || !strings.Contains(err.Error(), "is limited") {
			return content, err
		}
		select {
		case <-ctx.Done():
			return "", err
		case <-time.After(limitedRetry):
		}
	}
}

// errCASFailed says that a compare-and-set publish lost.
var errCASFailed = errors.New("the index changed")

// publish stores content under dataID. With cas, it succeeds only if the configuration's content
// is still prev ("" meaning absent), and fails with errCASFailed otherwise.
func (s *Store) publish(ctx context.Context, op, dataID, content string, cas bool, prev string) error {
	p := vo.ConfigParam{DataId: dataID, Group: s.cfg.Group, Content: content}
	if cas {
		// Nacos inserts an absent configuration whatever the casMd5 (insertOrUpdateCas), and
		// its unique key makes one of two inserts fail: the MD5 of "" stands for "absent".
		p.CasMd5 = md5Hex(prev)
	}
	_, err := call(s, ctx, op, func() (struct{}, error) {
		ok, err := s.client.PublishConfig(p)
		if err != nil && strings.Contains(err.Error(), "Cas publish fail") {
			return struct{}{}, errCASFailed
		}
		if err == nil && !ok {
			err = errors.New("publish refused")
		}
		return struct{}{}, err
	})
	if errors.Is(err, errCASFailed) {
		return errCASFailed
	}
	if err != nil && cas {
		// Another failure may still be a lost race (two inserts of an absent index: the
		// database's unique key refuses one, with a message of its own): look.
		if now, gerr := s.get(ctx, op, dataID); gerr == nil && now != prev {
			return errCASFailed
		}
	}
	return err
}

// remove deletes a configuration.
func (s *Store) remove(ctx context.Context, op, dataID string) error {
	_, err := call(s, ctx, op, func() (bool, error) {
		return s.client.DeleteConfig(vo.ConfigParam{DataId: dataID, Group: s.cfg.Group})
	})
	return err
}

// md5Hex is Nacos's MD5 of a content, the one casMd5 names.
func md5Hex(content string) string {
	sum := md5.Sum([]byte(content))
	return hex.EncodeToString(sum[:])
}
