package controlplane

import (
	"context"
	"crypto/tls"
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
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/telemetry"
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
	// Translate tunes the translation of each gateway state. Its Flavor is ignored: see Flavor.
	Translate Options
	// Flavor is the flavor served to every node cluster except the embedded ones; "" means
	// Translate.Flavor, and when that is empty too, FlavorEnvoy.
	Flavor Flavor
	// EmbeddedNodeClusters are the node clusters of rpcbridge's own gateways, which always get
	// FlavorHigress translated with Options.RPCBridgeGateway; nil means
	// [gatewayv1.EmbeddedNodeCluster].
	EmbeddedNodeClusters []string
	// NACKBackoffInitial and NACKBackoffMax space the pushes to a client that keeps rejecting
	// config; zero means DefaultNACKBackoffInitial and DefaultNACKBackoffMax.
	NACKBackoffInitial time.Duration
	NACKBackoffMax     time.Duration
	// GRPCOptions are added to the gRPC server's own options (the bearer-token interceptors
	// of xds.auth, say).
	GRPCOptions []grpc.ServerOption
	// TLS serves xDS over TLS with this configuration (tlsfiles.Server.Load's); nil serves
	// plaintext.
	TLS *tls.Config
	// RequireClientCert answers every call of a client that presented no verified certificate
	// with Unauthenticated, so it receives no configuration. TLS should ask for certificates
	// without requiring them in the handshake (tls.RequestClientCert with verification), so
	// that such a client learns why.
	RequireClientCert bool
}

// Server is the xDS server: ADS over gRPC, state-of-the-world and delta. Listeners, route
// configurations and clusters come from one snapshot per node cluster (clients of a node cluster
// share it, and node clusters of one flavor share the same snapshot value); endpoints and the
// Dubbo routes come from resource caches shared by every client (see resourceCache), which send
// only the resources that changed (delta, and also state of the world, which allows that for
// EDS and DRDS).
// Update replaces the config; Serve serves it.
type Server struct {
	log      *slog.Logger
	opts     ServerOptions
	embedded map[string]bool
	metrics  *telemetry.XDSMetrics
	// snapshots hold listeners, routes and clusters, keyed by node cluster.
	snapshots   cache.SnapshotCache
	endpoints   *resourceCache
	dubboRoutes *resourceCache
	guard       *nackGuard
	// health answers grpc.health.v1 on the xDS port: NOT_SERVING until the first good
	// Update and again once Serve stops, so that Envoy's health checks of its xds_cluster
	// (see Bootstrap) and any other client can skip a replica that has nothing to serve.
	health *health.Server

	mu sync.Mutex
	// current is the snapshot of each target; nil before the first good Update.
	current map[target]*cache.Snapshot
	// nodeClusters are the node clusters that have a snapshot in the cache.
	nodeClusters map[string]bool
	// endpointHashes and dubboHashes are the content hashes of the resource caches' resources.
	endpointHashes map[string]string
	// endpointMemo spares hashing the load assignments of unchanged clusters.
	endpointMemo endpointMemo
	dubboHashes  map[string]string
}

// NewServer returns a server with no config yet: clients that connect before the first Update
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
	if opts.Flavor == "" {
		opts.Flavor = opts.Translate.Flavor
	}
	if opts.Flavor == "" {
		opts.Flavor = FlavorEnvoy
	}
	embedded := opts.EmbeddedNodeClusters
	if embedded == nil {
		embedded = []string{gatewayv1.EmbeddedNodeCluster}
	}
	m := telemetry.NewXDSMetrics(opts.Registerer, log)
	s := &Server{
		log:            log,
		opts:           opts,
		embedded:       map[string]bool{},
		metrics:        m,
		snapshots:      cache.NewSnapshotCache(false, nodeClusterHash{}, cacheLogger{log}),
		endpoints:      newResourceCache(resource.EndpointType),
		dubboRoutes:    newResourceCache(DubboRouteType),
		current:        map[target]*cache.Snapshot{},
		nodeClusters:   map[string]bool{},
		endpointHashes: map[string]string{},
		dubboHashes:    map[string]string{},
	}
	for _, c := range embedded {
		s.embedded[c] = true
	}
	s.health = health.NewServer()
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	router := &typeRouter{snapshots: newCompactSnapshots(s.snapshots), endpoints: s.endpoints, dubboRoutes: s.dubboRoutes}
	s.guard = newNACKGuard(&nodeClusterCache{streamCache: router, server: s}, log, m, opts.NACKBackoffInitial, opts.NACKBackoffMax)
	return s
}

// target is what a snapshot is translated for: a flavor, and whether for rpcbridge's own
// gateways (Options.RPCBridgeGateway) or for an Envoy.
type target struct {
	flavor    Flavor
	rpcbridge bool
}

// targetOf is the target a node cluster gets: rpcbridge's gateways (the embedded node clusters)
// the Higress flavor for rpcbridge gateways, every other node cluster the configured flavor for
// Envoy.
func (s *Server) targetOf(nodeCluster string) target {
	if s.embedded[nodeCluster] {
		return target{FlavorHigress, true}
	}
	return target{s.opts.Flavor, false}
}

// targets are the targets the server serves: the configured flavor's Envoys and rpcbridge's
// gateways.
func (s *Server) targets() []target {
	return []target{{s.opts.Flavor, false}, {FlavorHigress, true}}
}

// translationOf is the translation a target needs for g: targets with equal translations get
// the same resources, so they are translated once and share one snapshot value. Without Dubbo
// the flavor makes no difference, without hashed API keys, MCP tools (mcpServices) and streaming
// gRPC methods (their WebSocket routes) the gateway kind makes none.
func translationOf(t target, g ir.Gateway, mcpServices []string) target {
	if !flavorDependent(g) {
		t.flavor = ""
	}
	if !hasAPIKeyDigests(g) && len(mcpServices) == 0 && !hasStreamingGRPC(g) {
		t.rpcbridge = false
	}
	return t
}

// Update translates g for every target (flavor, Envoy or rpcbridge gateway) and, when that
// succeeds, makes it the config clients get.
// When the translation fails, the error is logged, counted and returned, and the last good config
// stays. Only what changed is pushed: an update whose content equals the current one pushes
// nothing, one changed endpoint pushes one load assignment.
func (s *Server) Update(g ir.Gateway) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.update(g); err != nil {
		s.metrics.TranslateError()
		s.log.Error("gateway state rejected; keeping the last good xDS config", "error", err)
		return fmt.Errorf("controlplane: update: %w", err)
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	return nil
}

// update does Update's work; s.mu is held.
func (s *Server) update(g ir.Gateway) error {
	snaps := map[target]*cache.Snapshot{}
	byTranslation := map[target]*cache.Snapshot{}
	var shared *Resources
	for _, t := range s.targets() {
		tr := translationOf(t, g, s.opts.Translate.MCPServices)
		if snap := byTranslation[tr]; snap != nil {
			snaps[t] = snap
			continue
		}
		opts := s.opts.Translate
		opts.Flavor, opts.RPCBridgeGateway = t.flavor, t.rpcbridge
		res, err := Translate(g, opts)
		if err != nil {
			if t.rpcbridge {
				return fmt.Errorf("flavor %s for rpcbridge gateways: %w", t.flavor, err)
			}
			return fmt.Errorf("flavor %s: %w", t.flavor, err)
		}
		snap, err := newSnapshot(res)
		if err != nil {
			return err
		}
		snaps[t], byTranslation[tr] = snap, snap
		if shared == nil {
			shared = res // endpoints and Dubbo routes are the same for every target
		}
	}
	wantEndpoints := make(map[string]types.Resource, len(shared.Endpoints))
	for _, cla := range shared.Endpoints {
		wantEndpoints[cla.GetClusterName()] = cla
	}
	eds, err := diffLinear(s.endpointHashes, wantEndpoints, s.endpointMemo.knownHashes(g.Clusters))
	if err != nil {
		return fmt.Errorf("hashing endpoints: %w", err)
	}
	wantDubbo := map[string]types.Resource{}
	if shared.DubboRoutes != nil {
		wantDubbo[shared.DubboRoutes.GetName()] = shared.DubboRoutes
	}
	drds, err := diffLinear(s.dubboHashes, wantDubbo, nil)
	if err != nil {
		return fmt.Errorf("hashing dubbo routes: %w", err)
	}

	// The change is marked before any cache answers a watch with it, so that a push's latency
	// is measured from the change rather than from the stream's earlier request.
	if len(eds.update)+len(eds.remove) > 0 {
		s.metrics.Changed(resource.EndpointType)
	}
	if len(drds.update)+len(drds.remove) > 0 {
		s.metrics.Changed(DubboRouteType)
	}
	// Make before break: new and changed endpoints and Dubbo routes first, then the snapshots
	// that may reference them, then removals.
	if err := s.applyLinear(eds, drds, false); err != nil {
		return err
	}
	changed := false
	for t, snap := range snaps {
		if sameVersions(s.current[t], snap) {
			continue
		}
		changed = true
		s.metrics.Changed(changedTypes(s.current[t], snap)...)
		s.current[t] = snap
		for nc := range s.nodeClusters {
			if s.targetOf(nc) != t {
				continue
			}
			if err := s.snapshots.SetSnapshot(context.Background(), nc, snap); err != nil {
				return fmt.Errorf("setting the snapshot of node cluster %q: %w", nc, err)
			}
		}
	}
	if err := s.applyLinear(eds, drds, true); err != nil {
		return err
	}
	s.endpointHashes, s.dubboHashes = eds.hashes, drds.hashes
	s.endpointMemo = s.endpointMemo.next(g.Clusters, eds.hashes)
	if changed || len(eds.update)+len(eds.remove)+len(drds.update)+len(drds.remove) > 0 {
		v := s.versionsLocked()
		s.log.Info("xDS config updated",
			"listeners", v[resource.ListenerType], "routes", v[resource.RouteType],
			"clusters", v[resource.ClusterType], "endpoints", v[resource.EndpointType],
			"changed_endpoints", len(eds.update), "removed_endpoints", len(eds.remove))
	}
	return nil
}

// flavorDependent reports whether g translates differently per flavor: only Dubbo routes and
// Dubbo clusters do.
func flavorDependent(g ir.Gateway) bool {
	for _, r := range g.Routes {
		if r.Dubbo != nil {
			return true
		}
	}
	for _, c := range g.Clusters {
		if c.Protocol == ir.UpstreamDubbo {
			return true
		}
	}
	return false
}

// hasAPIKeyDigests reports whether a route of g authenticates hashed API keys, which Envoy and
// rpcbridge's gateways get differently.
func hasAPIKeyDigests(g ir.Gateway) bool {
	for _, r := range g.Routes {
		if r.Policy != nil && r.Policy.APIKey.HasDigests() {
			return true
		}
	}
	return false
}

// applyLinear updates the resource caches: the new and changed resources, or the removals.
func (s *Server) applyLinear(eds, drds linearDiff, removals bool) error {
	for _, step := range []struct {
		what  string
		cache *resourceCache
		diff  linearDiff
	}{{"endpoints", s.endpoints, eds}, {"dubbo routes", s.dubboRoutes, drds}} {
		var err error
		switch {
		case removals && len(step.diff.remove) > 0:
			err = step.cache.update(nil, nil, step.diff.remove)
		case !removals && len(step.diff.update) > 0:
			err = step.cache.update(step.diff.update, step.diff.hashes, nil)
		}
		if err != nil {
			return fmt.Errorf("updating %s: %w", step.what, err)
		}
	}
	return nil
}

// ensureNodeCluster gives a node cluster seen for the first time its flavor's snapshot, so that
// its watches can be answered.
func (s *Server) ensureNodeCluster(nodeCluster string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nodeClusters[nodeCluster] {
		return
	}
	s.nodeClusters[nodeCluster] = true
	if snap := s.current[s.targetOf(nodeCluster)]; snap != nil {
		if err := s.snapshots.SetSnapshot(context.Background(), nodeCluster, snap); err != nil {
			s.log.Error("setting the snapshot of a new node cluster", "node_cluster", nodeCluster, "error", err)
		}
	}
}

// nodeClusterCache makes sure a request's node cluster has its snapshot before the request
// reaches the caches.
type nodeClusterCache struct {
	streamCache
	server *Server
}

func (c *nodeClusterCache) createWatch(stream streamKey, req *cache.Request, sub cache.Subscription, out chan cache.Response) (func(), error) {
	c.server.ensureNodeCluster(req.GetNode().GetCluster())
	return c.streamCache.createWatch(stream, req, sub, out)
}

func (c *nodeClusterCache) createDeltaWatch(stream streamKey, req *cache.DeltaRequest, sub cache.Subscription, out chan cache.DeltaResponse) (func(), error) {
	c.server.ensureNodeCluster(req.GetNode().GetCluster())
	return c.streamCache.createDeltaWatch(stream, req, sub, out)
}

// Versions returns the current version of each resource type of the configured flavor (as
// Envoys get it), by type
// URL (endpoints and Dubbo routes: a hash of their content); empty before the first successful
// Update.
func (s *Server) Versions() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versionsLocked()
}

// versionsLocked is Versions with s.mu held.
func (s *Server) versionsLocked() map[string]string {
	out := map[string]string{}
	snap := s.current[target{s.opts.Flavor, false}]
	if snap == nil {
		return out
	}
	for i, r := range snap.Resources {
		typeURL, err := cache.GetResponseTypeURL(types.ResponseType(i))
		if err == nil && r.Version != "" {
			out[typeURL] = r.Version
		}
	}
	out[resource.EndpointType] = hashesVersion(s.endpointHashes)
	if len(s.dubboHashes) > 0 {
		out[DubboRouteType] = hashesVersion(s.dubboHashes)
	}
	return out
}

// Serve serves xDS on lis until ctx ends, then stops gracefully (streams are ended, and closed
// forcibly if they do not end within a few seconds). It returns nil after a stop caused by ctx.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	xdsCtx, cancelXDS := context.WithCancel(ctx)
	defer cancelXDS()
	xds := xdsserver.NewServer(xdsCtx, s.guard, s.guard)
	gs := grpc.NewServer(append(s.grpcServerOptions(), s.opts.GRPCOptions...)...)
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(gs, xds)
	listenerservice.RegisterListenerDiscoveryServiceServer(gs, xds)
	routeservice.RegisterRouteDiscoveryServiceServer(gs, xds)
	clusterservice.RegisterClusterDiscoveryServiceServer(gs, xds)
	endpointservice.RegisterEndpointDiscoveryServiceServer(gs, xds)
	healthpb.RegisterHealthServer(gs, s.health)

	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-xdsCtx.Done()
		s.health.Shutdown() // NOT_SERVING from now on, also for the watches of health checkers
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
