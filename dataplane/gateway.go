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
package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
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
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/dataplane/xdsclient"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// Options configures a Gateway.
type Options struct {
	// XDSAddress is the control plane's gRPC address (host:port), reached without TLS.
	XDSAddress string
	// NodeID and NodeCluster identify the gateway to the control plane.
	NodeID      string
	NodeCluster string
	// ListenAddress is where the HTTP server listens (default ":8080"; "127.0.0.1:0" picks a
	// free port, see Addr).
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
	// ShutdownTimeout bounds the graceful shutdown of the HTTP server (default 10 s).
	ShutdownTimeout time.Duration
	// LocalAddress is appended to X-Forwarded-For for clients connecting over loopback, as
	// Envoy appends its LocalInfo address; unset means the host's first non-loopback IPv4
	// address (127.0.0.1 when it has none), as Envoy finds it.
	LocalAddress netip.Addr
}

// Gateway is the embedded HTTP gateway. Create it with New, start it with Run.
type Gateway struct {
	opts      Options
	logger    *slog.Logger
	telemetry *telemetry.Gateway
	dubbo     *dubboPool

	config atomic.Pointer[config]
	addr   atomic.Pointer[net.Addr]
}

// config is one immutable routing state: a table and the upstreams of its clusters.
type config struct {
	table     *routetable.Table
	upstreams map[string]*upstream
}

// New returns a gateway; nothing runs until Run.
func New(opts Options) *Gateway {
	if opts.ListenAddress == "" {
		opts.ListenAddress = ":8080"
	}
	if opts.ListenerName == "" {
		opts.ListenerName = gatewayv1.HTTPListener
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if !opts.LocalAddress.IsValid() {
		opts.LocalAddress = hostAddress()
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "gateway")
	tel := telemetry.NewGateway(telemetry.GatewayOptions{Registerer: opts.Registerer, AccessLog: opts.AccessLog, Tracing: opts.Tracing, Logger: logger})
	return &Gateway{opts: opts, logger: logger, telemetry: tel, dubbo: newDubboPool()}
}

// Run serves HTTP on ListenAddress and follows the control plane until ctx ends, then shuts
// the server down gracefully (bounded by ShutdownTimeout). It returns nil after a clean
// shutdown. Call it once per Gateway.
func (g *Gateway) Run(ctx context.Context) error {
	if g.opts.XDSAddress == "" {
		return errors.New("gateway: no xDS address configured")
	}
	ln, err := net.Listen("tcp", g.opts.ListenAddress)
	if err != nil {
		return fmt.Errorf("gateway: listen on %s: %w", g.opts.ListenAddress, err)
	}
	addr := ln.Addr()
	g.addr.Store(&addr)
	g.logger.Info("gateway listening", "address", addr.String(), "xds", g.opts.XDSAddress, "listener", g.opts.ListenerName,
		"local_address", g.opts.LocalAddress.String())

	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	server := &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: 30 * time.Second,
		Protocols:         protocols,
		ErrorLog:          slog.NewLogLogger(g.logger.Handler(), slog.LevelWarn),
	}
	client := xdsclient.New(xdsclient.Config{
		Address: g.opts.XDSAddress,
		Node: &corev3.Node{Id: g.opts.NodeID, Cluster: g.opts.NodeCluster, UserAgentName: "rpcbridge-gateway",
			ClientFeatures: []string{gatewayv1.ClientFeature}},
		WildcardTypes: []string{resource.ListenerType, resource.ClusterType},
		NamedTypes:    []string{resource.RouteType, resource.EndpointType},
		Watcher:       xdsclient.WatcherFunc(g.accept),
		Logger:        g.logger,
		OnResponse:    g.telemetry.ObserveXDS,
	})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	clientDone := make(chan error, 1)
	go func() { clientDone <- client.Run(ctx) }()
	serveDone := make(chan error, 1)
	go func() { serveDone <- server.Serve(ln) }()

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
	shutdownCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), g.opts.ShutdownTimeout)
	defer stop()
	if err := server.Shutdown(shutdownCtx); err != nil && runErr == nil {
		runErr = fmt.Errorf("gateway: shutdown: %w", err)
	}
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

// Ready reports whether the gateway has received its listener and that listener's routes.
func (g *Gateway) Ready() bool {
	cfg := g.config.Load()
	return cfg != nil && cfg.table.Ready()
}

// Addr returns the HTTP server's address once Run is listening, nil before.
func (g *Gateway) Addr() net.Addr {
	if a := g.addr.Load(); a != nil {
		return *a
	}
	return nil
}

// Handler returns the proxying handler (the one Run serves), for in-process use.
func (g *Gateway) Handler() http.Handler { return http.HandlerFunc(g.serveHTTP) }

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
	upstreams, unused := newUpstreams(table, prev)
	wasReady := g.Ready()
	g.config.Store(&config{table: table, upstreams: upstreams})
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
	if !wasReady && table.Ready() {
		g.logger.Info("gateway ready: listener and routes received", "listener", g.opts.ListenerName)
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
