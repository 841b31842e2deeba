package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/admin/livestats"
	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/store"
	"github.com/rpcbridge/rpcbridge/idl/upload"
	"github.com/rpcbridge/rpcbridge/internal/bus"
	"github.com/rpcbridge/rpcbridge/jwks"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

func newServeCommand(logger func() (*slog.Logger, error)) *cobra.Command {
	var file, flavor string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Watch the registries, serve xDS, and run the embedded gateway and the admin API",
		Long: `serve runs until SIGINT or SIGTERM. It serves xDS (ADS, state-of-the-world and delta) on
xds.listen, the embedded gateway on gateway.listen and, on admin.listen, the web console at / and
the admin API it uses:
  /healthz, /readyz, /metrics (Prometheus), /api/v1/stats (live figures per route and upstream)
  /api/v1/catalog, /api/v1/routes, /api/v1/diagnostics
  /openapi.json[?service=ID], /api/v1/openapi (the documents: all routes, one per service)
  /api/v1/idl[/NAME] (GET, PUT an upload, DELETE), /api/v1/idl/NAME/versions[/N],
  /api/v1/idl/NAME/diff?from=N[&to=M], POST /api/v1/idl/NAME/rollback {"version": N}
  /api/v1/store (the store's state), /api/v1/rules (GET, PUT, DELETE; with store.rules)
  /api/v1/apikeys[/NAME] (API key sets held hashed in the store: GET, PUT a key file, DELETE)
  /gateway/... (forwarded to the embedded gateway, for Swagger UI's "try it out")
The configuration file is reloaded when it changes or on SIGHUP; an invalid file is reported and
the previous one kept. An IDL upload that does not compile is rejected with file:line:col and the
previous version keeps serving.`,
		Example: `  rpcbridge serve --config rpcbridge.yaml

  # debug logs as JSON, for a log pipeline
  rpcbridge serve -c /etc/rpcbridge/rpcbridge.yaml --log-level debug --log-format json

  # reload after an edit the file watcher cannot see (a config map behind a symlink)
  kill -HUP "$(pidof rpcbridge)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logger()
			if err != nil {
				return err
			}
			cfg, err := config.Load(file)
			if err != nil {
				return err
			}
			if err := applyFlavor(cfg, flavor); err != nil {
				return err
			}
			return serve(cmd.Context(), log, file, cfg, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "rpcbridge.yaml", "configuration file")
	flavorFlag(cmd, &flavor)
	return cmd
}

// server is one running rpcbridge.
type server struct {
	log      *slog.Logger
	file     string
	start    *config.Config
	cfg      *bus.Topic[*config.Config]
	snaps    *snapshotSet
	clock    *bus.Topic[time.Time]
	memory   bridge.Memory // what the last merge remembered; only compileStep uses it
	compiled *bus.Topic[compiled]
	catalogs *bus.Topic[bridge.Catalog]
	schemas  []*bus.Topic[[]idl.Schema]
	store    *store.Store
	kv       kvstore.Store            // the store section's kvstore, nil when nothing uses one (store.go)
	rules    *bus.Topic[rulesState]   // the store's rules (store.rules), nil when off
	apiKeys  *bus.Topic[apiKeysState] // the store's API key sets (apikeys.go), nil without a kvstore
	keys     *bus.Topic[jwks.Sets]    // the JWT policies' key sets (keysets.go)
	xds      *controlplane.Server
	gateway  *dataplane.Gateway
	// gatewayTLS is the try-it forward's client of the gateway listener under gateway.tls.
	gatewayTLS *tls.Config
	pushed     atomic.Bool
	metrics    *prometheus.Registry
	stats      *livestats.Sampler
}

// serve runs everything until ctx ends. stdout and stderr are where an access log configured
// so writes.
func serve(ctx context.Context, log *slog.Logger, file string, cfg *config.Config, stdout, stderr io.Writer) (err error) {
	reg := newProcessRegistry()
	s := &server{
		log:      log,
		file:     file,
		start:    cfg,
		cfg:      bus.NewTopic(func(a, b *config.Config) bool { return reflect.DeepEqual(a, b) }),
		snaps:    newSnapshotSet(),
		clock:    newClock(),
		compiled: bus.NewTopic(func(a, b compiled) bool { return reflect.DeepEqual(a, b) }),
		catalogs: bus.NewTopic(func(a, b bridge.Catalog) bool { return reflect.DeepEqual(a, b) }),
		keys:     newKeySetTopic(),
		metrics:  reg,
	}
	s.cfg.Publish(cfg)
	if s.stats, err = newStats(reg); err != nil {
		return err
	}
	var closeStore func()
	if s.store, s.kv, closeStore, err = openIDLStore(ctx, cfg, log); err != nil {
		return fmt.Errorf("open IDL store: %w", err)
	}
	defer closeStore()
	registerIDLMetrics(reg, s.store, cfg.Admin.Uploads.StoreQuotaBytes, log)
	registerStoreMetrics(reg, s.store, log)
	sec, err := openAuth(cfg, log)
	if err != nil {
		return err
	}
	tlsCtx, stopTLS := context.WithCancel(ctx)
	defer stopTLS()
	tlsCfg, err := loadServeTLS(tlsCtx, cfg, log)
	if err != nil {
		return err
	}
	s.gatewayTLS = tlsCfg.embeddedGateway
	s.xds = controlplane.NewServer(controlplane.ServerOptions{
		Logger: log, Registerer: reg, Translate: translateOptions(cfg), Flavor: cfg.Envoy.Flavor,
		GRPCOptions: sec.xdsOptions,
		TLS:         tlsCfg.xds, RequireClientCert: tlsCfg.xdsRequireClientCert,
	})

	xdsLis, err := net.Listen("tcp", cfg.XDS.Listen)
	if err != nil {
		return fmt.Errorf("xds listen: %w", err)
	}
	adminLis, err := net.Listen("tcp", cfg.Admin.Listen)
	if err != nil {
		xdsLis.Close()
		return fmt.Errorf("admin listen: %w", err)
	}
	if cfg.Gateway.On() {
		tel, err := openGatewayTelemetry(ctx, cfg, log, stdout, stderr)
		if err != nil {
			xdsLis.Close()
			adminLis.Close()
			return err
		}
		defer tel.close(ctx, log)
		s.gateway = dataplane.New(dataplane.Options{
			XDSServers: []string{xdsLis.Addr().String()}, NodeID: gatewayv1.EmbeddedNodeCluster, NodeCluster: gatewayv1.EmbeddedNodeCluster,
			ListenAddress: cfg.Gateway.Listen, Logger: log, Registerer: reg,
			MaxConnections: cfg.Gateway.Limits.MaxConnections, BufferBudgetBytes: cfg.Gateway.Limits.BufferBudgetBytes,
			AccessLog: tel.accessLog, Tracing: tel.tracing,
			TLS: tlsCfg.gateway, XDSCredentials: embeddedXDSCredentials(tlsCfg, sec.gatewayCreds.PerRPC),
			MCPPath: cfg.Gateway.MCP.Path,
		})
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sup := newSupervisor(log.With("component", "registries"), s.snaps)
	sup.metrics = telemetry.NewRegistryMetrics(reg, log)
	defer sup.wait()
	defer cancel()
	if err := sup.apply(ctx, cfg.Registries); err != nil {
		return err
	}
	cw, err := s.configWatcher()
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	if s.schemas, err = schemaSources(gctx, g, cfg, log, s.store, s.catalogs); err != nil {
		cw.Close()
		cancel()
		_ = g.Wait() // the runners started so far end with ctx
		return err
	}
	keyFiles := policyFiles()
	inputs := []bus.Watchable{s.snaps.out, s.cfg, s.clock, s.keys, keyFiles}
	if cfg.Store.Rules && s.kv != nil {
		s.rules = bus.NewTopic(func(a, b rulesState) bool { return reflect.DeepEqual(a, b) })
		g.Go(func() error { return followRules(gctx, s.kv, s.rules, log.With("component", "rules-store")) })
		inputs = append(inputs, s.rules)
	}
	if s.kv != nil {
		s.apiKeys = bus.NewTopic(func(a, b apiKeysState) bool { return reflect.DeepEqual(a, b) })
		g.Go(func() error { return followAPIKeys(gctx, s.kv, s.apiKeys, log.With("component", apiKeysStage)) })
		inputs = append(inputs, s.apiKeys)
	}
	keyInputs := []bus.Watchable{s.cfg}
	if s.rules != nil {
		keyInputs = append(keyInputs, s.rules)
	}
	g.Go(func() error {
		return followKeySets(gctx, s.keySources, s.keys, log.With("component", "jwks"), keyInputs...)
	})
	for _, t := range s.schemas {
		inputs = append(inputs, t)
	}
	g.Go(func() error { return watchPolicyFiles(gctx, s.policies, keyFiles, policyFilesInterval) })
	g.Go(func() error { return s.xds.Serve(gctx, xdsLis) })
	g.Go(func() error {
		return serveAdmin(gctx, adminLis, sec.adminHandler(s.adminHandler()), cfg.Admin.Limits, tlsCfg.admin, log)
	})
	g.Go(func() error { return bus.RunStage(gctx, s.compileStep, inputs...) })
	g.Go(func() error { return wakeAtExpiry(gctx, s.compiled, s.clock) })
	g.Go(func() error { return s.pushLoop(gctx, time.Duration(cfg.SyncTimeout)) })
	g.Go(func() error { return s.watchConfig(gctx, sup, cw) })
	g.Go(func() error { return s.stats.Run(gctx) })
	if s.gateway != nil {
		g.Go(func() error { return s.gateway.Run(gctx) })
	}
	warnPlaintext(log, plainListener{"xds", cfg.XDS.Listen, tlsCfg.xds != nil}, plainListener{"admin", cfg.Admin.Listen, tlsCfg.admin != nil},
		plainListener{"gateway", gatewayAddr(cfg), tlsCfg.gateway != nil || !cfg.Gateway.On()})
	log.Info("rpcbridge serving", "config", file, "xds", xdsLis.Addr().String(), "admin", adminLis.Addr().String(),
		"gateway", gatewayAddr(cfg), "registries", len(cfg.Registries))
	err = g.Wait()
	log.Info("rpcbridge stopped")
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func gatewayAddr(cfg *config.Config) string {
	if !cfg.Gateway.On() {
		return "off"
	}
	return cfg.Gateway.Listen
}

// keySources are the key-set sources of the policies of the configuration and the store's rules.
func (s *server) keySources() []jwks.Source {
	cfg, _ := s.cfg.Latest()
	if s.rules != nil {
		rules, _ := s.rules.Latest()
		cfg = cfg.WithStoreRules(rules.Rules)
	}
	return jwksSources(cfg)
}

// compileStep recomputes catalog and gateway from the latest snapshots and configuration, and
// what the merge remembers for the next step.
func (s *server) compileStep() {
	snaps, _ := s.snaps.out.Latest()
	cfg, _ := s.cfg.Latest()
	var rules rulesState
	if s.rules != nil {
		rules, _ = s.rules.Latest()
		cfg = cfg.WithStoreRules(rules.Rules)
	}
	var apiKeys apiKeysState
	if s.apiKeys != nil {
		apiKeys, _ = s.apiKeys.Latest()
	}
	var c compiled
	keys, _ := s.keys.Latest()
	c, s.memory = compileAt(snaps, allSchemas(s.schemas), cfg, keySets(keys), apiKeys.Sets, s.memory, time.Now())
	c.Diagnostics = append(c.Diagnostics, s.store.Diagnostics()...)
	c.Diagnostics = append(c.Diagnostics, rules.Diagnostics...)
	c.Diagnostics = append(c.Diagnostics, apiKeys.Diagnostics...)
	s.catalogs.Publish(c.Catalog)
	s.compiled.Publish(c)
}

// adminHandler serves the admin API over the server's state.
func (s *server) adminHandler() http.Handler {
	return admin.Handler(admin.Options{
		State: func() admin.State {
			c, _ := s.compiled.Latest()
			return admin.State{Catalog: c.Catalog, Gateway: c.Gateway, Diagnostics: c.Diagnostics}
		},
		Ready:                s.ready,
		Metrics:              promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{}),
		Store:                s.store,
		Limits:               uploadLimits(s.start.Admin.Uploads),
		OpenAPI:              openAPIFor(s.start),
		MaxConcurrentUploads: s.start.Admin.Uploads.MaxConcurrent,
		Stats:                s.stats,
		Gateway:              s.gatewayAddr(),
		GatewayTLS:           s.gatewayTLS,
		Rules:                rulesOptions(s.start, s.kv),
		APIKeys:              apiKeysOptions(s.kv),
		StoreStatus:          s.store.Status,
		Logger:               s.log.With("component", "admin"),
	})
}

// gatewayAddr returns a function giving the embedded gateway's listen address ("" while it
// does not listen), or nil when the gateway is off, which turns off the admin API's forward.
func (s *server) gatewayAddr() func() string {
	if s.gateway == nil {
		return nil
	}
	return func() string {
		if a := s.gateway.Addr(); a != nil {
			return a.String()
		}
		return ""
	}
}

// newStats samples the gateway's request-duration histogram for the admin API's live figures.
func newStats(reg *prometheus.Registry) (*livestats.Sampler, error) {
	l := telemetry.RequestDurationLabels
	return livestats.New(livestats.Options{
		Gatherer: reg, Metric: telemetry.RequestDurationMetric,
		RouteLabel: l.Route, ClusterLabel: l.Cluster, StatusClassLabel: l.StatusClass,
	})
}

// uploadLimits maps admin.uploads onto the unpacker's limits; zero fields keep its defaults.
func uploadLimits(u config.UploadsConfig) upload.Limits {
	return upload.Limits{MaxUploadBytes: u.MaxBytes, MaxTotalBytes: u.MaxUnpackedBytes, MaxFiles: u.MaxFiles}.WithDefaults()
}

// pushLoop serves every new gateway over xDS. The first push waits until every registry has
// completed its first listing, or until syncTimeout, then names the ones that did not.
func (s *server) pushLoop(ctx context.Context, syncTimeout time.Duration) error {
	deadline := time.NewTimer(syncTimeout)
	defer deadline.Stop()
	timedOut := false
	var seq uint64
	var lastDiags []string
	for {
		select {
		case <-s.compiled.Changed(seq):
		case <-deadline.C:
			timedOut = true
		case <-ctx.Done():
			return ctx.Err()
		}
		c, cur := s.compiled.Latest()
		if cur == 0 {
			continue
		}
		seq = cur
		if !s.pushed.Load() && len(c.Catalog.Pending) > 0 {
			if !timedOut {
				s.log.Info("waiting for registries before the first xDS push", "pending", c.Catalog.Pending, "timeout", syncTimeout)
				continue
			}
			s.log.Warn("registries did not finish their first listing in time; serving what is known", "pending", c.Catalog.Pending)
		}
		lastDiags = s.logDiagnostics(c, lastDiags)
		if err := s.xds.Update(c.Gateway); err != nil {
			s.log.Error("translation failed; keeping the last good configuration", "err", err)
			continue
		}
		if !s.pushed.Swap(true) {
			s.log.Info("first configuration served", "services", len(c.Catalog.Services), "routes", len(c.Gateway.Routes))
		}
	}
}

// logDiagnostics logs the diagnostics that are new since the last push.
func (s *server) logDiagnostics(c compiled, last []string) []string {
	seen := map[string]bool{}
	for _, d := range last {
		seen[d] = true
	}
	now := make([]string, 0, len(c.Diagnostics))
	for _, d := range c.Diagnostics {
		line := d.String()
		now = append(now, line)
		if !seen[line] {
			s.log.Warn("diagnostic", "severity", d.Severity, "code", d.Code, "stage", d.Stage, "subject", d.Subject, "message", d.Message)
		}
	}
	return now
}

// ready reports whether the first configuration was served and the gateway has it.
func (s *server) ready() (bool, string) {
	if !s.pushed.Load() {
		return false, "waiting for the first configuration"
	}
	if s.gateway != nil {
		if ready, reason := s.gateway.Readiness(); !ready {
			return false, "embedded gateway: " + reason
		}
	}
	return true, "ready"
}

// restartOnly lists settings that a reload cannot change.
func restartOnly(old, cur *config.Config) []string {
	var out []string
	if old.XDS.Listen != cur.XDS.Listen {
		out = append(out, "xds.listen")
	}
	if old.Gateway.Listen != cur.Gateway.Listen || old.Gateway.On() != cur.Gateway.On() || !reflect.DeepEqual(old.Gateway.Limits, cur.Gateway.Limits) {
		out = append(out, "gateway")
	}
	if !reflect.DeepEqual(old.Gateway.AccessLog, cur.Gateway.AccessLog) {
		out = append(out, "gateway.accessLog")
	}
	if !reflect.DeepEqual(old.Telemetry, cur.Telemetry) {
		out = append(out, "telemetry")
	}
	if !reflect.DeepEqual(old.XDS.TLS, cur.XDS.TLS) || !reflect.DeepEqual(old.Gateway.TLS, cur.Gateway.TLS) || !reflect.DeepEqual(old.Admin.TLS, cur.Admin.TLS) {
		out = append(out, "tls (the files themselves are reloaded when they change)")
	}
	if old.Admin.Listen != cur.Admin.Listen {
		out = append(out, "admin.listen")
	}
	if !reflect.DeepEqual(old.Admin.Limits, cur.Admin.Limits) {
		out = append(out, "admin.limits")
	}
	if !reflect.DeepEqual(old.Admin.Auth, cur.Admin.Auth) {
		out = append(out, "admin.auth")
	}
	if !reflect.DeepEqual(old.XDS.Auth, cur.XDS.Auth) {
		out = append(out, "xds.auth")
	}
	if !reflect.DeepEqual(old.Envoy, cur.Envoy) {
		out = append(out, "envoy")
	}
	if old.SyncTimeout != cur.SyncTimeout {
		out = append(out, "syncTimeout")
	}
	if !reflect.DeepEqual(old.Discovery, cur.Discovery) {
		out = append(out, "discovery")
	}
	if !reflect.DeepEqual(old.Store, cur.Store) {
		out = append(out, "store")
	}
	if !sharedIDL(old) && !needsKV(old) && needsKV(cur) {
		out = append(out, "policies[].apiKey.keys.store (the store is opened at start)")
	}
	return out
}

func joinOr(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, ", ")
}
