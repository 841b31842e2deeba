package nacos

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nacos-group/nacos-sdk-go/v2/model"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbourl"
)

// parseProvidersName splits "providers:<interface>:<version>:<group>" (empty parts kept; old
// Dubbo versions leave trailing parts out).
func parseProvidersName(name string) (iface, version, group string, err error) {
	parts := strings.SplitN(strings.TrimPrefix(name, "providers:"), ":", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	if parts[0] == "" {
		return "", "", "", fmt.Errorf("service name %q has no interface", name)
	}
	return parts[0], parts[1], parts[2], nil
}

// dubboInterface builds the services of one interface-level Dubbo registration: instance
// metadata is the provider URL's parameters plus "protocol" and "path", read with the rules
// every adapter shares (registries.ParseProtocol, registries/dubbourl's parameter lists).
// Providers of one name that speak different protocols become one service per protocol (the
// non-dubbo ones named "<name>:<protocol>"); rest providers are HTTP services, as in ZooKeeper.
func (t *translator) dubboInterface(e entry) []registries.Service {
	iface, version, group, err := parseProvidersName(e.Name)
	if err != nil {
		t.report(diag.RegistryEntrySkipped, diag.Warning, serviceSubject(e), "service skipped: %v", err)
		return nil
	}
	byProtocol := map[registries.Protocol][]model.Instance{}
	for _, in := range e.Instances {
		if why := checkInstance(in); why != "" {
			t.report(diag.RegistryEntrySkipped, diag.Warning, subject(e, in), "%s", why)
			continue
		}
		if in.Metadata["side"] == "consumer" {
			continue
		}
		name := in.Metadata["protocol"]
		if name == "" {
			name = "dubbo"
		}
		p, ok := registries.ParseProtocol(name)
		if !ok {
			t.report(diag.RegistryProtocolUnknown, diag.Warning, subject(e, in), "provider skipped: protocol %q is not served (known: %s)", name, registries.ProtocolNames())
			continue
		}
		byProtocol[p] = append(byProtocol[p], in)
	}
	var out []registries.Service
	for _, p := range slices.Sorted(maps.Keys(byProtocol)) {
		svc := registries.Service{Name: dubbourl.ProtocolName(e.Name, p, len(byProtocol)), Protocol: p,
			Interface: iface, Version: version, Group: group}
		var kept []dubbourl.URL
		for _, in := range byProtocol[p] {
			u := dubbourl.URL{Protocol: string(p), Host: in.Ip, Port: uint16(in.Port), Path: in.Metadata["path"], Params: in.Metadata}
			before := len(svc.Endpoints)
			t.addEndpoint(&svc, endpointOf(e, in, uint32(in.Port), u.Weight(), dubbourl.EndpointLabels(in.Metadata)), subject(e, in))
			if len(svc.Endpoints) > before {
				kept = append(kept, u)
			}
		}
		svc.Methods, svc.Metadata = dubbourl.Shared(kept)
		out = append(out, svc)
	}
	return out
}
