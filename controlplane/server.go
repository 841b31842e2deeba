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

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
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

// Server is the xDS server: ADS (and the per-type services) over gRPC, state-of-the-world and
// delta, served by rpcbridge's own stream handling (adsServer) from collections: one per
// target for listeners, routes and clusters (clients of a node cluster share their target's),
// one shared by every client for endpoints and one for the Dubbo routes. Streams get only the
// resources that changed (delta, and also state of the world for EDS and DRDS).
// Update replaces the config; Serve serves it.
type Server struct {
	log      *slog.Logger
	opts     ServerOptions
	embedded map[string]bool
	metrics  *telemetry.XDSMetrics
	// names interns the streams' subscriptions.
	names *nameSets
	// snapshotColls serve each target's listeners, routes and clusters (in snapshotTypes
	// order); endpoints and dubboRoutes serve every client.
	snapshotColls map[target]*[len(snapshotTypes)]*collection
	endpoints     *collection
	dubboRoutes   *collection
	// health answers grpc.health.v1 on the xDS port: NOT_SERVING until the first good
	// Update and again once Serve stops, so that Envoy's health checks of its xds_cluster
	// (see Bootstrap) and any other client can skip a replica that has nothing to serve.
	health *health.Server

	mu sync.Mutex
	// current is the snapshot of each target; nil before the first good Update.
	current map[target]*snapshot
	// endpointHashes and dubboHashes are the content hashes of the collections' resources;
	// endpointSum is the version of endpointHashes.
	endpointHashes map[string]string
	endpointSum    versionSum
	// endpointMemo spares hashing the load assignments of unchanged clusters.
	endpointMemo endpointMemo
	dubboHashes  map[string]string
	// shape is the shape of the last gateway translated in full (nil before): a gateway with
	// the same shape only re-translates load assignments.
	shape *gatewayShape
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
		names:          newNameSets(),
		snapshotColls:  map[target]*[len(snapshotTypes)]*collection{},
		endpoints:      newCollection(resource.EndpointType),
		dubboRoutes:    newCollection(DubboRouteType),
		current:        map[target]*snapshot{},
		endpointHashes: map[string]string{},
		dubboHashes:    map[string]string{},
	}
	for _, c := range embedded {
		s.embedded[c] = true
	}
	for _, t := range s.targets() {
		colls := &[len(snapshotTypes)]*collection{}
		for i, typeURL := range snapshotTypes {
			colls[i] = newCollection(typeURL)
		}
		s.snapshotColls[t] = colls
	}
	s.health = health.NewServer()
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
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
// nothing, one changed endpoint pushes one load assignment. A gateway that differs from the last
// one only in endpoints re-translates only the load assignments of the clusters that changed
// (see gatewayShape), with the same versions a full translation gives. Update keeps g's routes,
// services, descriptors and classes to compare the next gateway with: the caller must not change
// them in place afterwards (clusters and endpoints may be changed; Update copies them).
func (s *Server) Update(g ir.Gateway) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.shape != nil && s.shape.matches(g) {
		err = s.updateEndpoints(g)
	} else {
		err = s.update(g)
	}
	if err != nil {
		s.metrics.TranslateError()
		s.log.Error("gateway state rejected; keeping the last good xDS config", "error", err)
		return fmt.Errorf("controlplane: update: %w", err)
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	return nil
}

// update does Update's work with a full translation; s.mu is held.
func (s *Server) update(g ir.Gateway) error {
	snaps := map[target]*snapshot{}
	byTranslation := map[target]*snapshot{}
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
	edsEntries, err := entries(resource.EndpointType, eds.update, eds.hashes)
	if err != nil {
		return fmt.Errorf("endpoints: %w", err)
	}
	drdsEntries, err := entries(DubboRouteType, drds.update, drds.hashes)
	if err != nil {
		return fmt.Errorf("dubbo routes: %w", err)
	}
	snapEntries := map[target][len(snapshotTypes)]map[string]*cachedEntry{}
	for t, snap := range snaps {
		if sameVersions(s.current[t], snap) {
			continue
		}
		var ents [len(snapshotTypes)]map[string]*cachedEntry
		for i, st := range snap.types {
			upsert := map[string]types.Resource{}
			for name, h := range st.hashes {
				if s.current[t] == nil || s.current[t].types[i].hashes[name] != h {
					upsert[name] = st.resources[name]
				}
			}
			if ents[i], err = entries(snapshotTypes[i], upsert, st.hashes); err != nil {
				return fmt.Errorf("%s: %w", snapshotTypes[i], err)
			}
		}
		snapEntries[t] = ents
	}

	// Nothing fails from here on. The change is marked before any stream sends it, so that a
	// push's latency is measured from the change rather than from the stream's earlier request.
	if len(eds.update)+len(eds.remove) > 0 {
		s.metrics.Changed(resource.EndpointType)
	}
	if len(drds.update)+len(drds.remove) > 0 {
		s.metrics.Changed(DubboRouteType)
	}
	edsSum := sumOf(eds.hashes)
	// Make before break: new and changed endpoints and Dubbo routes first, then the listeners,
	// routes and clusters that may reference them, then removals.
	s.endpoints.update(edsEntries, nil, edsSum.String())
	s.dubboRoutes.update(drdsEntries, nil, hashesVersion(drds.hashes))
	for t, snap := range snaps {
		ents, ok := snapEntries[t]
		if !ok {
			continue
		}
		s.metrics.Changed(changedTypes(s.current[t], snap)...)
		for i, st := range snap.types {
			var remove []string
			if old := s.current[t]; old != nil {
				for name := range old.types[i].hashes {
					if _, ok := st.hashes[name]; !ok {
						remove = append(remove, name)
					}
				}
			}
			s.snapshotColls[t][i].update(ents[i], remove, st.version)
		}
		s.current[t] = snap
	}
	if len(eds.remove) > 0 {
		s.endpoints.update(nil, eds.remove, edsSum.String())
	}
	if len(drds.remove) > 0 {
		s.dubboRoutes.update(nil, drds.remove, hashesVersion(drds.hashes))
	}
	s.endpointHashes, s.endpointSum, s.dubboHashes = eds.hashes, edsSum, drds.hashes
	s.endpointMemo = s.endpointMemo.next(g.Clusters, eds.hashes)
	s.shape = shapeOf(g)
	if len(snapEntries)+len(eds.update)+len(eds.remove)+len(drds.update)+len(drds.remove) > 0 {
		s.logUpdated(len(eds.update), len(eds.remove))
	}
	return nil
}

// updateEndpoints does Update's work for a gateway with the current shape: only the load
// assignments of clusters whose endpoints changed are translated, validated and hashed, as the
// full translation would (same resources, same versions). s.mu is held.
func (s *Server) updateEndpoints(g ir.Gateway) error {
	upsert := map[string]types.Resource{}
	hashes := map[string]string{}
	memo := map[string]memoEntry{}
	for _, c := range g.Clusters {
		if e, ok := s.endpointMemo[c.Name]; ok && sameCluster(e.cluster, c) {
			continue
		}
		cla, err := loadAssignment(c)
		if err == nil {
			err = cla.ValidateAll()
		}
		if err != nil {
			return fmt.Errorf("cluster %q: %w", c.Name, err)
		}
		h, err := resourceHash(cla)
		if err != nil {
			return fmt.Errorf("hashing endpoints: %s: %w", c.Name, err)
		}
		memo[c.Name] = memoEntry{cluster: cloneCluster(c), hash: h}
		if s.endpointHashes[c.Name] != h {
			upsert[c.Name], hashes[c.Name] = cla, h
		}
	}
	ents, err := entries(resource.EndpointType, upsert, hashes)
	if err != nil {
		return fmt.Errorf("endpoints: %w", err)
	}
	for name, e := range memo {
		s.endpointMemo[name] = e
	}
	if len(ents) == 0 {
		return nil
	}
	s.metrics.Changed(resource.EndpointType)
	for name, h := range hashes {
		s.endpointSum = s.endpointSum.sub(name, s.endpointHashes[name]).add(name, h)
		s.endpointHashes[name] = h
	}
	s.endpoints.update(ents, nil, s.endpointSum.String())
	s.logUpdated(len(ents), 0)
	return nil
}

// logUpdated logs the versions after an update that changed something.
func (s *Server) logUpdated(changedEndpoints, removedEndpoints int) {
	v := s.versionsLocked()
	s.log.Info("xDS config updated",
		"listeners", v[resource.ListenerType], "routes", v[resource.RouteType],
		"clusters", v[resource.ClusterType], "endpoints", v[resource.EndpointType],
		"changed_endpoints", changedEndpoints, "removed_endpoints", removedEndpoints)
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

// collectionFor is the collection that serves typeURL to streams of target t, or nil for a type
// rpcbridge does not serve.
func (s *Server) collectionFor(t target, typeURL string) *collection {
	switch typeURL {
	case resource.EndpointType:
		return s.endpoints
	case DubboRouteType:
		return s.dubboRoutes
	}
	for i, st := range snapshotTypes {
		if st == typeURL {
			return s.snapshotColls[t][i]
		}
	}
	return nil
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
	for i, st := range snap.types {
		if st.version != "" {
			out[snapshotTypes[i]] = st.version
		}
	}
	out[resource.EndpointType] = s.endpointSum.String()
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
	gs := grpc.NewServer(append(s.grpcServerOptions(), s.opts.GRPCOptions...)...)
	(&adsServer{srv: s, ctx: xdsCtx}).register(gs)
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
