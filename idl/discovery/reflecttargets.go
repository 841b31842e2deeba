package discovery

import (
	"net"
	"path"
	"strconv"
	"strings"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/registries"
)

// reflectTarget is one service to ask through reflection.
type reflectTarget struct {
	// service is the fully qualified gRPC service name.
	service string
	// addr is the endpoint to dial ("host:port").
	addr string
	// endpoints identifies the endpoint set; a change causes a refetch.
	endpoints string
}

// reflectTargets picks, from a catalog, the gRPC and Triple services whose Name matches one of
// the include globs (path.Match syntax), each with one healthy endpoint to dial. Services with no
// healthy endpoint are left out. The result is keyed by service name.
func reflectTargets(cat bridge.Catalog, include []string) map[string]reflectTarget {
	out := map[string]reflectTarget{}
	for _, svc := range cat.Services {
		if svc.Protocol != registries.ProtocolGRPC && svc.Protocol != registries.ProtocolTriple {
			continue
		}
		if !matchesAny(include, svc.Name) {
			continue
		}
		var addrs []string
		for _, ep := range svc.Endpoints {
			if ep.Healthy && !ep.Stale {
				addrs = append(addrs, net.JoinHostPort(ep.Address, strconv.FormatUint(uint64(ep.Port), 10)))
			}
		}
		if len(addrs) == 0 {
			continue
		}
		key := strings.Join(addrs, ",")
		if prev, ok := out[svc.Name]; ok {
			// The same name under two protocols: merge the endpoint sets, keep the first address.
			prev.endpoints += "," + key
			out[svc.Name] = prev
			continue
		}
		out[svc.Name] = reflectTarget{service: svc.Name, addr: addrs[0], endpoints: key}
	}
	return out
}

// matchesAny reports whether name matches one of the globs; a malformed glob matches nothing.
func matchesAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, err := path.Match(g, name); err == nil && ok {
			return true
		}
	}
	return false
}
