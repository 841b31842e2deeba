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
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
	"github.com/rpcbridge/rpcbridge/registries/dubbourl"
)

// perEndpointParams vary from one provider to the next and never become service metadata.
var perEndpointParams = map[string]bool{
	"timestamp": true, "pid": true, "weight": true, "enabled": true, "disabled": true,
	"bind.ip": true, "bind.port": true, "anyhost": true, "interface": true, "version": true,
	"group": true, "methods": true, "ipv6": true,
}

// labelParams are the provider parameters copied into endpoint labels.
var labelParams = []string{"version", "group", "application", "dubbo", "release", "side", "serialization"}

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
	warn := func(subject, format string, args ...any) {
		diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Stage: stage, Subject: subject,
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
			warn(providersPath, "provider node name of %d bytes skipped: over the %d-byte limit", len(child), dubbourl.MaxLength)
			continue
		}
		raw, err := url.QueryUnescape(child)
		if err != nil {
			warn(path, "provider skipped: node name is not URL-encoded: %v", err)
			continue
		}
		u, err := dubbourl.Parse(raw)
		if err != nil {
			if len(path) > 512 {
				path = path[:512] + "..."
			}
			warn(path, "provider skipped: %v", err)
			continue
		}
		if u.Protocol == "consumer" || u.Params["side"] == "consumer" {
			continue
		}
		protocol, ok := protocolOf(u.Protocol)
		if !ok {
			warn(path, "provider skipped: protocol %q is not served", u.Protocol)
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
		name := fmt.Sprintf("providers:%s:%s:%s", iface, k.version, k.group)
		if byIdentity[[2]string{k.version, k.group}] > 1 && k.protocol != registries.ProtocolDubbo {
			name += ":" + string(k.protocol)
		}
		svc, ds := buildService(stage, name, iface, k.version, k.group, k.protocol, providers)
		services = append(services, svc)
		diags = append(diags, ds...)
	}
	slices.SortFunc(services, func(a, b registries.Service) int { return cmp.Compare(a.Name, b.Name) })
	return services, diags
}

func protocolOf(scheme string) (registries.Protocol, bool) {
	switch strings.ToLower(scheme) {
	case "dubbo":
		return registries.ProtocolDubbo, true
	case "tri", "triple":
		return registries.ProtocolTriple, true
	case "grpc":
		return registries.ProtocolGRPC, true
	case "rest", "http":
		return registries.ProtocolHTTP, true
	}
	return "", false
}

func buildService(stage, name, iface, version, group string, protocol registries.Protocol, providers []provider) (registries.Service, []diag.Diagnostic) {
	var diags []diag.Diagnostic
	svc := registries.Service{Name: name, Protocol: protocol, Interface: iface, Version: version, Group: group}
	seen := map[string]string{}
	var methods []string
	var common map[string]string
	for _, p := range providers {
		hostPort := net.JoinHostPort(p.url.Host, strconv.Itoa(int(p.url.Port)))
		if first, dup := seen[hostPort]; dup {
			diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Stage: stage, Subject: p.path,
				Message: fmt.Sprintf("duplicate provider %s in service %s skipped; kept %s", hostPort, name, first)})
			continue
		}
		seen[hostPort] = p.path
		svc.Endpoints = append(svc.Endpoints, endpointOf(p.url))
		methods = append(methods, p.url.Methods()...)
		common = intersect(common, p.url.Params)
	}
	slices.Sort(methods)
	svc.Methods = dubbometa.DropGoMethodAliases(slices.Compact(methods))
	maps.DeleteFunc(common, func(k, _ string) bool { return perEndpointParams[k] })
	if len(common) > 0 {
		svc.Metadata = common
	}
	slices.SortFunc(svc.Endpoints, compareEndpoints)
	return svc, diags
}

func endpointOf(u dubbourl.URL) registries.Endpoint {
	labels := map[string]string{}
	for _, k := range labelParams {
		if v := u.Params[k]; v != "" {
			labels[k] = v
		}
	}
	if len(labels) == 0 {
		labels = nil
	}
	return registries.Endpoint{
		Address: u.Host,
		Port:    uint32(u.Port),
		Weight:  u.Weight(),
		Healthy: u.Params["enabled"] != "false" && u.Params["disabled"] != "true",
		Labels:  labels,
	}
}

// intersect returns the entries of acc (all of params when acc is nil) that params has too,
// with the same value.
func intersect(acc, params map[string]string) map[string]string {
	if acc == nil {
		return maps.Clone(params)
	}
	maps.DeleteFunc(acc, func(k, v string) bool { w, ok := params[k]; return !ok || w != v })
	return acc
}

func compareEndpoints(a, b registries.Endpoint) int {
	return cmp.Or(cmp.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port))
}
