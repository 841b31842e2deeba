package dubbometa

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbourl"
)

// Registration is the service metadata key that says how a service was registered; Resolve and
// Placeholder set it to RegistrationApplication, and the service metadata key "application"
// to the application.
const (
	Registration            = "registration"
	RegistrationApplication = "application"
)

// Resolve builds the services that the fetched metadata in cache says instances serve: one
// service per interface, version, group and protocol the MetadataInfo of an instance's revision
// lists, named as dubbourl.ServiceName (and dubbourl.ProtocolName), with an endpoint for every
// instance that lists it, on the port the instance's dubbo.endpoints gives that protocol (else
// the port the MetadataInfo names). Service parameters become metadata as
// dubbourl.ServiceMetadata says; endpoints carry the instance's Endpoint with the labels
// application, KeyRevision, version and group added. Interfaces for which skip reports true are
// left out (skip may be nil).
//
// It returns the services (sorted by name), the instances whose revision has no answer yet (in
// their order), and diagnostics: an instance without a port for a protocol, and a revision whose
// MetadataService call failed (once per application and revision, on the first instance that
// advertises it). It is a pure function.
func Resolve(stage string, instances []Instance, cache Cache, skip func(iface string) bool) ([]registries.Service, []Instance, []diag.Diagnostic) {
	type identity struct{ iface, version, group string }
	type key struct {
		identity
		protocol registries.Protocol
	}
	byKey := map[key]*registries.Service{}
	var pending []Instance
	var diags []diag.Diagnostic
	warn := func(code diag.Code, subject, format string, args ...any) {
		diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Code: code, Stage: stage, Subject: subject,
			Message: fmt.Sprintf(format, args...)})
	}
	reported := map[Revision]bool{}
	for _, in := range instances {
		rev := Revision{App: in.App, Revision: in.Revision()}
		e := cache[rev]
		if rev.Revision == "" || e == nil || !e.Fetched {
			pending = append(pending, in)
			if e != nil && e.Err != nil && !reported[rev] {
				reported[rev] = true
				warn(diag.DubboMetadataUnavailable, in.Subject, "MetadataService call for revision %s failed %d time(s): %v; retrying, the instances stay published as a placeholder meanwhile",
					rev.Revision, e.Failures, e.Err)
			}
			continue
		}
		for _, si := range e.Services {
			if skip != nil && skip(si.Name) {
				continue
			}
			protocol, ok := registries.ParseProtocol(si.Protocol)
			if !ok {
				continue
			}
			port, ok := in.EndpointFor(protocol)
			if !ok && si.Port > 0 && si.Port <= 65535 {
				port, ok = uint32(si.Port), true
			}
			if !ok {
				warn(diag.DubboNoEndpoint, in.Subject, "instance has no %s port; not an endpoint of %s", si.Protocol, si.Name)
				continue
			}
			k := key{identity{si.Name, si.Version, si.Group}, protocol}
			svc := byKey[k]
			if svc == nil {
				svc = &registries.Service{Name: dubbourl.ServiceName(si.Name, si.Version, si.Group),
					Protocol: protocol, Interface: si.Name, Version: si.Version, Group: si.Group,
					Methods: dubbourl.ParseMethods(si.Params["methods"]), Metadata: dubbourl.ServiceMetadata(si.Params)}
				if svc.Metadata == nil {
					svc.Metadata = map[string]string{}
				}
				svc.Metadata[Registration] = RegistrationApplication
				svc.Metadata["application"] = in.App
				byKey[k] = svc
			}
			labels := map[string]string{}
			if si.Version != "" {
				labels["version"] = si.Version
			}
			if si.Group != "" {
				labels["group"] = si.Group
			}
			addEndpoint(svc, endpointOf(in, port, labels))
		}
	}
	protocols := map[identity]int{}
	for k := range byKey {
		protocols[k.identity]++
	}
	services := make([]registries.Service, 0, len(byKey))
	for k, svc := range byKey {
		svc.Name = dubbourl.ProtocolName(svc.Name, svc.Protocol, protocols[k.identity])
		sortEndpoints(svc.Endpoints)
		services = append(services, *svc)
	}
	slices.SortFunc(services, func(a, b registries.Service) int { return cmp.Compare(a.Name, b.Name) })
	return services, pending, diags
}

// Placeholder completes svc, the service an adapter publishes (under a name and with metadata
// of its own) for instances whose MetadataService has not said yet what they serve: it speaks
// dubbo when any of the instances has a dubbo port, triple otherwise, and has an endpoint for
// each instance on that port (once per address), labelled with the application and revision.
// Instances without that port are left out with a warning. It is a pure function.
func Placeholder(stage string, svc registries.Service, instances []Instance) (registries.Service, []diag.Diagnostic) {
	svc.Protocol = registries.ProtocolTriple
	for _, in := range instances {
		if _, ok := in.EndpointFor(registries.ProtocolDubbo); ok {
			svc.Protocol = registries.ProtocolDubbo
			break
		}
	}
	var diags []diag.Diagnostic
	for _, in := range instances {
		port, ok := in.EndpointFor(svc.Protocol)
		if !ok {
			diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Code: diag.DubboNoEndpoint, Stage: stage, Subject: in.Subject,
				Message: fmt.Sprintf("instance has no %s endpoint; not an endpoint of %s", svc.Protocol, svc.Name)})
			continue
		}
		addEndpoint(&svc, endpointOf(in, port, nil))
	}
	sortEndpoints(svc.Endpoints)
	return svc, diags
}

// endpointOf is the endpoint of in on port: the registry's Endpoint with the application and
// revision labels and extra added.
func endpointOf(in Instance, port uint32, extra map[string]string) registries.Endpoint {
	ep := in.Endpoint
	ep.Address, ep.Port = in.Address, port
	ep.Labels = maps.Clone(ep.Labels)
	if ep.Labels == nil {
		ep.Labels = map[string]string{}
	}
	ep.Labels["application"] = in.App
	if rev := in.Revision(); rev != "" {
		ep.Labels[KeyRevision] = rev
	}
	maps.Copy(ep.Labels, extra)
	return ep
}

// addEndpoint appends ep to svc unless svc has an endpoint at its address already (the same
// instance listed twice, or under two applications).
func addEndpoint(svc *registries.Service, ep registries.Endpoint) {
	if !slices.ContainsFunc(svc.Endpoints, func(x registries.Endpoint) bool { return x.Address == ep.Address && x.Port == ep.Port }) {
		svc.Endpoints = append(svc.Endpoints, ep)
	}
}

func sortEndpoints(eps []registries.Endpoint) {
	slices.SortFunc(eps, func(a, b registries.Endpoint) int {
		return cmp.Or(cmp.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port))
	})
}
