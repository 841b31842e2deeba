package nacos

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nacos-group/nacos-sdk-go/v2/model"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
)

// Dubbo 3 application-level instances say which services they serve only through their
// MetadataService: the source has dubbometa call getMetadataInfo(revision) on one instance per
// (application, revision) and publishes each interface/version/group it returns as
// "providers:<interface>:<version>:<group>" (the ZooKeeper adapter's naming). Instances whose
// revision is not resolved yet are published under their application's name.

// metaInstance is an instance as dubbometa reads it.
func metaInstance(in model.Instance) dubbometa.Instance {
	return dubbometa.Instance{Address: in.Ip, Port: int(in.Port), Metadata: in.Metadata}
}

// wantedRevisions lists, per (application, revision), the usable application-level instances
// that advertise it, in a stable order. It is a pure function.
func wantedRevisions(entries []entry) map[dubbometa.Revision][]dubbometa.Instance {
	wanted := map[dubbometa.Revision][]dubbometa.Instance{}
	for _, e := range entries {
		if isSkippedCategory(e.Name) || strings.HasPrefix(e.Name, "providers:") || !isApplicationLevel(e.Instances) {
			continue
		}
		for _, in := range e.Instances {
			rev := in.Metadata[metaRevision]
			if rev == "" || checkInstance(in) != "" {
				continue
			}
			k := dubbometa.Revision{App: e.Name, Revision: rev}
			wanted[k] = append(wanted[k], metaInstance(in))
		}
	}
	return wanted
}

// resolved builds the services the fetched metadata of e's instances describes: one per
// interface, version, group and protocol, with the endpoints of every instance whose revision
// lists it. It returns them and the instances whose metadata is not known yet.
func (t *translator) resolved(e entry, instances []model.Instance) ([]registries.Service, []model.Instance) {
	type key struct{ iface, version, group string }
	type keyProto struct {
		key
		protocol registries.Protocol
	}
	byKey := map[keyProto]*registries.Service{}
	var pending []model.Instance
	reported := map[string]bool{}
	for _, in := range instances {
		rev := in.Metadata[metaRevision]
		m := t.meta[dubbometa.Revision{App: e.Name, Revision: rev}]
		if rev == "" || m == nil || !m.Fetched {
			pending = append(pending, in)
			if m != nil && m.Err != nil && !reported[rev] {
				reported[rev] = true
				t.report(diag.Warning, serviceSubject(e), "MetadataService call for revision %s failed %d time(s): %v; retrying, the instances stay published as the application meanwhile",
					rev, m.Failures, m.Err)
			}
			continue
		}
		mi := metaInstance(in)
		for _, si := range m.Services {
			protocol, ok := protocolOf(si.Protocol)
			if !ok || (protocol != registries.ProtocolDubbo && protocol != registries.ProtocolTriple) {
				continue
			}
			port, ok := mi.EndpointFor(map[registries.Protocol]string{registries.ProtocolDubbo: "dubbo", registries.ProtocolTriple: "tri"}[protocol])
			if !ok && si.Port > 0 && si.Port <= 65535 {
				port, ok = uint32(si.Port), true
			}
			if !ok {
				t.report(diag.Warning, subject(e, in), "instance has no %s port; not an endpoint of %s", si.Protocol, si.Name)
				continue
			}
			k := keyProto{key{si.Name, si.Version, si.Group}, protocol}
			svc := byKey[k]
			if svc == nil {
				svc = &registries.Service{Name: fmt.Sprintf("providers:%s:%s:%s", si.Name, si.Version, si.Group),
					Protocol: protocol, Interface: si.Name, Version: si.Version, Group: si.Group,
					Metadata: map[string]string{}}
				for p, v := range si.Params {
					if !perEndpointParams[p] && dubbometa.IsServiceParam(p) {
						svc.Metadata[p] = v
					}
				}
				svc.Metadata["registration"] = "application"
				svc.Metadata["application"] = e.Name
				if methods := si.Params["methods"]; methods != "" {
					svc.Methods = dubbometa.DropGoMethodAliases(slices.Compact(slices.Sorted(slices.Values(strings.Split(methods, ",")))))
				}
				byKey[k] = svc
			}
			labels := map[string]string{"application": e.Name, metaRevision: rev}
			if si.Version != "" {
				labels["version"] = si.Version
			}
			if si.Group != "" {
				labels["group"] = si.Group
			}
			ep := endpointOf(e, in, port, nacosWeight(in.Weight), labels)
			if !slices.ContainsFunc(svc.Endpoints, func(x registries.Endpoint) bool { return x.Address == ep.Address && x.Port == ep.Port }) {
				svc.Endpoints = append(svc.Endpoints, ep)
			}
		}
	}
	protocols := map[key]int{}
	for k := range byKey {
		protocols[k.key]++
	}
	var out []registries.Service
	for _, k := range slices.SortedFunc(maps.Keys(byKey), func(a, b keyProto) int {
		return cmp.Or(cmp.Compare(a.iface, b.iface), cmp.Compare(a.version, b.version), cmp.Compare(a.group, b.group), cmp.Compare(a.protocol, b.protocol))
	}) {
		svc := byKey[k]
		if protocols[k.key] > 1 && svc.Protocol != registries.ProtocolDubbo {
			svc.Name += ":" + string(svc.Protocol)
		}
		out = append(out, *svc)
	}
	return out, pending
}
