// Package nacos is the registry adapter for services registered in Nacos 2.x, read through the
// official Go SDK (github.com/nacos-group/nacos-sdk-go/v2) over Nacos's gRPC API.
//
// The source keeps one long-lived naming client per configured namespace. It lists the
// services of every configured group page by page, subscribes to each one (pushes then keep
// its instances current), reads each once right after subscribing (the SDK does not call back
// for a service it already has cached), and unsubscribes, with the same *vo.SubscribeParam,
// from services that are no longer listed. Listing is repeated every Config.ResyncInterval.
//
// What the instances become: Dubbo interface-level registrations
// ("providers:<interface>:<version>:<group>", metadata = the provider URL's parameters) are
// Dubbo services (Triple, gRPC or HTTP ones when their "protocol" says so, read with
// registries.ParseProtocol); "consumers:" services are skipped; Dubbo 3 application-level
// instances (metadata "dubbo.metadata.revision", "dubbo.endpoints",
// "dubbo.metadata-service.url-params") become the services their MetadataService lists
// (getMetadataInfo(revision), called through registries/dubbometa off the watch loop, cached
// per revision and retried with backoff), published under their application's name until it
// answers; other services
// speak what their metadata "protocol" says (http when absent). Nacos weights are multiplied
// by 100 (Nacos's default 1.0 gives Dubbo's default 100); the cluster name is the zone.
// Malformed instances are skipped with a diagnostic; they never empty their service.
//
// When the server cannot be reached, the last known services are published with Stale set;
// once it is back, everything is listed again and the SDK re-subscribes on its own.
//
// The SDK's logger is process-global: its lines go to the logger of the most recently started
// source that still runs, and are dropped when none does (see internal/nacossdk).
package nacos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/rpcbridge/rpcbridge/internal/nacossdk"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
)

// Timings of the watch loop.
const (
	// retryDelay is how long to wait before listing again after a listing failed.
	retryDelay = time.Second
	// healthInterval is how often the SDK's connection state is checked.
	healthInterval = time.Second
	// debounce lets a burst of pushes settle before the state is published.
	debounce = 100 * time.Millisecond
	// requestTimeout bounds one request to Nacos.
	requestTimeout = 5 * time.Second
)

// Source watches the services of one Nacos server set. It implements registries.Source.
type Source struct {
	name  string
	stage string
	cfg   Config
	// username and password are read from cfg's references at New ("" without auth).
	username, password string
	base               *slog.Logger
	logger             *slog.Logger
}

var _ registries.Source = (*Source)(nil)

// New checks cfg, fills its defaults and returns a source named name.
func New(name string, cfg Config, logger *slog.Logger) (*Source, error) {
	if name == "" {
		return nil, errors.New("nacos: registry name is empty")
	}
	cfg, err := cfg.withDefaults(name)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", name, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	username, err := cfg.Username.Read()
	if err != nil {
		return nil, fmt.Errorf("registry %s: nacos username: %w", name, err)
	}
	password, err := cfg.Password.Read()
	if err != nil {
		return nil, fmt.Errorf("registry %s: nacos password: %w", name, err)
	}
	return &Source{name: name, stage: registries.Stage(name), cfg: cfg, base: logger,
		username: username, password: password, logger: logger.With("registry", name)}, nil
}

// Name is the registry's name from the configuration.
func (s *Source) Name() string { return s.name }

// namespaceClient is the naming client of one namespace.
type namespaceClient struct {
	namespace string
	client    naming_client.INamingClient
}

// Run watches Nacos until ctx ends. See registries.Source.
func (s *Source) Run(ctx context.Context, publish func(registries.Snapshot)) error {
	defer nacossdk.InstallLogger(s.base)() // released after the clients below are closed
	ncs, err := s.connect()
	defer func() {
		for _, nc := range ncs {
			nacossdk.CloseClient(nc.client)
		}
	}()
	if err != nil {
		return err
	}
	st := newStore()
	fetcher := dubbometa.NewFetcher(s.logger)
	defer fetcher.Close()
	meta := dubbometa.Cache{}
	health := make(chan bool, 1)
	go watchHealth(ctx, ncs, health)
	resync := time.NewTicker(s.cfg.ResyncInterval.Std())
	defer resync.Stop()

	var (
		retry, flush    <-chan time.Time
		needPass        = true
		synced, stale   bool
		failure         string // why the server cannot be used, while stale
		last            registries.Snapshot
		publishedBefore bool
	)
	servers := strings.Join(s.cfg.Servers, ",")
	emit := func() {
		if !synced {
			// Never listed: a pending snapshot that says why, once per reason.
			if failure != "" {
				snap := registries.UnreachableSnapshot(s.name, nil, registries.Unreachable(s.name, servers, failure))
				if !reflect.DeepEqual(snap, last) {
					last = snap
					publish(snap)
				}
			}
			return
		}
		entries := st.entries()
		fetcher.Start(ctx, meta, applicationInstances(entries))
		services, diags := buildServices(s.stage, entries, meta)
		snap := registries.Snapshot{Source: s.name, Services: services, Synced: true, Diagnostics: diags}
		if snap.Services == nil {
			snap.Services = []registries.Service{}
		}
		if stale {
			snap = registries.UnreachableSnapshot(s.name, &snap, registries.Unreachable(s.name, servers, failure))
		}
		if publishedBefore && reflect.DeepEqual(snap, last) {
			return
		}
		last, publishedBefore = snap, true
		publish(snap)
	}
	for {
		if needPass {
			needPass = false
			if err := s.pass(ctx, ncs, st); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s.logger.Warn("nacos listing failed; publishing the last known services as stale and retrying", "err", err)
				stale, failure = true, "listing failed: "+err.Error()
				emit()
				retry = time.After(retryDelay)
			} else {
				synced, stale, failure = true, false, ""
				emit()
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-resync.C:
			needPass = true
		case <-retry:
			retry = nil
			needPass = true
		case <-st.wake:
			if flush == nil {
				flush = time.After(debounce)
			}
		case <-flush:
			flush = nil
			emit()
		case <-fetcher.Wake(): // a MetadataService answered, or a retry is due
			fetcher.Apply(meta)
			emit()
		case healthy := <-health:
			switch {
			case !healthy && !stale:
				s.logger.Warn("nacos unreachable: publishing the last known services as stale")
				stale, failure = true, "the connection to the Nacos server is down"
				emit()
			case healthy && stale && retry == nil:
				needPass = true
			}
		}
	}
}

// connect creates the naming client of every namespace.
func (s *Source) connect() ([]namespaceClient, error) {
	var servers []constant.ServerConfig
	for _, addr := range s.cfg.Servers {
		sc, err := parseServer(addr)
		if err != nil {
			return nil, fmt.Errorf("registry %s: %w", s.name, err)
		}
		servers = append(servers, sc)
	}
	var ncs []namespaceClient
	for _, ns := range s.cfg.Namespaces {
		c, err := clients.NewNamingClient(vo.NacosClientParam{
			ClientConfig: &constant.ClientConfig{
				NamespaceId:          ns,
				TimeoutMs:            uint64(requestTimeout.Milliseconds()),
				CacheDir:             s.cfg.CacheDir,
				LogDir:               s.cfg.LogDir,
				NotLoadCacheAtStart:  true,
				UpdateCacheWhenEmpty: true,
				Username:             s.username,
				Password:             s.password,
			},
			ServerConfigs: servers,
		})
		if err != nil {
			return ncs, fmt.Errorf("registry %s: naming client for namespace %q: %w", s.name, namespaceLabel(ns), err)
		}
		ncs = append(ncs, namespaceClient{namespace: ns, client: c})
	}
	return ncs, nil
}

// watchHealth reports the SDK's view of the server (every namespace's client connected, or
// the server answering its health probe) whenever it changes, and once at the start.
func watchHealth(ctx context.Context, ncs []namespaceClient, out chan<- bool) {
	t := time.NewTicker(healthInterval)
	defer t.Stop()
	first, last := true, false
	for {
		healthy := true
		for _, nc := range ncs {
			if !nc.client.ServerHealthy() {
				healthy = false
				break
			}
		}
		if first || healthy != last {
			select {
			case out <- healthy:
				first, last = false, healthy
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
