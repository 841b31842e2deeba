package nacos

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/nacos-group/nacos-sdk-go/v2/model"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
)

// Metadata keys of plain (non-Dubbo) instances.
const (
	metaProtocol    = "protocol"
	metaGRPCService = "grpc-service"
)

// plain builds the services of a service that is not a Dubbo registration. Instance metadata
// "protocol" says what it speaks (a name registries.ParseProtocol knows; absent means http, as
// for the Spring Cloud services that fill most Nacos registries), and for gRPC and
// Triple "grpc-service" may name the fully qualified service. Instances that disagree are
// split into one service per protocol and service name ("<name>:<protocol>[:<grpc-service>]").
func (t *translator) plain(e entry) []registries.Service {
	type split struct {
		protocol registries.Protocol
		iface    string
	}
	groups := map[split][]model.Instance{}
	for _, in := range e.Instances {
		if why := checkInstance(in); why != "" {
			t.report(diag.RegistryEntrySkipped, diag.Warning, subject(e, in), "%s", why)
			continue
		}
		name := in.Metadata[metaProtocol]
		if name == "" {
			name = "http"
		}
		p, ok := registries.ParseProtocol(name)
		if !ok {
			t.report(diag.RegistryProtocolUnknown, diag.Warning, subject(e, in), "instance skipped: protocol %q is not served (known: %s)", name, registries.ProtocolNames())
			continue
		}
		k := split{protocol: p}
		if p == registries.ProtocolGRPC || p == registries.ProtocolTriple {
			k.iface = strings.TrimSpace(in.Metadata[metaGRPCService])
		}
		groups[k] = append(groups[k], in)
	}
	keys := slices.SortedFunc(maps.Keys(groups), func(a, b split) int {
		return cmp.Or(cmp.Compare(a.protocol, b.protocol), cmp.Compare(a.iface, b.iface))
	})
	ifacesPerProtocol := map[registries.Protocol]int{}
	for _, k := range keys {
		ifacesPerProtocol[k.protocol]++
	}
	var out []registries.Service
	for _, k := range keys {
		name := e.Name
		if len(keys) > 1 {
			name += ":" + string(k.protocol)
			if ifacesPerProtocol[k.protocol] > 1 && k.iface != "" {
				name += ":" + k.iface
			}
		}
		svc := registries.Service{Name: name, Protocol: k.protocol, Interface: k.iface}
		var common map[string]string
		for _, in := range groups[k] {
			before := len(svc.Endpoints)
			t.addEndpoint(&svc, endpointOf(e, in, uint32(in.Port), nacosWeight(in.Weight), in.Metadata), subject(e, in))
			if len(svc.Endpoints) > before {
				common = intersect(common, in.Metadata)
			}
		}
		if len(common) > 0 {
			svc.Metadata = common
		}
		out = append(out, svc)
	}
	return out
}
