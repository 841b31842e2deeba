package nacos

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nacos-group/nacos-sdk-go/v2/model"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbourl"
)

// perEndpointParams vary from one Dubbo provider to the next and never become service
// metadata.
var perEndpointParams = map[string]bool{
	"timestamp": true, "pid": true, "weight": true, "enabled": true, "disabled": true,
	"bind.ip": true, "bind.port": true, "anyhost": true, "interface": true, "version": true,
	"group": true, "methods": true, "ipv6": true, "category": true, "path": true, "protocol": true,
}

// dubboLabelParams are the provider parameters copied into endpoint labels.
var dubboLabelParams = []string{"version", "group", "application", "dubbo", "release", "side", "serialization"}

// Metadata keys of Dubbo 3 application-level instances.
const (
	metaRevision  = "dubbo.metadata.revision"
	metaEndpoints = "dubbo.endpoints"
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
// metadata is the provider URL's parameters plus "protocol" and "path". Providers of one
// name that speak different protocols become one service per protocol (the non-dubbo ones
// named "<name>:<protocol>").
func (t *translator) dubboInterface(e entry) []registries.Service {
	iface, version, group, err := parseProvidersName(e.Name)
	if err != nil {
		t.report(diag.Warning, serviceSubject(e), "service skipped: %v", err)
		return nil
	}
	byProtocol := map[registries.Protocol][]model.Instance{}
	for _, in := range e.Instances {
		if why := checkInstance(in); why != "" {
			t.report(diag.Warning, subject(e, in), "%s", why)
			continue
		}
		if in.Metadata["side"] == "consumer" {
			continue
		}
		name := in.Metadata["protocol"]
		if name == "" {
			name = "dubbo"
		}
		p, ok := protocolOf(name)
		if !ok || p == registries.ProtocolHTTP {
			t.report(diag.Warning, subject(e, in), "provider skipped: protocol %q is not served", name)
			continue
		}
		byProtocol[p] = append(byProtocol[p], in)
	}
	var out []registries.Service
	for _, p := range slices.Sorted(maps.Keys(byProtocol)) {
		name := e.Name
		if len(byProtocol) > 1 && p != registries.ProtocolDubbo {
			name += ":" + string(p)
		}
		svc := registries.Service{Name: name, Protocol: p, Interface: iface, Version: version, Group: group}
		var methods []string
		var common map[string]string
		for _, in := range byProtocol[p] {
			u := dubbourl.URL{Protocol: string(p), Host: in.Ip, Port: uint16(in.Port), Path: in.Metadata["path"], Params: in.Metadata}
			labels := map[string]string{}
			for _, k := range dubboLabelParams {
				if v := in.Metadata[k]; v != "" {
					labels[k] = v
				}
			}
			before := len(svc.Endpoints)
			t.addEndpoint(&svc, endpointOf(e, in, uint32(in.Port), u.Weight(), labels), subject(e, in))
			if len(svc.Endpoints) == before {
				continue
			}
			methods = append(methods, u.Methods()...)
			common = intersect(common, in.Metadata)
		}
		slices.Sort(methods)
		svc.Methods = slices.Compact(methods)
		maps.DeleteFunc(common, func(k, _ string) bool { return perEndpointParams[k] })
		if len(common) > 0 {
			svc.Metadata = common
		}
		out = append(out, svc)
	}
	return out
}

// isApplicationLevel reports whether instances are Dubbo 3 application-level registrations.
func isApplicationLevel(instances []model.Instance) bool {
	return slices.ContainsFunc(instances, func(in model.Instance) bool { return in.Metadata[metaRevision] != "" })
}

// instanceEndpoint is one entry of the "dubbo.endpoints" metadata.
type instanceEndpoint struct {
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
}

// appPorts returns the port of an application-level instance per protocol ("dubbo", "tri"):
// from dubbo.endpoints, or the instance's own port for dubbo when there is none.
func appPorts(in model.Instance) (map[string]uint32, error) {
	raw := in.Metadata[metaEndpoints]
	if raw == "" {
		return map[string]uint32{"dubbo": uint32(in.Port)}, nil
	}
	var eps []instanceEndpoint
	if err := json.Unmarshal([]byte(raw), &eps); err != nil {
		return nil, fmt.Errorf("%s is not a JSON list of {port, protocol}: %w", metaEndpoints, err)
	}
	ports := map[string]uint32{}
	for _, ep := range eps {
		proto := strings.ToLower(ep.Protocol)
		if proto == "triple" {
			proto = "tri"
		}
		if ep.Port <= 0 || ep.Port > 65535 {
			return nil, fmt.Errorf("%s has port %d for %q", metaEndpoints, ep.Port, ep.Protocol)
		}
		if _, dup := ports[proto]; !dup {
			ports[proto] = uint32(ep.Port)
		}
	}
	return ports, nil
}

// applicationLevel publishes a Dubbo 3 application. The instances whose MetadataService
// answered become the services it listed (see resolved); the others are published as one
// service named after the application until it answers, which a diagnostic says.
func (t *translator) applicationLevel(e entry) []registries.Service {
	type usable struct {
		in    model.Instance
		ports map[string]uint32
	}
	var valid []model.Instance
	for _, in := range e.Instances {
		if why := checkInstance(in); why != "" {
			t.report(diag.Warning, subject(e, in), "%s", why)
			continue
		}
		if _, err := appPorts(in); err != nil {
			t.report(diag.Warning, subject(e, in), "instance skipped: %v", err)
			continue
		}
		valid = append(valid, in)
	}
	services, pending := t.resolved(e, valid)
	var instances []usable
	protocol := "tri"
	for _, in := range pending {
		ports, _ := appPorts(in)
		if _, ok := ports["dubbo"]; ok {
			protocol = "dubbo"
		}
		instances = append(instances, usable{in, ports})
	}
	svc := registries.Service{Name: e.Name, Protocol: registries.ProtocolDubbo,
		Metadata: map[string]string{"registration": "application"}}
	if protocol == "tri" {
		svc.Protocol = registries.ProtocolTriple
	}
	for _, u := range instances {
		port, ok := u.ports[protocol]
		if !ok {
			t.report(diag.Warning, subject(e, u.in), "instance has no %s endpoint; not an endpoint of %s", protocol, e.Name)
			continue
		}
		labels := map[string]string{"application": e.Name}
		if rev := u.in.Metadata[metaRevision]; rev != "" {
			labels[metaRevision] = rev
		}
		t.addEndpoint(&svc, endpointOf(e, u.in, port, nacosWeight(u.in.Weight), labels), subject(e, u.in))
	}
	if len(svc.Endpoints) == 0 {
		return services
	}
	t.report(diag.Info, serviceSubject(e), "Dubbo application-level instances published as the application %q until their MetadataService says which interfaces they serve", e.Name)
	return append(services, svc)
}
