// Package registries defines what a registry adapter publishes: the full state of one registry as
// a Snapshot of services and endpoints, and the Source interface that every adapter implements.
//
// Adapters live in sub-packages (static, zookeeper, nacos, consul). Each one watches a single
// registry and publishes a complete Snapshot whenever what it knows changes; consumers never see
// partial updates. A Source that loses its registry keeps publishing the last known services with
// Stale set, so that a registry outage never empties the catalog, and says why with an
// Unreachable diagnostic (on a pending snapshot when it never listed).
package registries

import (
	"context"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/diag"
)

// Protocol is the wire protocol a service speaks.
type Protocol string

// The protocols rpcbridge knows.
const (
	ProtocolHTTP   Protocol = "http"
	ProtocolGRPC   Protocol = "grpc"
	ProtocolTriple Protocol = "triple"
	ProtocolDubbo  Protocol = "dubbo"
)

// Valid reports whether p is one of the known protocols, by its canonical name.
func (p Protocol) Valid() bool {
	switch p {
	case ProtocolHTTP, ProtocolGRPC, ProtocolTriple, ProtocolDubbo:
		return true
	}
	return false
}

// protocolNames are the names registries use for the protocols, each with what it means. This is
// the one alias set of every adapter: Dubbo URL schemes and MetadataInfo protocols (ZooKeeper,
// Nacos), "dubbo.endpoints" entries, Nacos "protocol" metadata, Consul metadata and tags.
var protocolNames = []struct {
	name     string
	protocol Protocol
}{
	{"dubbo", ProtocolDubbo},
	{"grpc", ProtocolGRPC},
	// Plain HTTP, whatever its version: HTTP/2 is still HTTP, only an explicit "grpc" makes a
	// gRPC service. "rest" is Dubbo's REST protocol (rest://).
	{"http", ProtocolHTTP},
	{"http1", ProtocolHTTP},
	{"http2", ProtocolHTTP},
	{"rest", ProtocolHTTP},
	// Dubbo 3 Triple: Dubbo writes "tri", some registrations "triple".
	{"tri", ProtocolTriple},
	{"triple", ProtocolTriple},
}

// ParseProtocol maps the name a registry gives a protocol to the protocol, ignoring case and
// surrounding spaces: "dubbo"; "grpc"; "http", "http1", "http2" and "rest" (plain HTTP);
// "tri" and "triple". Any other name, "https" included (rpcbridge opens no TLS connections to
// upstreams, so such an endpoint cannot be called), is not a protocol rpcbridge serves.
func ParseProtocol(name string) (Protocol, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, n := range protocolNames {
		if n.name == name {
			return n.protocol, true
		}
	}
	return "", false
}

// ProtocolNames lists the names ParseProtocol accepts, for messages: "dubbo, grpc, http, ...".
func ProtocolNames() string {
	names := make([]string, len(protocolNames))
	for i, n := range protocolNames {
		names[i] = n.name
	}
	return strings.Join(names, ", ")
}

// Service is one service as a registry describes it.
type Service struct {
	// Name is the registry's own name for the service, such as "hello",
	// "providers:com.foo.Greeter:1.0.0:" or "helloworld.Greeter".
	Name string `json:"name" yaml:"name"`
	// Protocol is what the service speaks.
	Protocol Protocol `json:"protocol" yaml:"protocol"`
	// Interface is the Dubbo interface or the fully qualified gRPC service name, when the registry
	// names one.
	Interface string `json:"interface,omitempty" yaml:"interface,omitempty"`
	// Version is the Dubbo service version ("" when none).
	Version string `json:"version,omitempty" yaml:"version,omitempty"`
	// Group is the Dubbo service group ("" when none).
	Group string `json:"group,omitempty" yaml:"group,omitempty"`
	// Methods are the method names the registry advertises, sorted; empty when unknown.
	Methods []string `json:"methods,omitempty" yaml:"methods,omitempty"`
	// Metadata holds service-level parameters (for Dubbo, the provider URL parameters shared by
	// all endpoints), for later stages such as per-method timeouts.
	Metadata map[string]string `json:"metadata,omitempty" yaml:"metadata,omitempty"`
	// Endpoints are the instances serving the service.
	Endpoints []Endpoint `json:"endpoints" yaml:"endpoints"`
}

// Endpoint is one instance of a service.
type Endpoint struct {
	// Address is an IP address or host name.
	Address string `json:"address" yaml:"address"`
	// Port is the service port.
	Port uint32 `json:"port" yaml:"port"`
	// Weight is the load-balancing weight, 1..; adapters map "absent" and Dubbo's weight<=0 to 100.
	Weight uint32 `json:"weight" yaml:"weight"`
	// Healthy is false when the registry says the instance should not get traffic.
	Healthy bool `json:"healthy" yaml:"healthy"`
	// Locality is where the instance runs.
	Locality Locality `json:"locality,omitzero" yaml:"locality,omitempty"`
	// Labels are instance attributes: version, group, tags, registry metadata.
	Labels map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
}

// Locality is the region and zone (or Consul datacenter) of an endpoint.
type Locality struct {
	Region string `json:"region,omitempty" yaml:"region,omitempty"`
	Zone   string `json:"zone,omitempty" yaml:"zone,omitempty"`
}

// Snapshot is the full state of one registry at one moment.
type Snapshot struct {
	// Source is the registry's name from the configuration.
	Source string `json:"source" yaml:"source"`
	// Services are all services the registry holds that passed the adapter's checks.
	Services []Service `json:"services" yaml:"services"`
	// Synced is true once the adapter has completed its first full listing.
	Synced bool `json:"synced" yaml:"synced"`
	// Stale is true when the registry cannot be reached and Services is the last known state.
	Stale bool `json:"stale,omitempty" yaml:"stale,omitempty"`
	// Diagnostics explain entries that were skipped or repaired.
	Diagnostics []diag.Diagnostic `json:"diagnostics,omitempty" yaml:"diagnostics,omitempty"`
}

// Source watches one registry.
type Source interface {
	// Name is the registry's name from the configuration.
	Name() string
	// Run watches the registry until ctx ends, calling publish with the full state after every
	// change (never concurrently). It returns ctx's error when ctx ends, or another error when the
	// source cannot work at all (bad configuration); transient registry failures are retried
	// inside Run and published as Stale snapshots.
	Run(ctx context.Context, publish func(Snapshot)) error
}

// Activity is what a Source reports of its own work beside its snapshots, for metrics.
type Activity struct {
	// LastSync is when the source last completed a successful read of its registry (a listing
	// pass, an answered query), whether or not anything changed; zero before the first.
	LastSync time.Time
	// WatchRearms counts the watches the source set again after its first complete listing:
	// one-shot watches re-armed, blocking queries re-issued.
	WatchRearms uint64
}

// ActivityReporter is implemented by the Sources that report their Activity (ZooKeeper and
// Consul, whose watches must be set again after every event). Activity is safe to call while
// Run runs.
type ActivityReporter interface {
	Activity() Activity
}
