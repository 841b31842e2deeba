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
	// addr is the endpoint to dial ("host:port"); empty while the service has no endpoint that
	// can be dialed, which keeps its last schema without fetching.
	addr string
	// endpoints identifies the endpoint set; a change causes a refetch.
	endpoints string
}

// reflectTargets picks, from a catalog, the gRPC and Triple services whose Name matches one of
// the include globs (path.Match syntax), each with one healthy endpoint to dial. A service with no
// healthy, fresh endpoint (all unhealthy, its registry unreachable, or retained after its last
// provider left) is a target without an address: its last schema stays, so that its routes stay
// and answer 503 as Envoy answers for a cluster without hosts, and it is asked again once an
// endpoint comes back. The result is keyed by service name.
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
		key := strings.Join(addrs, ",")
		if prev, ok := out[svc.Name]; ok {
			// The same name under two protocols: merge the endpoint sets, keep the first address.
			prev.endpoints += "," + key
			if prev.addr == "" && len(addrs) > 0 {
				prev.addr = addrs[0]
			}
			out[svc.Name] = prev
			continue
		}
		t := reflectTarget{service: svc.Name, endpoints: key}
		if len(addrs) > 0 {
			t.addr = addrs[0]
		}
		out[svc.Name] = t
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
