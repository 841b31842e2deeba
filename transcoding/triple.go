package transcoding

import (
	"cmp"
	"time"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
)

// dubboTwin returns the ID of the Dubbo service of the same interface, version and group as
// Triple service svc, when the catalog has one: providers that export both protocols.
func dubboTwin(cat bridge.Catalog, svc bridge.Service) (string, bool) {
	iface := cmp.Or(svc.Interface, svc.Name)
	for _, s := range cat.Services {
		if s.Protocol == registries.ProtocolDubbo && cmp.Or(s.Interface, s.Name) == iface && s.Version == svc.Version && s.Group == svc.Group {
			return s.ID, true
		}
	}
	return "", false
}

// tripleRoutes are the routes of a Triple service that no protobuf schema defines but a Java
// interface does: Dubbo 3 Triple in non-IDL mode, what a Java provider serves when its protocol
// is switched to tri and it keeps its interfaces. They are the Dubbo routes of the interface
// (the same conventions, rules, overloads and timeouts) whose calls take the Triple protocol;
// their cluster is the service's HTTP/2 cluster. A service with a protobuf schema is IDL-mode
// Triple, which is gRPC on the wire and gets gRPC routes instead.
func tripleRoutes(svc bridge.Service, js javaService, rules []RPCRule, defaultTimeout time.Duration) ([]candidate, []diag.Diagnostic) {
	cs, ds := dubboRoutes(svc, js, rules, defaultTimeout)
	for i := range cs {
		if d := cs[i].route.Dubbo; d != nil {
			d.Protocol = ir.DubboProtocolTriple
		}
	}
	return cs, ds
}
