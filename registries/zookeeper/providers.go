package zookeeper

import (
	"cmp"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbourl"
)

// provider is one parsed provider node.
type provider struct {
	path string
	url  dubbourl.URL
}

// buildInterface turns the children of /<root>/<iface>/providers into services, one per
// (version, group, protocol). Entries that cannot be used are skipped with a diagnostic; they
// never affect their siblings. It is a pure function.
func buildInterface(stage, providersPath, iface string, children []string) ([]registries.Service, []diag.Diagnostic) {
	var diags []diag.Diagnostic
	warn := func(code diag.Code, subject, format string, args ...any) {
		diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Code: code, Stage: stage, Subject: subject,
			Message: fmt.Sprintf(format, args...)})
	}
	type key struct {
		version, group string
		protocol       registries.Protocol
	}
	groups := map[key][]provider{}
	for _, child := range slices.Sorted(slices.Values(children)) {
		path := providersPath + "/" + child
		if len(child) > 3*dubbourl.MaxLength {
			warn(diag.RegistryEntrySkipped, providersPath, "provider node name of %d bytes skipped: over the %d-byte limit", len(child), dubbourl.MaxLength)
			continue
		}
		raw, err := url.QueryUnescape(child)
		if err != nil {
			warn(diag.RegistryEntrySkipped, path, "provider skipped: node name is not URL-encoded: %v", err)
			continue
		}
		u, err := dubbourl.Parse(raw)
		if err != nil {
			if len(path) > 512 {
				path = path[:512] + "..."
			}
			warn(diag.RegistryEntrySkipped, path, "provider skipped: %v", err)
			continue
		}
		if u.Protocol == "consumer" || u.Params["side"] == "consumer" {
			continue
		}
		protocol, ok := registries.ParseProtocol(u.Protocol)
		if !ok {
			warn(diag.RegistryProtocolUnknown, path, "provider skipped: protocol %q is not served (known: %s)", u.Protocol, registries.ProtocolNames())
			continue
		}
		k := key{u.Version(), u.Group(), protocol}
		groups[k] = append(groups[k], provider{path: path, url: u})
	}
	byIdentity := map[[2]string]int{}
	for k := range groups {
		byIdentity[[2]string{k.version, k.group}]++
	}
	var services []registries.Service
	for k, providers := range groups {
		name := dubbourl.ProtocolName(dubbourl.ServiceName(iface, k.version, k.group), k.protocol, byIdentity[[2]string{k.version, k.group}])
		svc, ds := buildService(stage, name, iface, k.version, k.group, k.protocol, providers)
		services = append(services, svc)
		diags = append(diags, ds...)
	}
	slices.SortFunc(services, func(a, b registries.Service) int { return cmp.Compare(a.Name, b.Name) })
	return services, diags
}

func buildService(stage, name, iface, version, group string, protocol registries.Protocol, providers []provider) (registries.Service, []diag.Diagnostic) {
	var diags []diag.Diagnostic
	svc := registries.Service{Name: name, Protocol: protocol, Interface: iface, Version: version, Group: group}
	seen := map[string]string{}
	svc.Endpoints = make([]registries.Endpoint, 0, len(providers))
	var kept []dubbourl.URL
	var labelSets []map[string]string
	for _, p := range providers {
		hostPort := net.JoinHostPort(p.url.Host, strconv.Itoa(int(p.url.Port)))
		if first, dup := seen[hostPort]; dup {
			diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Code: diag.RegistryDuplicateEndpoint, Stage: stage, Subject: p.path,
				Message: fmt.Sprintf("duplicate provider %s in service %s skipped; kept %s", hostPort, name, first)})
			continue
		}
		seen[hostPort] = p.path
		ep := endpointOf(p.url)
		ep.Labels, labelSets = sharedLabels(ep.Labels, labelSets)
		svc.Endpoints = append(svc.Endpoints, ep)
		kept = append(kept, p.url)
	}
	svc.Methods, svc.Metadata = dubbourl.Shared(kept)
	// Copied out of the provider URLs, which would otherwise stay in memory whole for them.
	for i, m := range svc.Methods {
		svc.Methods[i] = strings.Clone(m)
	}
	for k, v := range svc.Metadata {
		svc.Metadata[k] = strings.Clone(v)
	}
	slices.SortFunc(svc.Endpoints, compareEndpoints)
	return svc, diags
}

// endpointOf is the endpoint of a provider. The address is copied out of the URL, which would
// otherwise stay in memory whole for it.
func endpointOf(u dubbourl.URL) registries.Endpoint {
	return registries.Endpoint{
		Address: strings.Clone(u.Host),
		Port:    uint32(u.Port),
		Weight:  u.Weight(),
		Healthy: u.Params["enabled"] != "false" && u.Params["disabled"] != "true",
		Labels:  dubbourl.EndpointLabels(u.Params),
	}
}

// sharedLabels returns labels, or an equal map of sets (the providers of one service usually
// carry the same labels), and the sets with labels added when it is new. A new map gets its
// values copied out of the provider URL, which would otherwise stay in memory whole for them.
// Endpoints of snapshots are shared read-only (as their services are from one snapshot to the
// next), so one map can serve several.
func sharedLabels(labels map[string]string, sets []map[string]string) (map[string]string, []map[string]string) {
	if labels == nil {
		return nil, sets
	}
	for _, s := range sets {
		if maps.Equal(s, labels) {
			return s, sets
		}
	}
	for k, v := range labels {
		labels[k] = strings.Clone(v)
	}
	return labels, append(sets, labels)
}

func compareEndpoints(a, b registries.Endpoint) int {
	return cmp.Or(cmp.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port))
}
