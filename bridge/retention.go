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

// Memory is what Merge remembers from one call to the next: for every source, each service it
// listed, as it last listed it (without endpoints), and, for a service the source no longer
// lists, when Merge first saw it missing. It is how a service whose last provider left keeps its
// place in the catalog for the source's retention (Options.Retention) instead of vanishing.
//
// Registries such as ZooKeeper, Nacos and Consul have no service object apart from its
// providers: "no provider is registered" is all a registry says both while the only provider
// restarts and after the service was retired. Envoy keeps a cluster whose EDS resource has no
// endpoints and answers its routes with 503 "no healthy upstream", response flag UH
// (https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage,
// "UH: No healthy upstream hosts in upstream cluster in addition to 503 response code"); a
// Kubernetes Service or ServiceEntry with no ready endpoint keeps its routes the same way in
// Istio. Retention gives a registry service that semantics for a bounded time, after which its
// routes go (404, NR).
//
// The zero Memory remembers nothing. Merge never modifies the Memory it is given.
type Memory struct {
	// Sources maps a source name to the services it listed, sorted by ID, then registry name.
	Sources map[string][]Remembered `json:"sources,omitempty" yaml:"sources,omitempty"`
}

// Remembered is one service a source listed.
type Remembered struct {
	// Service is the registry service as the source last listed it, without its endpoints.
	Service registries.Service `json:"service" yaml:"service"`
	// Gone is when Merge first saw the source without the service; zero while the source lists it.
	Gone time.Time `json:"gone,omitzero" yaml:"gone,omitempty"`
}

// Retained marks a catalog service that no registry lists any more but whose routes are kept,
// without endpoints, so that they answer 503 instead of 404.
type Retained struct {
	// Since is when the service left the registries that retain it (the latest of their
	// departures).
	Since time.Time `json:"since" yaml:"since"`
	// Until is when the service leaves the catalog, with its routes, unless a registry lists it
	// again before.
	Until time.Time `json:"until" yaml:"until"`
}

// rememberKey identifies a registry service within one source: its catalog identity and its
// registry name (which filters match).
type rememberKey struct{ id, name string }

func keyOf(s registries.Service) rememberKey { return rememberKey{ServiceID(s), s.Name} }

// remember computes the Memory after a merge at opts.Now: what each source lists now, and what
// it listed before and no longer lists, kept while its retention lasts. A source that is gone
// from snaps (removed from the configuration) is forgotten with its services: that is the
// operator's decision, not a registry's.
func remember(snaps []registries.Snapshot, opts Options) Memory {
	var mem Memory
	for _, snap := range snaps {
		listed := map[rememberKey]bool{}
		var rs []Remembered
		for _, s := range snap.Services {
			k := keyOf(s)
			if listed[k] {
				continue
			}
			listed[k] = true
			s.Endpoints = nil
			rs = append(rs, Remembered{Service: s})
		}
		keep := opts.Retention[snap.Source]
		for _, r := range opts.Memory.Sources[snap.Source] {
			k := keyOf(r.Service)
			if listed[k] || keep <= 0 || opts.Now.IsZero() {
				continue
			}
			gone := cmp.Or(r.Gone, opts.Now)
			if !opts.Now.Before(gone.Add(keep)) {
				continue // its retention is over
			}
			listed[k] = true
			rs = append(rs, Remembered{Service: r.Service, Gone: gone})
		}
		if len(rs) == 0 {
			continue
		}
		slices.SortFunc(rs, func(a, b Remembered) int {
			ka, kb := keyOf(a.Service), keyOf(b.Service)
			return cmp.Or(cmp.Compare(ka.id, kb.id), cmp.Compare(ka.name, kb.name))
		})
		if mem.Sources == nil {
			mem.Sources = map[string][]Remembered{}
		}
		mem.Sources[snap.Source] = rs
	}
	return mem
}

// retainedServices returns the services of mem that no source lists any more, that no live
// service of byID already covers and that the sources' filters still allow, each without
// endpoints and marked Retained, with a diagnostic each; the map is keyed by service ID.
func retainedServices(mem Memory, byID map[string]*Service, opts Options) (map[string]*Service, []diag.Diagnostic) {
	out := map[string]*Service{}
	left := map[string][]string{} // by ID: "<source> at <time>", for the diagnostic
	var ds []diag.Diagnostic
	for _, src := range slices.Sorted(maps.Keys(mem.Sources)) {
		filter := opts.Filters[src]
		for _, r := range mem.Sources[src] {
			id := ServiceID(r.Service)
			if r.Gone.IsZero() || byID[id] != nil || !filter.Allows(r.Service.Name) {
				continue
			}
			ds = append(ds, addService(out, registries.Snapshot{Source: src}, r.Service)...)
			svc := out[id]
			until := r.Gone.Add(opts.Retention[src])
			if svc.Retained == nil {
				svc.Retained = &Retained{Since: r.Gone, Until: until}
			} else {
				svc.Retained.Since = later(svc.Retained.Since, r.Gone)
				svc.Retained.Until = later(svc.Retained.Until, until)
			}
			left[id] = append(left[id], src+" at "+stamp(r.Gone))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(out)) {
		ds = append(ds, diag.Diagnostic{Code: diag.ServiceRetained, Severity: diag.Warning, Stage: stage, Subject: id, Message: fmt.Sprintf(
			"no registry lists a provider any more (it left %s); its routes stay, without endpoints, "+
				"answering 503 no_healthy_upstream, until %s, then they are removed (registries[].serviceRetention)",
			strings.Join(left[id], ", "), stamp(out[id].Retained.Until))})
	}
	return out, ds
}

// NextExpiry returns the earliest time at which a retained service of cat leaves it, so that a
// runner can merge again then; ok is false when no service is retained.
func NextExpiry(cat Catalog) (next time.Time, ok bool) {
	for _, s := range cat.Services {
		if s.Retained != nil && (!ok || s.Retained.Until.Before(next)) {
			next, ok = s.Retained.Until, true
		}
	}
	return next, ok
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// stamp renders a time for diagnostics, in UTC to the second.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
