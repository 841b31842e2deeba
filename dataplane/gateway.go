// Package dataplane is rpcbridge's embedded gateway: an xDS client of the control plane (delta
// ADS over gRPC) that proxies HTTP requests according to the listeners, routes, clusters and
// endpoints it receives. It knows only Envoy resources and what rpcbridge's gateway contract
// (api/gateway/v1) adds to them, never registries or the catalog.
//
// A control plane of another version may send what this gateway does not read, such as a
// REST-to-Dubbo route whose gatewayv1.DubboRoute is of a newer contract version. Such a route
// is withheld, not misread: it is logged once, requests that match it are answered 503
// (StatusRouteUnavailable) instead of falling through to a later route, and the rest of the
// configuration is served. A malformed configuration is rejected (NACKed) as before.
//
// Every accepted xDS response rebuilds an immutable routing table (package routetable) that
// is swapped in atomically, so route and endpoint changes apply without a restart; requests
// in flight keep the table they started with.
//
// The same Gateway runs embedded in `rpcbridge serve` (one control plane: its own process) and
// as `rpcbridge gateway` (several control-plane replicas, with failover between them: see
// xdsclient.Client.Run). While no control plane answers, it keeps serving the last
// configuration it accepted; it never empties its routes for want of a control plane.
package dataplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/dataplane/mcptools"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/dataplane/xdsclient"
	"github.com/rpcbridge/rpcbridge/internal/downstream"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// DefaultListenAddress is where a Gateway listens unless Options.ListenAddress says otherwise.
const DefaultListenAddress = ":8080"

// DefaultShutdownTimeout bounds the drain unless Options.ShutdownTimeout says otherwise.
const DefaultShutdownTimeout = 10 * time.Second

// Options configures a Gateway.
type Options struct {
	// XDSServers are the gRPC addresses (host:port) of the control-plane replicas to follow,
	// one at a time, in this order, moving to the next when a stream fails.
	XDSServers []string
	// XDSAddress is a single control plane's address, the form `serve` uses for its own; when
	// XDSServers is set too, it is tried first.
	XDSAddress string
	// XDSCredentials secure the xDS connections (TLS, mTLS, a bearer token); the zero value
	// is plaintext.
	XDSCredentials xdsclient.Credentials
	// TLS serves the listener as HTTPS when set (its certificates, SNI and client
	// verification; NextProtos is set here: h2, then http/1.1); nil serves plaintext.
	TLS *tls.Config
	// NodeID and NodeCluster identify the gateway to the control plane.
	NodeID      string
	NodeCluster string
	// ListenAddress is where the HTTP server listens (default DefaultListenAddress;
	// "127.0.0.1:0" picks a free port, see Addr).
	ListenAddress string
	// ListenerName is the Envoy listener whose routes are served (default
	// gatewayv1.HTTPListener).
	ListenerName string
	// Logger receives the gateway's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the gateway's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// AccessLog receives one JSON line per request; nil logs none.
	AccessLog *telemetry.AccessLog
	// Tracing traces each request and its upstream call; nil traces nothing (a client's
	// traceparent then goes upstream as it came).
	Tracing *telemetry.Tracing
	// ShutdownTimeout bounds the drain when Run's context ends (default
	// DefaultShutdownTimeout): the listener closes at once, requests in flight may finish
	// within it, and the connections still open then are closed.
	ShutdownTimeout time.Duration
	// LocalAddress is appended to X-Forwarded-For for clients connecting over loopback, as
	// Envoy appends its LocalInfo address; unset means the host's first non-loopback IPv4
	// address (127.0.0.1 when it has none), as Envoy finds it.
	LocalAddress netip.Addr
	// MaxConnections bounds the client connections open at once; more are closed as they
	// arrive while the open ones are served (default DefaultMaxConnections, within the
	// open-file limit). The listener's timeouts and buffer limit come over xDS.
	MaxConnections int
	// BufferBudgetBytes bounds the request bodies the transcoders hold at once; a request that
	// does not fit is answered 503 (default DefaultBufferBudgetBytes).
	BufferBudgetBytes int64
	// RandomValue draws the random value that picks a route's weighted cluster (Envoy's
	// per-request random value); it must be safe for concurrent use. Nil means math/rand/v2;
	// tests set a seeded source so that a split's distribution is reproducible.
	RandomValue func() uint64
	// MCPPath, when set, is the path of the listener where the gateway serves its tool routes
	// as Model Context Protocol tools (package mcptools, streamable HTTP); requests to it are
	// not routed. Empty serves no MCP.
	MCPPath string
}

// xdsServers lists the control planes to follow: XDSAddress, then XDSServers, each once.
func (o Options) xdsServers() []string {
	var out []string
	for _, s := range append([]string{o.XDSAddress}, o.XDSServers...) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Gateway is the embedded HTTP gateway. Create it with New, start it with Run.
type Gateway struct {
	opts      Options
	logger    *slog.Logger
	telemetry *telemetry.Gateway
	metrics   *metrics
	xds       *xdsMetrics
	dubbo     *dubboPool
	budget    *downstream.Budget
	front     atomic.Pointer[frontend]

	config   atomic.Pointer[config]
	addr     atomic.Pointer[net.Addr]
	draining atomic.Bool
	// routableSince is when the gateway first held its listener and routes (zero before);
	// warmed is set once, at start, every cluster then known had its endpoints or
	// InitialFetchTimeout had passed since routableSince.
	routableSince atomic.Pointer[time.Time]
	warmed        atomic.Bool
	// mcp serves Options.MCPPath; nil without it.
	mcp *mcptools.Handler
}

// InitialFetchTimeout is how long, at start, the gateway waits for the endpoints of the clusters
// its routes use before it reports ready without them: Envoy's default initial_fetch_timeout
// (config_source.proto: 15 s), after which Envoy finishes the cluster's warming with no hosts.
// Envoy holds its listeners until the initial cluster warm-up; the gateway serves at once but
// reports not ready, so no load balancer sends it traffic that would find clusters empty.
const InitialFetchTimeout = 15 * time.Second

// config is one immutable routing state: a table and the upstreams of its clusters.
type config struct {
	table     *routetable.Table
	upstreams map[string]*upstream
}

// New returns a gateway; nothing runs until Run.
func New(opts Options) *Gateway {
	if opts.ListenAddress == "" {
		opts.ListenAddress = DefaultListenAddress
	}
	if opts.ListenerName == "" {
		opts.ListenerName = gatewayv1.HTTPListener
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if !opts.LocalAddress.IsValid() {
		opts.LocalAddress = hostAddress()
	}
	if opts.BufferBudgetBytes <= 0 {
		opts.BufferBudgetBytes = DefaultBufferBudgetBytes
	}
	if opts.RandomValue == nil {
		opts.RandomValue = rand.Uint64
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "gateway")
	tel := telemetry.NewGateway(telemetry.GatewayOptions{Registerer: opts.Registerer, AccessLog: opts.AccessLog, Tracing: opts.Tracing, Logger: logger})
	g := &Gateway{opts: opts, logger: logger, telemetry: tel, metrics: newMetrics(opts.Registerer, logger),
		xds: newXDSMetrics(opts.Registerer, logger, opts.xdsServers()), dubbo: newDubboPool(),
		budget: downstream.NewBudget(opts.BufferBudgetBytes)}
	if opts.MCPPath != "" {
		g.mcp = mcptools.New(mcptools.Options{Table: g.table, REST: http.HandlerFunc(g.serveHTTP), Logger: logger})
	}
	return g
}

// table is the routing table in effect, nil before the first.
func (g *Gateway) table() *routetable.Table {
	if cfg := g.config.Load(); cfg != nil {
		return cfg.table
	}
	return nil
}

// Run serves HTTP on ListenAddress and follows the control plane until ctx ends, then drains
// (see Options.ShutdownTimeout; Ready is false from its start). It returns nil after a clean
// shutdown, also when the drain had to close connections. Call it once per Gateway.
func (g *Gateway) Run(ctx context.Context) error {
	servers := g.opts.xdsServers()
	if len(servers) == 0 {
		return errors.New("gateway: no xDS address configured")
	}
	inner, err := net.Listen("tcp", g.opts.ListenAddress)
	if err != nil {
		return fmt.Errorf("gateway: listen on %s: %w", g.opts.ListenAddress, err)
	}
	ln := downstream.NewListener(inner, downstream.ListenerOptions{
		MaxConnections: maxConnections(g.opts.MaxConnections, g.logger), Name: "gateway", Logger: g.logger})
	registerDownstreamMetrics(g.opts.Registerer, ln, g.budget, g.logger)
	addr := ln.Addr()
	g.addr.Store(&addr)
	g.logger.Info("gateway listening", "address", addr.String(), "xds", servers, "listener", g.opts.ListenerName,
		"local_address", g.opts.LocalAddress.String())

	server := newFrontend(ln, g.Handler(), downstreamOf(g.config.Load()), g.opts.TLS, g.logger)
	g.front.Store(server)
	client := xdsclient.New(xdsclient.Config{
		Servers:     servers,
		Credentials: g.opts.XDSCredentials,
		Node: &corev3.Node{Id: g.opts.NodeID, Cluster: g.opts.NodeCluster, UserAgentName: "rpcbridge-gateway",
			ClientFeatures: []string{gatewayv1.ClientFeature}},
		WildcardTypes: []string{resource.ListenerType, resource.ClusterType},
		NamedTypes:    []string{resource.RouteType, resource.EndpointType},
		Watcher:       xdsclient.WatcherFunc(g.accept),
		Logger:        g.logger,
		OnResponse: func(r xdsclient.Response) {
			g.telemetry.ObserveXDS(r.TypeURL, r.Err)
			g.xds.observeResponse(r)
		},
		OnConnection: g.xds.observeConnection,
	})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	clientDone := make(chan error, 1)
	go func() { clientDone <- client.Run(ctx) }()
	serveDone := make(chan error, 1)
	go func() { serveDone <- server.serve() }()

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveDone:
		runErr = fmt.Errorf("gateway: serve: %w", err)
	case err := <-clientDone:
		if err != nil {
			runErr = fmt.Errorf("gateway: %w", err)
		}
	}
	cancel()
	g.drain(ctx, server)
	<-clientDone
	if cfg := g.config.Load(); cfg != nil {
		for _, up := range cfg.upstreams {
			up.transport.CloseIdleConnections()
			up.grpc.close()
		}
	}
	_ = g.dubbo.client.Close()
	return runErr
}

// drain stops accepting connections and lets the requests in flight finish within
// ShutdownTimeout, then closes what is still open, as Envoy's drain does when --drain-time-s
// ends. Go's http.Server answers requests in flight on HTTP/1 keep-alive connections with
// "Connection: close" and sends HTTP/2 clients a GOAWAY, so clients move elsewhere.
func (g *Gateway) drain(ctx context.Context, server *frontend) {
	g.draining.Store(true)
	g.logger.Info("gateway draining: listener closed, waiting for requests in flight", "timeout", g.opts.ShutdownTimeout)
	drainCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), g.opts.ShutdownTimeout)
	defer stop()
	if err := server.shutdown(drainCtx); err != nil { // shutdown closes what is still open then
		g.logger.Warn("gateway drain timed out: closing the connections still open", "timeout", g.opts.ShutdownTimeout, "error", err)
	}
}

// Ready reports whether the gateway has received its listener and that listener's routes, and
// is not draining.
func (g *Gateway) Ready() bool {
	ready, _ := g.Readiness()
	return ready
}

// Readiness is Ready with the reason, for a readiness probe. A gateway that lost its control
// plane stays ready: it serves the configuration it holds.
func (g *Gateway) Readiness() (bool, string) {
	if g.draining.Load() {
		return false, "draining"
	}
	cfg := g.config.Load()
	if cfg == nil || !cfg.table.Ready() {
		return false, "waiting for listener " + g.opts.ListenerName + " and its routes from the control plane"
	}
	if !g.warmed.Load() {
		since := g.routableSince.Load()
		if warming := cfg.table.Warming(); len(warming) > 0 && (since == nil || time.Since(*since) < InitialFetchTimeout) {
			return false, fmt.Sprintf("warming %d clusters: waiting for the endpoints of %s", len(warming), strings.Join(firstN(warming, 3), ", "))
		}
		g.warmed.Store(true)
	}
	return true, "ready"
}

// firstN returns the first n items of s (all when shorter), with "..." appended when cut.
func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string(nil), s[:n]...), "...")
}

// Addr returns the HTTP server's address once Run is listening, nil before.
func (g *Gateway) Addr() net.Addr {
	if a := g.addr.Load(); a != nil {
		return *a
	}
	return nil
}

// Handler returns the proxying handler (the one Run serves), for in-process use: the MCP
// endpoint on Options.MCPPath, the routes everywhere else.
func (g *Gateway) Handler() http.Handler {
	if g.mcp == nil {
		return http.HandlerFunc(g.serveHTTP)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == g.opts.MCPPath {
			g.mcp.ServeHTTP(w, r)
			return
		}
		g.serveHTTP(w, r)
	})
}

// logWithheld logs each route the new table withholds, once: when it is withheld for a reason
// the previous table did not have (every xDS update rebuilds the table).
func (g *Gateway) logWithheld(previous, table *routetable.Table) {
	seen := map[routetable.WithheldRoute]bool{}
	if previous != nil {
		for _, w := range previous.Withheld() {
			seen[w] = true
		}
	}
	for _, w := range table.Withheld() {
		if !seen[w] {
			g.logger.Warn("route withheld: this gateway does not read its contract; requests matching it get 503",
				"listener", g.opts.ListenerName, "virtual_host", w.VirtualHost, "route", w.Route, "reason", w.Reason)
		}
	}
}

// accept is the xDS client's Watcher: it builds a routing table from the candidate state and
// installs it, or rejects the state when the table cannot be built.
func (g *Gateway) accept(typeURL string, state xdsclient.State) (xdsclient.Interest, error) {
	old := g.config.Load()
	var previous *routetable.Table
	if old != nil {
		previous = old.table
	}
	table, err := routetable.BuildReusing(routetable.Resources{
		Listeners:    xdsclient.Messages[*listenerv3.Listener](state, resource.ListenerType),
		RouteConfigs: xdsclient.Messages[*routev3.RouteConfiguration](state, resource.RouteType),
		Clusters:     xdsclient.Messages[*clusterv3.Cluster](state, resource.ClusterType),
		Endpoints:    xdsclient.Messages[*endpointv3.ClusterLoadAssignment](state, resource.EndpointType),
	}, g.opts.ListenerName, previous)
	if err != nil {
		return nil, err
	}
	var prev map[string]*upstream
	if old != nil {
		prev = old.upstreams
	}
	upstreams, unused := newUpstreams(table, prev, g.metrics, g.logger)
	wasReady := g.Ready()
	g.config.Store(&config{table: table, upstreams: upstreams})
	if table.Ready() && g.routableSince.Load() == nil {
		now := time.Now()
		g.routableSince.Store(&now)
	}
	if front := g.front.Load(); front != nil {
		front.update(table.Downstream())
	}
	for _, t := range unused {
		t.CloseIdleConnections()
	}
	g.dubbo.retain(table)
	for name, up := range prev {
		if next, ok := upstreams[name]; !ok || next.grpc != up.grpc {
			up.grpc.close()
		}
	}
	g.logWithheld(previous, table)
	g.xds.observeState(state)
	if !wasReady && g.Ready() {
		g.logger.Info("gateway ready: listener, routes and endpoints received", "listener", g.opts.ListenerName)
	}
	return xdsclient.Interest{
		resource.RouteType:    table.RouteConfigNames(),
		resource.EndpointType: table.EDSServiceNames(),
	}, nil
}

// hostAddress is the host's first non-loopback IPv4 address, or 127.0.0.1: what Envoy's
// Network::Utility::getLocalAddress returns for its default IPv4 local address.
func hostAddress() netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() && !ip.IsLoopback() {
					return ip.Unmap()
				}
			}
		}
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}
