package transcoding

import (
	"cmp"
	"slices"
	"time"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbourl"
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
//
// Their payload limit is Triple's, not Dubbo's (triplePayload).
func tripleRoutes(svc bridge.Service, js javaService, rules []RPCRule, defaultTimeout time.Duration) ([]candidate, []diag.Diagnostic) {
	cs, ds := dubboRoutes(svc, js, rules, defaultTimeout)
	limit, pds := triplePayload(svc)
	for i := range cs {
		if d := cs[i].route.Dubbo; d != nil {
			d.Protocol = ir.DubboProtocolTriple
			d.PayloadLimit = limit
		}
	}
	return cs, slices.DeleteFunc(append(ds, pds...), func(d diag.Diagnostic) bool {
		return d.Code == diag.DubboBadPayload && !slices.Contains(pds, d)
	})
}

// triplePayload is the request limit of a Triple service's providers (dubbourl.TriplePayload:
// the payload parameter, else dubbo-go's max-server-recv-msg-size or its 4 MiB default, else
// Java Dubbo's payload default), 0 when it is Dubbo's default, which gateways assume.
func triplePayload(svc bridge.Service) (int, []diag.Diagnostic) {
	limit, err := dubbourl.TriplePayload(svc.Metadata)
	var ds []diag.Diagnostic
	if err != nil {
		ds = append(ds, diagnostic(diag.DubboBadPayload, diag.Warning, svc.ID, err.Error()))
	}
	if limit == dubbourl.DefaultPayload {
		return 0, ds
	}
	return limit, ds
}
