// Package bridge merges the snapshots of every registry source into one Catalog: one Service per
// callable RPC target, with endpoints from every registry that lists it, filtered by the
// configured allow-lists, and with diagnostics for conflicting claims. It also remembers, from one
// merge to the next (Memory), the services a registry stopped listing, so that a service whose
// last provider left keeps its routes, without endpoints, for the registry's retention.
package bridge

import (
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
)

// Catalog is every known service, merged across registries.
type Catalog struct {
	// Services are sorted by ID.
	Services []Service `json:"services" yaml:"services"`
	// Pending names the sources that have not completed their first listing, sorted.
	Pending []string `json:"pending,omitempty" yaml:"pending,omitempty"`
	// Stale names the sources whose last listing is kept because the registry is unreachable.
	Stale []string `json:"stale,omitempty" yaml:"stale,omitempty"`
	// Diagnostics come from the sources and from merging, sorted.
	Diagnostics []diag.Diagnostic `json:"diagnostics,omitempty" yaml:"diagnostics,omitempty"`
}

// Service is one callable RPC target.
type Service struct {
	// ID is the service identity: "dubbo:{interface}:{version}:{group}", "grpc:{name}",
	// or "http:{name}" (see ServiceID).
	ID string `json:"id" yaml:"id"`
	// Name is the registry name (HTTP), the fully qualified service (gRPC), or the interface
	// (Dubbo).
	Name string `json:"name" yaml:"name"`
	// Protocol is what the service speaks; Triple services are reported as grpc-compatible
	// but keep their protocol here.
	Protocol registries.Protocol `json:"protocol" yaml:"protocol"`
	// Interface, Version and Group identify Dubbo services.
	Interface string `json:"interface,omitempty" yaml:"interface,omitempty"`
	Version   string `json:"version,omitempty" yaml:"version,omitempty"`
	Group     string `json:"group,omitempty" yaml:"group,omitempty"`
	// Methods is the union of the method names the registries advertise, sorted.
	Methods []string `json:"methods,omitempty" yaml:"methods,omitempty"`
	// Metadata is the service-level metadata; on conflicting values the source that sorts first
	// wins and a diagnostic is reported.
	Metadata map[string]string `json:"metadata,omitempty" yaml:"metadata,omitempty"`
	// Sources are the names of the registries that list the service, sorted; for a Retained
	// service, the ones that listed it last.
	Sources []string `json:"sources" yaml:"sources"`
	// Endpoints are sorted by address, port and source; empty, never nil, when there are none.
	Endpoints []Endpoint `json:"endpoints" yaml:"endpoints"`
	// Retained is set while no registry lists the service any more but it keeps its place
	// (and its routes, which answer 503) for its registries' retention; Endpoints is empty then.
	Retained *Retained `json:"retained,omitempty" yaml:"retained,omitempty"`
}

// Endpoint is a registry endpoint labelled with the registry it came from.
type Endpoint struct {
	registries.Endpoint `json:",inline" yaml:",inline"`
	// Source is the name of the registry that listed the endpoint.
	Source string `json:"source" yaml:"source"`
	// Stale is true when the endpoint is kept from a registry that cannot be reached.
	Stale bool `json:"stale,omitempty" yaml:"stale,omitempty"`
}
