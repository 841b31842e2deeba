package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	xdsserver "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// Defaults for ServerOptions.
const (
	DefaultNACKBackoffInitial = 100 * time.Millisecond
	DefaultNACKBackoffMax     = 30 * time.Second
	// gracefulStopTimeout bounds how long Serve waits for streams to end before closing them.
	gracefulStopTimeout = 5 * time.Second
)

// ServerOptions configure a Server.
type ServerOptions struct {
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the server's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Translate tunes the translation of each gateway state.
	Translate Options
	// NACKBackoffInitial and NACKBackoffMax space the pushes to a client that keeps rejecting
	// config; zero means DefaultNACKBackoffInitial and DefaultNACKBackoffMax.
	NACKBackoffInitial time.Duration
	NACKBackoffMax     time.Duration
}

// Server is the xDS server: ADS over gRPC, state-of-the-world and delta, with one snapshot shared
// by all clients. Update replaces the snapshot; Serve serves it.
type Server struct {
	log     *slog.Logger
	opts    ServerOptions
	metrics *metrics
	cache   cache.SnapshotCache
	guard   *nackGuard

	mu      sync.Mutex
	current *cache.Snapshot
}

// NewServer returns a server with no snapshot yet: clients that connect before the first Update
// wait for it.
func NewServer(opts ServerOptions) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.NACKBackoffInitial <= 0 {
		opts.NACKBackoffInitial = DefaultNACKBackoffInitial
	}
	if opts.NACKBackoffMax <= 0 {
		opts.NACKBackoffMax = DefaultNACKBackoffMax
	}
	m := newMetrics(opts.Registerer, log)
	snapshots := cache.NewSnapshotCache(false, sharedNodeHash{}, cacheLogger{log})
	return &Server{
		log:     log,
		opts:    opts,
		metrics: m,
		cache:   snapshots,
		guard:   newNACKGuard(snapshots, log, m, opts.NACKBackoffInitial, opts.NACKBackoffMax),
	}
}

// Update translates g and, when it is valid, makes it the config every client gets. When the
// translation fails, the error is logged, counted and returned, and the last good config stays.
// An update whose content equals the current one pushes nothing.
func (s *Server) Update(g ir.Gateway) error {
	snap, err := s.snapshot(g)
	if err != nil {
		s.metrics.translateErrors.Inc()
		s.log.Error("gateway state rejected; keeping the last good xDS config", "error", err)
		return fmt.Errorf("controlplane: update: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sameVersions(s.current, snap) {
		return nil
	}
	if err := s.cache.SetSnapshot(context.Background(), sharedSnapshotKey, snap); err != nil {
		s.metrics.translateErrors.Inc()
		return fmt.Errorf("controlplane: update: setting snapshot: %w", err)
	}
	s.current = snap
	s.log.Info("xDS config updated",
		"listeners", snap.GetVersion(resource.ListenerType), "routes", snap.GetVersion(resource.RouteType),
		"clusters", snap.GetVersion(resource.ClusterType), "endpoints", snap.GetVersion(resource.EndpointType))
	return nil
}

// snapshot translates and validates g into a snapshot.
func (s *Server) snapshot(g ir.Gateway) (*cache.Snapshot, error) {
	res, err := Translate(g, s.opts.Translate)
	if err != nil {
		return nil, err
	}
	return newSnapshot(res)
}

// Versions returns the current version of each resource type, by type URL; empty before the
// first successful Update.
func (s *Server) Versions() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	if s.current == nil {
		return out
	}
	for i, r := range s.current.Resources {
		typeURL, err := cache.GetResponseTypeURL(types.ResponseType(i))
		if err == nil && r.Version != "" {
			out[typeURL] = r.Version
		}
	}
	return out
}

// Serve serves xDS on lis until ctx ends, then stops gracefully (streams are ended, and closed
// forcibly if they do not end within a few seconds). It returns nil after a stop caused by ctx.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	xdsCtx, cancelXDS := context.WithCancel(ctx)
	defer cancelXDS()
	xds := xdsserver.NewServer(xdsCtx, s.guard, s.guard)
	gs := grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(gs, xds)
	listenerservice.RegisterListenerDiscoveryServiceServer(gs, xds)
	routeservice.RegisterRouteDiscoveryServiceServer(gs, xds)
	clusterservice.RegisterClusterDiscoveryServiceServer(gs, xds)
	endpointservice.RegisterEndpointDiscoveryServiceServer(gs, xds)

	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-xdsCtx.Done()
		graceful := make(chan struct{})
		go func() {
			gs.GracefulStop()
			close(graceful)
		}()
		select {
		case <-graceful:
		case <-time.After(gracefulStopTimeout):
			gs.Stop()
		}
	}()

	s.log.Info("serving xDS", "address", lis.Addr().String())
	err := gs.Serve(lis)
	cancelXDS()
	<-stopped
	if err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("controlplane: serving xDS on %s: %w", lis.Addr(), err)
	}
	return nil
}
