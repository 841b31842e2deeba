package controlplane

import (
	"errors"
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// validatable is what protoc-gen-validate generates on every Envoy message.
type validatable interface{ ValidateAll() error }

// Validate checks every resource with its generated ValidateAll and checks that the set is
// consistent: names are unique per type, every route configuration a listener names exists and
// is used, every cluster a route names exists, and clusters and load assignments pair up. It also
// runs go-control-plane's own snapshot consistency check.
func Validate(r *Resources) error {
	if r == nil {
		return errors.New("no resources")
	}
	for _, group := range [][]types.Resource{
		asResources(r.Listeners), asResources(r.Routes), asResources(r.Clusters), asResources(r.Endpoints),
	} {
		seen := map[string]bool{}
		for _, res := range group {
			name := cache.GetResourceName(res)
			if seen[name] {
				return fmt.Errorf("%s %q: duplicate name", res.ProtoReflect().Descriptor().Name(), name)
			}
			seen[name] = true
			if err := res.(validatable).ValidateAll(); err != nil {
				return fmt.Errorf("%s %q: %w", res.ProtoReflect().Descriptor().Name(), name, err)
			}
		}
	}
	if err := checkReferences(r); err != nil {
		return err
	}
	if err := checkDubboRoutes(r); err != nil {
		return err
	}
	return consistentForGoControlPlane(r)
}

// checkReferences checks the cross-references between resource types.
func checkReferences(r *Resources) error {
	clusters := map[string]*clusterv3.Cluster{}
	for _, c := range r.Clusters {
		clusters[c.GetName()] = c
	}
	assignments := map[string]bool{}
	for _, cla := range r.Endpoints {
		assignments[cla.GetClusterName()] = true
	}
	for _, c := range r.Clusters {
		if c.GetType() == clusterv3.Cluster_EDS && !assignments[edsName(c)] {
			return fmt.Errorf("cluster %q: no load assignment %q", c.GetName(), edsName(c))
		}
	}
	for name := range assignments {
		if c := clusters[name]; c == nil || edsName(c) != name {
			return fmt.Errorf("load assignment %q: no cluster of that name", name)
		}
	}
	used := map[string]bool{}
	for _, l := range r.Listeners {
		name, err := rdsName(l)
		if err != nil {
			return fmt.Errorf("listener %q: %w", l.GetName(), err)
		}
		if name != "" {
			used[name] = true
		}
	}
	for _, rc := range r.Routes {
		if !used[rc.GetName()] {
			return fmt.Errorf("route configuration %q: no listener uses it", rc.GetName())
		}
		delete(used, rc.GetName())
		for _, vh := range rc.GetVirtualHosts() {
			for _, rt := range vh.GetRoutes() {
				for _, target := range routeTargets(rt) {
					if clusters[target] == nil {
						return fmt.Errorf("route %q: cluster %q does not exist", rt.GetName(), target)
					}
				}
			}
		}
	}
	for name := range used {
		return fmt.Errorf("route configuration %q: a listener uses it but it does not exist", name)
	}
	return nil
}

// edsName is the EDS resource name of an EDS cluster.
func edsName(c *clusterv3.Cluster) string {
	if n := c.GetEdsClusterConfig().GetServiceName(); n != "" {
		return n
	}
	return c.GetName()
}

// rdsName is the route configuration name a listener's connection manager (in a filter chain or
// an api_listener) takes from RDS, or "".
func rdsName(l *listenerv3.Listener) (string, error) {
	if api := l.GetApiListener().GetApiListener(); api != nil {
		hcm := &hcmv3.HttpConnectionManager{}
		if err := api.UnmarshalTo(hcm); err != nil {
			return "", fmt.Errorf("api_listener: %w", err)
		}
		return hcm.GetRds().GetRouteConfigName(), nil
	}
	for _, fc := range l.GetFilterChains() {
		for _, f := range fc.GetFilters() {
			if hcm := resource.GetHTTPConnectionManager(f); hcm != nil {
				return hcm.GetRds().GetRouteConfigName(), nil
			}
		}
	}
	return "", nil
}

// consistentForGoControlPlane runs cache.Snapshot.Consistent. go-control-plane does not follow
// api_listener references, so the proxyless listeners and their route configurations (checked
// by checkReferences) are left out of this check.
func consistentForGoControlPlane(r *Resources) error {
	proxylessRoutes := map[string]bool{}
	var listeners []types.Resource
	for _, l := range r.Listeners {
		if l.GetApiListener() != nil {
			name, _ := rdsName(l)
			proxylessRoutes[name] = true
			continue
		}
		listeners = append(listeners, l)
	}
	var routes []types.Resource
	for _, rc := range r.Routes {
		if !proxylessRoutes[rc.GetName()] {
			routes = append(routes, rc)
		}
	}
	snap, err := cache.NewSnapshot("check", map[resource.Type][]types.Resource{
		resource.ListenerType: listeners,
		resource.RouteType:    routes,
		resource.ClusterType:  asResources(r.Clusters),
		resource.EndpointType: asResources(r.Endpoints),
	})
	if err != nil {
		return fmt.Errorf("building snapshot: %w", err)
	}
	if err := snap.Consistent(); err != nil {
		return fmt.Errorf("inconsistent resources: %w", err)
	}
	return nil
}

// asResources widens a typed slice to go-control-plane's resource slice.
func asResources[T types.Resource](items []T) []types.Resource {
	out := make([]types.Resource, len(items))
	for i, it := range items {
		out[i] = it
	}
	return out
}

// checkDubboRoutes validates the DRDS resource and checks that its clusters exist.
func checkDubboRoutes(r *Resources) error {
	if r.DubboRoutes == nil {
		return nil
	}
	if err := r.DubboRoutes.ValidateAll(); err != nil {
		return fmt.Errorf("dubbo routes %q: %w", r.DubboRoutes.GetName(), err)
	}
	clusters := map[string]bool{}
	for _, c := range r.Clusters {
		clusters[c.GetName()] = true
	}
	for _, rc := range r.DubboRoutes.GetRouteConfig() {
		for _, rt := range rc.GetRoutes() {
			targets := []string{rt.GetRoute().GetCluster()}
			for _, w := range rt.GetRoute().GetWeightedClusters().GetClusters() {
				targets = append(targets, w.GetName())
			}
			for _, target := range targets {
				if target != "" && !clusters[target] {
					return fmt.Errorf("dubbo route configuration %q: cluster %q does not exist", rc.GetName(), target)
				}
			}
		}
	}
	return nil
}
