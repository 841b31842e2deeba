// Package consul is the registry adapter for services registered in HashiCorp Consul.
//
// It follows Consul with blocking queries: one on GET /v1/catalog/services for the list of
// services and one per service on GET /v1/health/service/<name>. The health query is made
// without passing=1 on purpose: every instance is reported, and an instance whose checks are
// critical (or that is in maintenance) is published with Healthy=false, so that consumers can
// eject it instead of just seeing it vanish. Instances in the warning state stay healthy and get
// their warning weight.
//
// Consul has no protocol field. The protocol of an instance is read from the sources of
// Config.Precedence in order: a metadata entry (Config.ProtocolMetaKey), a protocol tag, a
// "grpc" or "http" tagged address, then Config.DefaultProtocol; see detectProtocol. Endpoint
// weights are Consul's passing (or warning) weights as they are, at least 1: rpcbridge weights
// are relative within one service.
//
// Before its first complete listing (the catalog and every listed service read once) the source
// publishes only why it cannot list, when a query fails: a pending snapshot with a
// registries.Unreachable diagnostic carrying the client's error. After it, it publishes a full
// snapshot after every change, debounced by Config.Debounce. While the agent cannot be reached,
// the last known services are published with Stale set and the same diagnostic.
// Consul's own "consul" service is left out.
package consul

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/rpcbridge/rpcbridge/internal/consulwatch"
	"github.com/rpcbridge/rpcbridge/registries"
)

// consulService is the service every Consul server registers for itself.
const consulService = "consul"

// Source watches the services of one Consul datacenter. It implements registries.Source.
type Source struct {
	name    string
	cfg     Config
	token   string // the ACL token read from cfg.Token, "" without
	builder builder
	logger  *slog.Logger
	// activity counts the queries (see Activity).
	activity activity
}

var _ registries.Source = (*Source)(nil)

// New checks cfg, fills its defaults and returns a source named name.
func New(name string, cfg Config, logger *slog.Logger) (*Source, error) {
	if name == "" {
		return nil, errors.New("consul: registry name is empty")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", name, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	token, err := cfg.Token.Read()
	if err != nil {
		return nil, fmt.Errorf("registry %s: consul token: %w", name, err)
	}
	return &Source{
		name:  name,
		cfg:   cfg,
		token: token,
		builder: builder{stage: registries.Stage(name), metaKey: cfg.ProtocolMetaKey,
			precedence: cfg.Precedence, def: cfg.DefaultProtocol},
		logger: logger.With("registry", name),
	}, nil
}

// Name is the registry's name from the configuration.
func (s *Source) Name() string { return s.name }

// watchResult is what one watcher reports to the run loop.
type watchResult struct {
	service string // "" for the catalog
	gen     uint64 // the watcher generation of service, to drop reports of a replaced watcher
	names   []string
	entries []*api.ServiceEntry
	err     error
}

// Run watches Consul until ctx ends. See registries.Source.
func (s *Source) Run(ctx context.Context, publish func(registries.Snapshot)) error {
	client, err := api.NewClient(s.apiConfig())
	if err != nil {
		return fmt.Errorf("registry %s: consul client: %w", s.name, err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	results := make(chan watchResult)
	send := func(ctx context.Context, r watchResult) bool {
		select {
		case results <- r:
			return true
		case <-ctx.Done():
			return false
		}
	}
	wg.Go(func() {
		consulwatch.Loop(ctx, counted(&s.activity, s.catalogQuery(client)), func(names []string, err error) bool {
			return send(ctx, watchResult{names: names, err: err})
		})
	})
	st := newState()
	startWatcher := func(name string, gen uint64) context.CancelFunc {
		wctx, wcancel := context.WithCancel(ctx)
		wg.Go(func() {
			consulwatch.Loop(wctx, counted(&s.activity, s.healthQuery(client, name)), func(entries []*api.ServiceEntry, err error) bool {
				return send(wctx, watchResult{service: name, gen: gen, entries: entries, err: err})
			})
		})
		return wcancel
	}

	var flush <-chan time.Time
	var last registries.Snapshot
	published := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case r := <-results:
			if r.err != nil {
				s.logger.Debug("consul query failed", "service", r.service, "err", r.err)
			}
			if st.apply(r, s.builder, startWatcher) && flush == nil {
				flush = time.After(s.cfg.Debounce.Std())
			}
		case <-flush:
			flush = nil
			if !st.synced() {
				// Not listed yet: say why, once per change of reason.
				if snap, ok := st.pending(s.name, s.cfg.Address); ok && !reflect.DeepEqual(snap, last) {
					s.logger.Warn("consul unreachable", "err", st.failures())
					last = snap
					publish(snap)
				}
				continue
			}
			s.activity.listed.Store(true)
			snap := st.snapshot(s.name, s.cfg.Address)
			if snap.Stale {
				snap.Services = st.keepUnread(snap.Services, last.Services)
			}
			if published && reflect.DeepEqual(snap, last) {
				continue
			}
			if snap.Stale != last.Stale || !published {
				s.logger.Info("consul state", "stale", snap.Stale, "services", len(snap.Services),
					"errors", st.failures())
			}
			last, published = snap, true
			publish(snap)
		}
	}
}

// catalogQuery lists the service names of the catalog, without Consul's own service.
func (s *Source) catalogQuery(client *api.Client) consulwatch.Query[[]string] {
	return func(ctx context.Context, index uint64) ([]string, uint64, error) {
		ctx, cancel := context.WithTimeout(ctx, s.requestTimeout())
		defer cancel()
		services, meta, err := client.Catalog().Services(s.query(ctx, index))
		if err != nil {
			return nil, 0, fmt.Errorf("list services: %w", err)
		}
		delete(services, consulService)
		return slices.Sorted(maps.Keys(services)), meta.LastIndex, nil
	}
}

// healthQuery reads every instance of service name with its checks.
func (s *Source) healthQuery(client *api.Client, name string) consulwatch.Query[[]*api.ServiceEntry] {
	return func(ctx context.Context, index uint64) ([]*api.ServiceEntry, uint64, error) {
		ctx, cancel := context.WithTimeout(ctx, s.requestTimeout())
		defer cancel()
		entries, meta, err := client.Health().Service(name, "", false, s.query(ctx, index))
		if err != nil {
			return nil, 0, fmt.Errorf("read service %s: %w", name, err)
		}
		return entries, meta.LastIndex, nil
	}
}

func (s *Source) query(ctx context.Context, index uint64) *api.QueryOptions {
	q := &api.QueryOptions{Datacenter: s.cfg.Datacenter, WaitIndex: index, WaitTime: s.cfg.Wait.Std()}
	return q.WithContext(ctx)
}

// requestTimeout bounds one request (see consulwatch.RequestTimeout).
func (s *Source) requestTimeout() time.Duration { return consulwatch.RequestTimeout(s.cfg.Wait.Std()) }
