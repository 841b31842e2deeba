package transcoding

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/registries"
)

// rpcResult is what the RPC half of Build produces before conflicts are resolved.
type rpcResult struct {
	candidates []candidate
	// protos are the chosen protobuf definitions by fully qualified service name.
	protos map[string]protoService
	// javas are the chosen Java definitions by cluster (service ID).
	javas map[string]javaService
	diags []diag.Diagnostic
}

// rpcRoutes builds the candidate routes of every gRPC, Triple and Dubbo service of the catalog.
func rpcRoutes(cat bridge.Catalog, schemas []idl.Schema, rules Rules) rpcResult {
	res := rpcResult{protos: map[string]protoService{}, javas: map[string]javaService{}}
	idx, ds := indexSchemas(schemas)
	res.diags = ds
	byService := rulesByService(cat, rules.RPC, &res.diags)
	for _, svc := range cat.Services {
		var cs []candidate
		var ds []diag.Diagnostic
		switch svc.Protocol {
		case registries.ProtocolGRPC, registries.ProtocolTriple:
			name := svc.Name
			ps, ok, lds := idx.protoFor(svc.ID, name)
			if !ok && svc.Interface != "" {
				name = svc.Interface
				ps, ok, lds = idx.protoFor(svc.ID, name)
			}
			res.diags = append(res.diags, lds...)
			if !ok && svc.Protocol == registries.ProtocolTriple {
				// Triple without a protobuf IDL: a Java interface whose calls go in Triple's
				// hessian2 wrapper messages (non-IDL mode).
				if twin, ok := dubboTwin(cat, svc); ok {
					res.diags = append(res.diags, diagnostic(diag.TripleServedOverDubbo, diag.Info, svc.ID, fmt.Sprintf(
						"the providers also serve this interface over dubbo (%s), whose routes it gets; no REST routes over Triple", twin)))
					continue
				}
				if js, ok, _ := idx.javaFor(svc.ID, cmp.Or(svc.Interface, svc.Name)); ok {
					res.javas[svc.ID] = js
					cs, ds = tripleRoutes(svc, js, byService[svc.ID], rules.DefaultTimeout.Std())
					break
				}
			}
			if !ok {
				res.diags = append(res.diags, noSchema(svc.ID, "no protobuf schema defines service "+svc.Name+
					"; it gets no REST routes (proxyless gRPC clients can still call it)", byService[svc.ID])...)
				continue
			}
			res.protos[ps.info.Name] = ps
			cs, ds = grpcRoutes(svc, ps, byService[svc.ID], rules.DefaultTimeout.Std())
		case registries.ProtocolDubbo:
			iface := cmp.Or(svc.Interface, svc.Name)
			js, ok, lds := idx.javaFor(svc.ID, iface)
			res.diags = append(res.diags, lds...)
			if !ok {
				res.diags = append(res.diags, noSchema(svc.ID, "no schema defines Java interface "+iface+
					"; it gets no REST routes until its API is uploaded or found in a metadata center", byService[svc.ID])...)
				continue
			}
			res.javas[svc.ID] = js
			cs, ds = dubboRoutes(svc, js, byService[svc.ID], rules.DefaultTimeout.Std())
		}
		res.candidates = append(res.candidates, cs...)
		res.diags = append(res.diags, ds...)
	}
	return res
}

// noSchema reports a service without a schema, and every rule that names it.
func noSchema(subject, msg string, rules []RPCRule) []diag.Diagnostic {
	ds := []diag.Diagnostic{diagnostic(diag.SchemaMissing, diag.Info, subject, msg)}
	for _, r := range rules {
		ds = append(ds, diagnostic(diag.SchemaMissing, diag.Error, r.Origin, fmt.Sprintf("service %s has no schema, so its methods are unknown; the rule is skipped", subject)))
	}
	return ds
}

// rulesByService resolves the service of every RPC rule.
func rulesByService(cat bridge.Catalog, rules []RPCRule, ds *[]diag.Diagnostic) map[string][]RPCRule {
	out := map[string][]RPCRule{}
	for _, r := range rules {
		svc, err := findRPCService(cat, r.Service)
		if err != nil {
			*ds = append(*ds, diagnostic(diag.RuleUnknownService, diag.Error, r.Origin, err.Error()+"; the rule is skipped"))
			continue
		}
		if svc.Protocol == registries.ProtocolHTTP {
			*ds = append(*ds, diagnostic(diag.RuleWrongProtocol, diag.Error, r.Origin, fmt.Sprintf(
				"service %s speaks http; RPC rules route gRPC, Triple and Dubbo methods (use an HTTP rule); the rule is skipped", svc.ID)))
			continue
		}
		out[svc.ID] = append(out[svc.ID], r)
	}
	return out
}

// findRPCService is findService that also accepts a Dubbo interface that one service has.
func findRPCService(cat bridge.Catalog, ref string) (bridge.Service, error) {
	svc, err := findService(cat, ref)
	if err == nil {
		return svc, nil
	}
	var byInterface []bridge.Service
	for _, s := range cat.Services {
		if s.Interface == ref {
			byInterface = append(byInterface, s)
		}
	}
	if len(byInterface) == 1 {
		return byInterface[0], nil
	}
	if len(byInterface) > 1 {
		return bridge.Service{}, fmt.Errorf("interface %q has %d services (versions or groups): use the service ID", ref, len(byInterface))
	}
	return bridge.Service{}, err
}

// rpcOutputs computes the descriptor sets and Java classes that the served routes need.
func rpcOutputs(routes []ir.Route, res rpcResult) ([]ir.ProtoDescriptors, []ir.JavaClass, []diag.Diagnostic) {
	var descs []ir.ProtoDescriptors
	done := map[string]bool{}
	types := map[string][]idl.TypeName{} // by cluster
	for _, r := range routes {
		if r.GRPC != nil && !done[r.GRPC.Service] {
			done[r.GRPC.Service] = true
			ps := res.protos[r.GRPC.Service]
			descs = append(descs, ir.ProtoDescriptors{Service: r.GRPC.Service, FileDescriptorSet: ps.encoded, Docs: ps.docs})
		}
		if r.Dubbo != nil {
			types[r.Cluster] = append(types[r.Cluster], idl.TypeName(r.Dubbo.Returns))
			for _, p := range r.Dubbo.Params {
				types[r.Cluster] = append(types[r.Cluster], idl.TypeName(p.Type))
			}
		}
	}
	slices.SortFunc(descs, func(a, b ir.ProtoDescriptors) int { return cmp.Compare(a.Service, b.Service) })

	var ds []diag.Diagnostic
	type origin struct{ cluster, schema string }
	classes := map[string]ir.JavaClass{}
	from := map[string]origin{}
	for _, cluster := range slices.Sorted(maps.Keys(types)) {
		js := res.javas[cluster]
		for _, c := range reachableFrom(js.classes, types[cluster]) {
			if prev, ok := classes[c.Name]; ok {
				if !reflect.DeepEqual(undocumentedClasses([]ir.JavaClass{prev}), undocumentedClasses([]ir.JavaClass{c})) {
					ds = append(ds, diagnostic(diag.SchemaClassConflict, diag.Warning, cluster, fmt.Sprintf(
						"class %s differs between schema %q (used by %s) and schema %q; the first is used", c.Name, from[c.Name].schema, from[c.Name].cluster, js.schema)))
				}
				continue
			}
			classes[c.Name], from[c.Name] = c, origin{cluster, js.schema}
			for _, f := range c.Fields {
				if u := idl.TypeName(f.Type).Unsupported(); u != "" {
					ds = append(ds, diagnostic(diag.JavaTypeUnmapped, diag.Warning, cluster, fmt.Sprintf(
						"field %s of class %s %s, which has no JSON mapping: the gateway accepts and answers only null for it", f.Name, c.Name, needs(idl.TypeName(f.Type), u))))
				}
			}
		}
	}
	var out []ir.JavaClass
	for _, name := range slices.Sorted(maps.Keys(classes)) {
		out = append(out, classes[name])
	}
	return descs, out, ds
}
