package transcoding

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/registries"
)

const stage = "transcoding"

// SourceLabel is the endpoint label that names the registry an endpoint came from.
const SourceLabel = "rpcbridge.io/source"

// Build computes the gateway for a catalog. HTTP services get the routes their rules give them,
// or by default the prefix /<name>/ rewritten to /; gRPC and Triple services are offered to
// proxyless gRPC clients under their fully qualified name. Routes are ordered exact paths first,
// then longer prefixes before shorter ones, so that the order of rules never matters. Rules that
// name a missing service, and pairs of rules that claim the same requests, are reported; a
// conflicting pair is dropped whole rather than letting one silently win.
func Build(cat bridge.Catalog, schemas []idl.Schema, rules Rules) (ir.Gateway, []diag.Diagnostic) {
	g := ir.Gateway{Forwarding: rules.Forwarding, DubboValues: rules.DubboValues}
	rules, ds := rules.valid()
	connect := rules.ConnectTimeout.Or(DefaultConnectTimeout)

	exposed := map[string]bool{}
	grpcNames := map[string]string{}
	for _, svc := range cat.Services {
		switch svc.Protocol {
		case registries.ProtocolHTTP:
			g.Clusters = append(g.Clusters, cluster(svc, ir.UpstreamHTTP1, connect))
		case registries.ProtocolGRPC, registries.ProtocolTriple:
			g.Clusters = append(g.Clusters, cluster(svc, ir.UpstreamHTTP2, connect))
			if other, taken := grpcNames[svc.Name]; taken {
				ds = append(ds, diagnostic(diag.GRPCProxylessNameTaken, diag.Warning, svc.ID, fmt.Sprintf(
					"proxyless gRPC name %q is already served by %s; this service is not offered to xDS gRPC clients", svc.Name, other)))
				continue
			}
			grpcNames[svc.Name] = svc.ID
			g.GRPCServices = append(g.GRPCServices, ir.GRPCService{Name: svc.Name, Cluster: svc.ID, Timeout: rules.DefaultTimeout.Std()})
		case registries.ProtocolDubbo:
			g.Clusters = append(g.Clusters, cluster(svc, ir.UpstreamDubbo, connect))
		}
	}
	rpc := rpcRoutes(cat, schemas, rules)
	ds = append(ds, rpc.diags...)

	candidates, rds := ruleRoutes(cat, rules, exposed)
	ds = append(ds, rds...)
	candidates = append(candidates, rpc.candidates...)
	for _, svc := range cat.Services {
		if svc.Protocol == registries.ProtocolHTTP && !exposed[svc.ID] {
			prefix := "/" + svc.Name + "/"
			rewrite := "/"
			candidates = append(candidates, candidate{origin: "default route of " + svc.ID, route: ir.Route{
				Match: ir.Match{PathPrefix: prefix}, Cluster: svc.ID, PrefixRewrite: rewrite, Timeout: rules.DefaultTimeout.Std(),
			}})
		}
	}
	retained := map[string]bool{}
	for _, svc := range cat.Services {
		if svc.Retained != nil {
			retained[svc.ID] = true
		}
	}
	routes, cds := resolveConflicts(candidates, retained)
	g.Routes = routes
	ds = append(ds, cds...)
	ds = append(ds, applyUpstreamPolicies(&g, cat, rules.Upstreams)...)
	routes, pds := applyPolicies(g.Routes, cat, rules.Policies, rules.KeySets, rules.APIKeySets)
	g.Routes = routes
	ds = append(ds, pds...)
	ds = append(ds, applyCanaries(&g, rules.Policies)...)
	routes = g.Routes
	var ods []diag.Diagnostic
	g.ProtoDescriptors, g.JavaClasses, ods = rpcOutputs(routes, rpc)
	ds = append(ds, ods...)

	slices.SortFunc(g.Clusters, func(a, b ir.Cluster) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(g.GRPCServices, func(a, b ir.GRPCService) int { return cmp.Compare(a.Name, b.Name) })
	diag.Sort(ds)
	return g, ds
}

// cluster converts a catalog service into an upstream cluster.
func cluster(svc bridge.Service, proto ir.UpstreamProtocol, connect time.Duration) ir.Cluster {
	c := ir.Cluster{Name: svc.ID, Protocol: proto, ConnectTimeout: connect, Endpoints: make([]ir.Endpoint, 0, len(svc.Endpoints))}
	for _, ep := range svc.Endpoints {
		labels := maps.Clone(ep.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		labels[SourceLabel] = ep.Source
		c.Endpoints = append(c.Endpoints, ir.Endpoint{
			Address: ep.Address, Port: ep.Port, Weight: max(ep.Weight, 1), Healthy: ep.Healthy,
			Region: ep.Locality.Region, Zone: ep.Locality.Zone, Labels: labels,
		})
	}
	return c
}

// diagnostic is a finding of this stage.
func diagnostic(code diag.Code, sev diag.Severity, subject, msg string) diag.Diagnostic {
	return diag.Diagnostic{Severity: sev, Code: code, Stage: stage, Subject: subject, Message: msg}
}

// joinMethods renders a method list for route names and messages.
func joinMethods(ms []string) string {
	if len(ms) == 0 {
		return "*"
	}
	return strings.Join(ms, ",")
}
