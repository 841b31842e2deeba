package bridge

import (
	"path"

	"github.com/rpcbridge/rpcbridge/registries"
)

// ServiceID returns the identity of a registry service (DESIGN.md, "Service identity"):
//   - Dubbo: "dubbo:{interface}:{version}:{group}", empty parts kept;
//   - gRPC: "grpc:{fully qualified service}" when the registry names it, else "grpc:{name}";
//   - Triple: like gRPC, with ":{version}:{group}" appended when either is set, because Triple
//     services of one interface and different versions are different targets;
//   - HTTP: "http:{name}".
func ServiceID(s registries.Service) string {
	name := s.Name
	if s.Interface != "" {
		name = s.Interface
	}
	switch s.Protocol {
	case registries.ProtocolDubbo:
		return "dubbo:" + name + ":" + s.Version + ":" + s.Group
	case registries.ProtocolTriple:
		if s.Version != "" || s.Group != "" {
			return "grpc:" + name + ":" + s.Version + ":" + s.Group
		}
		return "grpc:" + name
	case registries.ProtocolGRPC:
		return "grpc:" + name
	default:
		return "http:" + s.Name
	}
}

// displayName is the human name of a service: the interface for RPC services, else the
// registry name.
func displayName(s registries.Service) string {
	if s.Protocol != registries.ProtocolHTTP && s.Interface != "" {
		return s.Interface
	}
	return s.Name
}

// Filter selects the services of one registry by their registry name.
type Filter struct {
	// Include keeps only names matching one of these globs (path.Match syntax); empty keeps all.
	Include []string
	// Exclude drops names matching one of these globs.
	Exclude []string
}

// Allows reports whether the filter keeps the service called name. Malformed globs never match;
// the configuration rejects them before they get here.
func (f Filter) Allows(name string) bool {
	if len(f.Include) > 0 && !matchAny(f.Include, name) {
		return false
	}
	return !matchAny(f.Exclude, name)
}

func matchAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}
