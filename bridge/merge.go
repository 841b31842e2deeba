package bridge

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
)

const stage = "bridge"

// Options are what Merge needs besides the snapshots.
type Options struct {
	// Filters maps a source name to its filter; a source without one keeps every service.
	Filters map[string]Filter
	// Retention maps a source name to how long a service it stops listing keeps its place in
	// the catalog, without endpoints (see Memory); a source without one, or with 0, drops such a
	// service at once.
	Retention map[string]time.Duration
	// Memory is what the previous Merge returned; the zero Memory remembers nothing.
	Memory Memory
	// Now is the time of this merge: it dates the services that left and ends retentions. A
	// zero Now retains nothing.
	Now time.Time
}

// Merge turns the snapshots of every source into one catalog, and returns what it remembers for
// the next call. It is a pure function: the same snapshots (in any order) and options give the
// same catalog and memory.
//
// A service listed by several registries becomes one Service with the endpoints of each, labelled
// by source; the same address:port listed twice is kept once (first source by name). Conflicting
// claims (one name with different protocols, or different metadata values) are kept apart or
// resolved deterministically and reported as diagnostics, never silently. A service that a
// source stopped listing, and that no other source lists, stays for the source's retention with
// no endpoints and marked Retained, as it was last listed, with a diagnostic.
func Merge(snaps []registries.Snapshot, opts Options) (Catalog, Memory) {
	snaps = slices.Clone(snaps)
	slices.SortFunc(snaps, func(a, b registries.Snapshot) int { return cmp.Compare(a.Source, b.Source) })

	var cat Catalog
	byID := map[string]*Service{}
	protocolsByName := map[string]map[registries.Protocol][]string{}
	for _, snap := range snaps {
		if !snap.Synced {
			cat.Pending = append(cat.Pending, snap.Source)
		}
		if snap.Stale {
			cat.Stale = append(cat.Stale, snap.Source)
		}
		cat.Diagnostics = append(cat.Diagnostics, snap.Diagnostics...)
		filter := opts.Filters[snap.Source]
		for _, rs := range snap.Services {
			if !filter.Allows(rs.Name) {
				continue
			}
			name := displayName(rs)
			if protocolsByName[name] == nil {
				protocolsByName[name] = map[registries.Protocol][]string{}
			}
			fam := family(rs.Protocol)
			protocolsByName[name][fam] = append(protocolsByName[name][fam], snap.Source)
			cat.Diagnostics = append(cat.Diagnostics, addService(byID, snap, rs)...)
		}
	}
	cat.Diagnostics = append(cat.Diagnostics, protocolConflicts(protocolsByName)...)
	mem := remember(snaps, opts)
	retained, ds := retainedServices(mem, byID, opts)
	cat.Diagnostics = append(cat.Diagnostics, ds...)
	maps.Copy(byID, retained)

	for _, id := range slices.Sorted(maps.Keys(byID)) {
		svc := byID[id]
		slices.Sort(svc.Methods)
		svc.Methods = slices.Compact(svc.Methods)
		slices.SortFunc(svc.Endpoints, compareEndpoints)
		svc.Endpoints = slices.CompactFunc(svc.Endpoints, sameAddress)
		if svc.Endpoints == nil {
			svc.Endpoints = []Endpoint{} // "endpoints": [] in JSON, never null
		}
		cat.Services = append(cat.Services, *svc)
	}
	diag.Sort(cat.Diagnostics)
	return cat, mem
}

// addService folds one registry service into the catalog entry of its identity.
func addService(byID map[string]*Service, snap registries.Snapshot, rs registries.Service) []diag.Diagnostic {
	id := ServiceID(rs)
	svc, ok := byID[id]
	if !ok {
		svc = &Service{
			ID: id, Name: displayName(rs), Protocol: rs.Protocol,
			Interface: rs.Interface, Version: rs.Version, Group: rs.Group,
		}
		byID[id] = svc
	}
	var ds []diag.Diagnostic
	if svc.Protocol != rs.Protocol {
		// Only grpc and triple share identities; the service stays grpc, which both speak.
		ds = append(ds, diag.Diagnostic{Severity: diag.Warning, Code: diag.BridgeProtocolMerged, Stage: stage, Subject: id, Message: fmt.Sprintf(
			"registry %s says protocol %s, an earlier registry says %s; serving it as grpc", snap.Source, rs.Protocol, svc.Protocol)})
		svc.Protocol = registries.ProtocolGRPC
	}
	if !slices.Contains(svc.Sources, snap.Source) {
		svc.Sources = append(svc.Sources, snap.Source)
	}
	svc.Methods = append(svc.Methods, rs.Methods...)
	for _, k := range slices.Sorted(maps.Keys(rs.Metadata)) {
		v := rs.Metadata[k]
		old, had := svc.Metadata[k]
		switch {
		case !had:
			if svc.Metadata == nil {
				svc.Metadata = map[string]string{}
			}
			svc.Metadata[k] = v
		case old != v:
			ds = append(ds, diag.Diagnostic{Severity: diag.Warning, Code: diag.BridgeMetadataConflict, Stage: stage, Subject: id, Message: fmt.Sprintf(
				"metadata %q is %q in registry %s but %q in an earlier registry; keeping %q", k, v, snap.Source, old, old)})
		}
	}
	for _, ep := range rs.Endpoints {
		svc.Endpoints = append(svc.Endpoints, Endpoint{Endpoint: ep, Source: snap.Source, Stale: snap.Stale})
	}
	return ds
}

// protocolConflicts reports names that registries claim with more than one protocol family.
func protocolConflicts(byName map[string]map[registries.Protocol][]string) []diag.Diagnostic {
	var ds []diag.Diagnostic
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		claims := byName[name]
		if len(claims) < 2 {
			continue
		}
		var parts []string
		for _, p := range slices.Sorted(maps.Keys(claims)) {
			srcs := slices.Compact(slices.Sorted(slices.Values(claims[p])))
			parts = append(parts, fmt.Sprintf("%s (%s)", p, strings.Join(srcs, ", ")))
		}
		ds = append(ds, diag.Diagnostic{Severity: diag.Warning, Code: diag.BridgeProtocolConflict, Stage: stage, Subject: name, Message: fmt.Sprintf(
			"registries disagree on the protocol: %s; each claim is kept as its own service", strings.Join(parts, ", "))})
	}
	return ds
}

// family groups the protocols that share identities: Triple is gRPC-compatible.
func family(p registries.Protocol) registries.Protocol {
	if p == registries.ProtocolTriple {
		return registries.ProtocolGRPC
	}
	return p
}

func compareEndpoints(a, b Endpoint) int {
	return cmp.Or(
		cmp.Compare(a.Address, b.Address),
		cmp.Compare(a.Port, b.Port),
		cmp.Compare(a.Source, b.Source),
	)
}

func sameAddress(a, b Endpoint) bool { return a.Address == b.Address && a.Port == b.Port }
