// Package routetable turns the Envoy resources the embedded gateway receives over xDS
// (listeners, route configurations, clusters, cluster load assignments) into an immutable
// routing table. Build is a pure function: the same resources always give the same table, and
// an error means the resources are unusable and must be rejected (NACKed).
package routetable

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"sort"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
	"github.com/rpcbridge/rpcbridge/dataplane/hcm"
	"github.com/rpcbridge/rpcbridge/internal/downstream"
)

// Resources is the full set of resources received, each map keyed by resource name
// (Endpoints by cluster_name, which is a cluster's EDS service name).
type Resources struct {
	Listeners    map[string]*listenerv3.Listener
	RouteConfigs map[string]*routev3.RouteConfiguration
	Clusters     map[string]*clusterv3.Cluster
	Endpoints    map[string]*endpointv3.ClusterLoadAssignment
}

// Table is an immutable routing table for one listener. It is safe for concurrent use.
type Table struct {
	listenerName string
	hasListener  bool
	hasRoutes    bool
	hosts        hostIndex
	clusters     map[string]*Cluster
	routeNames   []string
	edsNames     []string
	warming      []string
	transcoders  map[[sha256.Size]byte]*grpcjson.Transcoder
	withheld     []WithheldRoute
	tools        []*gatewayv1.MCPTool
	omittedTools []OmittedTool
	headers      *hcm.Policy
	downstream   downstream.Settings
	// limiters are the local rate limiters of the table's routes, kept by the next table for
	// the routes whose configuration it does not change (edge_localratelimit.go).
	limiters *limiterSet
}

// WithheldRoute is a route of the served listener that the gateway does not run (see
// Route.Withheld).
type WithheldRoute struct {
	VirtualHost string
	Route       string
	Reason      string
}

// Build decodes resources into the routing table of the listener named listenerName.
// Every resource is validated, not only the ones the listener uses, so that a bad resource is
// rejected when it arrives rather than when something starts to refer to it. References that
// cannot be resolved yet (a route config or cluster not received) are not errors: the table
// then has no routes, or the cluster has no endpoints.
func Build(res Resources, listenerName string) (*Table, error) {
	return BuildReusing(res, listenerName, nil)
}

// BuildReusing is Build that takes the gRPC-JSON transcoders whose configuration is unchanged
// from previous (which may be nil) instead of building them again. The table is the same as
// Build's; only the work differs.
func BuildReusing(res Resources, listenerName string, previous *Table) (*Table, error) {
	t := &Table{listenerName: listenerName, clusters: map[string]*Cluster{}}
	tcs := newTranscoders(previous)
	t.limiters = newLimiterSet(previous)

	listeners := map[string]*httpListener{}
	routeNames := map[string]bool{}
	for _, name := range sortedKeys(res.Listeners) {
		l := res.Listeners[name]
		if err := validate(l); err != nil {
			return nil, fmt.Errorf("listener %q: %w", name, err)
		}
		hl, err := decodeListener(l)
		if err != nil {
			return nil, fmt.Errorf("listener %q: %w", name, err)
		}
		if hl == nil {
			continue
		}
		listeners[name] = hl
		if hl.rdsName != "" {
			routeNames[hl.rdsName] = true
		}
	}
	t.routeNames = sortedKeys(routeNames)

	routeConfigs := map[string][]*virtualHost{}
	for _, name := range sortedKeys(res.RouteConfigs) {
		rc := res.RouteConfigs[name]
		if err := validate(rc); err != nil {
			return nil, fmt.Errorf("route configuration %q: %w", name, err)
		}
		hosts, err := decodeRouteConfig(rc, tcs)
		if err != nil {
			return nil, fmt.Errorf("route configuration %q: %w", name, err)
		}
		routeConfigs[name] = hosts
	}

	t.downstream = EnvoyDownstreamDefaults()
	if hl, ok := listeners[listenerName]; ok {
		t.hasListener = true
		t.downstream = hl.downstream
		hosts, found := routeConfigs[hl.rdsName]
		rc := res.RouteConfigs[hl.rdsName]
		if hl.inline != nil {
			inline, err := decodeRouteConfig(hl.inline, tcs)
			if err != nil {
				return nil, fmt.Errorf("listener %q inline route_config: %w", listenerName, err)
			}
			hosts, found, rc = inline, true, hl.inline
		}
		if found {
			policy, err := hcm.FromEnvoy(hl.manager, rc)
			if err != nil {
				return nil, fmt.Errorf("listener %q: %w", listenerName, err)
			}
			if err := attachEdge(hosts, hl.manager, t.limiters); err != nil {
				return nil, fmt.Errorf("listener %q: %w", listenerName, err)
			}
			t.hasRoutes = true
			t.hosts = newHostIndex(hosts)
			t.withheld = withheldRoutes(hosts)
			t.tools, t.omittedTools = collectTools(hosts)
			t.headers = policy
		}
	}

	assignments := map[string][]Endpoint{}
	for _, name := range sortedKeys(res.Endpoints) {
		cla := res.Endpoints[name]
		if err := validate(cla); err != nil {
			return nil, fmt.Errorf("cluster load assignment %q: %w", name, err)
		}
		eps, err := decodeAssignment(cla)
		if err != nil {
			return nil, fmt.Errorf("cluster load assignment %q: %w", name, err)
		}
		assignments[name] = eps
	}

	edsNames := map[string]bool{}
	for _, name := range sortedKeys(res.Clusters) {
		c := res.Clusters[name]
		if err := validate(c); err != nil {
			return nil, fmt.Errorf("cluster %q: %w", name, err)
		}
		cluster, inline, err := decodeCluster(c)
		if err != nil {
			return nil, fmt.Errorf("cluster %q: %w", name, err)
		}
		cluster.Endpoints = inline
		if cluster.EDSServiceName != "" {
			edsNames[cluster.EDSServiceName] = true
			cluster.Endpoints = assignments[cluster.EDSServiceName]
		}
		t.clusters[cluster.Name] = cluster
	}
	t.edsNames = sortedKeys(edsNames)
	for _, name := range t.edsNames {
		if _, ok := res.Endpoints[name]; !ok {
			t.warming = append(t.warming, name)
		}
	}
	t.transcoders = tcs.built
	return t, nil
}

// HeaderPolicy is the request-header policy of the listener's connection manager and route
// configuration; nil until the table is Ready.
func (t *Table) HeaderPolicy() *hcm.Policy { return t.headers }

// Ready reports whether the table's listener and its routes have been received.
func (t *Table) Ready() bool { return t.hasListener && t.hasRoutes }

// Warming returns the EDS service names of clusters whose first ClusterLoadAssignment has not
// been received: the clusters Envoy keeps warming (not yet used) until their endpoints arrive
// or their initial_fetch_timeout passes.
func (t *Table) Warming() []string { return t.warming }

// Match returns the first route of the request's virtual host that matches, or nil.
func (t *Table) Match(r *http.Request) *Route {
	if !t.hasRoutes {
		return nil
	}
	vh := t.hosts.lookup(r.Host)
	if vh == nil {
		return nil
	}
	path := r.URL.EscapedPath()
	for _, rt := range vh.routes {
		if rt.matches(r, path) {
			return rt
		}
	}
	return nil
}

// Downstream returns the limits on clients of the table's listener (Envoy's defaults before the
// listener was received).
func (t *Table) Downstream() downstream.Settings { return t.downstream }

// Withheld returns the routes of the served listener that the gateway does not run, in route
// configuration order.
func (t *Table) Withheld() []WithheldRoute { return t.withheld }

// withheldRoutes lists the withheld routes of virtual hosts.
func withheldRoutes(hosts []*virtualHost) []WithheldRoute {
	var out []WithheldRoute
	for _, vh := range hosts {
		for _, r := range vh.routes {
			if r.Withheld != "" {
				out = append(out, WithheldRoute{VirtualHost: vh.name, Route: r.Name, Reason: r.Withheld})
			}
		}
	}
	return out
}

// Cluster returns the named cluster, or nil when it has not been received.
func (t *Table) Cluster(name string) *Cluster { return t.clusters[name] }

// Clusters returns every cluster, sorted by name.
func (t *Table) Clusters() []*Cluster {
	out := make([]*Cluster, 0, len(t.clusters))
	for _, name := range sortedKeys(t.clusters) {
		out = append(out, t.clusters[name])
	}
	return out
}

// RouteConfigNames returns the RDS names referenced by the HTTP listeners, sorted.
func (t *Table) RouteConfigNames() []string { return t.routeNames }

// EDSServiceNames returns the EDS service names of the EDS clusters, sorted.
func (t *Table) EDSServiceNames() []string { return t.edsNames }

// sortedKeys returns a map's keys in order, so that Build is deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
