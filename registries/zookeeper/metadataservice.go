package zookeeper

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
)

// Dubbo 3 application-level instances say which services they serve only through their
// MetadataService: the source has dubbometa call getMetadataInfo(revision) on one instance per
// (application, revision), off the listing path, and publishes each interface/version/group it
// returns as its own service. Until then (or while the call fails) the interface keeps its
// placeholder service with empty version and group.

// revisionOf is the metadata revision an instance advertises ("" when it has none).
func (in instance) revisionOf() string { return in.Metadata[dubbometa.KeyRevision] }

// startMetadataFetches hands the fetcher the revisions the readable instances advertise.
func startMetadataFetches(ctx context.Context, f *dubbometa.Fetcher, st *state) {
	wanted := map[dubbometa.Revision][]dubbometa.Instance{}
	for app, nodes := range st.apps {
		for _, name := range slices.Sorted(maps.Keys(nodes)) {
			n := nodes[name]
			if n.err == nil && n.inst.revisionOf() != "" {
				k := dubbometa.Revision{App: app, Revision: n.inst.revisionOf()}
				wanted[k] = append(wanted[k], n.inst.forMetadata())
			}
		}
	}
	if f.Start(ctx, st.appMeta, wanted) {
		st.changed = true
	}
}

// resolvedAppLevel builds the services that fetched metadata describes: one per interface,
// version, group and protocol, with the endpoints of every instance whose revision lists it.
// Interfaces for which skip is true (registered at interface level) are left out. It returns
// the services and the instances whose metadata is not known yet. It is a pure function.
func resolvedAppLevel(stage string, instances map[string][]appInstance, meta dubbometa.Cache,
	skip func(iface string) bool) ([]registries.Service, map[string][]appInstance, []diag.Diagnostic) {
	type key struct{ iface, version, group, protocol string }
	byKey := map[key]*registries.Service{}
	pending := map[string][]appInstance{}
	var diags []diag.Diagnostic
	for _, app := range slices.Sorted(maps.Keys(instances)) {
		for _, ai := range instances[app] {
			e := meta[dubbometa.Revision{App: app, Revision: ai.inst.revisionOf()}]
			if e == nil || !e.Fetched {
				pending[app] = append(pending[app], ai)
				continue
			}
			for _, si := range e.Services {
				if skip(si.Name) {
					continue
				}
				protocol, ok := protocolOf(si.Protocol)
				if !ok {
					continue
				}
				port, ok := ai.inst.endpointFor(map[registries.Protocol]string{registries.ProtocolDubbo: "dubbo", registries.ProtocolTriple: "tri"}[protocol])
				if !ok && si.Port > 0 && si.Port <= 65535 {
					port, ok = uint32(si.Port), true
				}
				if !ok {
					diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Stage: stage, Subject: ai.path,
						Message: fmt.Sprintf("instance has no %s port; not an endpoint of %s", si.Protocol, si.Name)})
					continue
				}
				k := key{si.Name, si.Version, si.Group, string(protocol)}
				svc := byKey[k]
				if svc == nil {
					svc = &registries.Service{Name: fmt.Sprintf("providers:%s:%s:%s", si.Name, si.Version, si.Group),
						Protocol: protocol, Interface: si.Name, Version: si.Version, Group: si.Group,
						Metadata: map[string]string{"registration": "application", "application": app}}
					for p, v := range si.Params {
						if !perEndpointParams[p] && dubbometa.IsServiceParam(p) {
							svc.Metadata[p] = v
						}
					}
					svc.Metadata["application"] = app
					if m := si.Params["methods"]; m != "" {
						svc.Methods = dubbometa.DropGoMethodAliases(slices.Compact(slices.Sorted(slices.Values(strings.Split(m, ",")))))
					}
					byKey[k] = svc
				}
				ep := registries.Endpoint{Address: ai.inst.Address, Port: port, Weight: 100, Healthy: true,
					Labels: map[string]string{"application": app, "revision": ai.inst.revisionOf()}}
				if si.Version != "" {
					ep.Labels["version"] = si.Version
				}
				if si.Group != "" {
					ep.Labels["group"] = si.Group
				}
				if !slices.ContainsFunc(svc.Endpoints, func(x registries.Endpoint) bool { return x.Address == ep.Address && x.Port == ep.Port }) {
					svc.Endpoints = append(svc.Endpoints, ep)
				}
			}
		}
	}
	var services []registries.Service
	protocolsOf := map[[3]string]int{}
	for k := range byKey {
		protocolsOf[[3]string{k.iface, k.version, k.group}]++
	}
	for _, k := range slices.SortedFunc(maps.Keys(byKey), func(a, b key) int {
		return strings.Compare(a.iface+":"+a.version+":"+a.group+":"+a.protocol, b.iface+":"+b.version+":"+b.group+":"+b.protocol)
	}) {
		svc := byKey[k]
		if protocolsOf[[3]string{k.iface, k.version, k.group}] > 1 && svc.Protocol != registries.ProtocolDubbo {
			svc.Name += ":" + string(svc.Protocol)
		}
		slices.SortFunc(svc.Endpoints, compareEndpoints)
		services = append(services, *svc)
	}
	return services, pending, diags
}

// metadataDiagnostics explains the (application, revision) pairs whose metadata is missing.
func metadataDiagnostics(stage string, meta dubbometa.Cache) []diag.Diagnostic {
	var diags []diag.Diagnostic
	for k, e := range meta {
		if e.Fetched || e.Err == nil {
			continue
		}
		diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Stage: stage, Subject: "/services/" + k.App,
			Message: fmt.Sprintf("MetadataService call for revision %s failed %d time(s): %v; retrying, services keep empty version and group meanwhile",
				k.Revision, e.Failures, e.Err)})
	}
	return diags
}
