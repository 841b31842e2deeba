// Package dubbometa resolves Dubbo 3 application-level instances into the services they serve,
// for every registry adapter that lists such instances (ZooKeeper, Nacos): an instance's
// metadata gives its revision and endpoints; the instance's MetadataService, called through
// dubborpc (getMetadataInfo(revision)), lists its services; Resolve turns the answers into
// services, and Placeholder publishes the instances whose answer is not there yet. Answers are
// kept per (application, revision), fetched asynchronously off the adapters' watch loops and
// retried with backoff (Fetcher, Cache).
//
// An adapter keeps only what is its registry's own: how it lists instances and their metadata,
// the endpoint attributes it knows (weight, health, locality, labels), how it names diagnostics'
// subjects and what its placeholder service is called.
package dubbometa

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/rpcbridge/rpcbridge/registries"
)

// MetadataServiceInterface is the interface of the MetadataService every Dubbo 3 instance
// exports (its group is the application name).
const MetadataServiceInterface = "org.apache.dubbo.metadata.MetadataService"

// Instance metadata keys Dubbo 3 application-level instances carry.
const (
	KeyRevision  = "dubbo.metadata.revision"
	KeyEndpoints = "dubbo.endpoints"
	KeyURLParams = "dubbo.metadata-service.url-params"
)

const metadataServiceVersion = "1.0.0"

// Instance is one application-level instance as a registry lists it.
type Instance struct {
	// App is the application the instance belongs to: the registry's service name, and the
	// group of its MetadataService.
	App string
	// Address and Port are where the registry says the instance is; Metadata is its instance
	// metadata (KeyRevision, KeyEndpoints, KeyURLParams, ...).
	Address  string
	Port     int
	Metadata map[string]string
	// Subject names the instance in diagnostics.
	Subject string
	// Endpoint is what the registry itself says of the instance as an endpoint (weight, health,
	// locality, labels of its own); Resolve and Placeholder fill in address, port and the Dubbo
	// labels.
	Endpoint registries.Endpoint
}

// Revision is the metadata revision the instance advertises ("" when it has none).
func (in Instance) Revision() string { return in.Metadata[KeyRevision] }

// endpoint is one entry of the "dubbo.endpoints" metadata.
type endpoint struct {
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
}

// Endpoints returns the instance's port for each protocol it serves: from dubbo.endpoints (a
// JSON list of {port, protocol}; protocol names as registries.ParseProtocol reads them, names it
// does not know left out, the first entry of a protocol wins), or without it the instance's own
// port for dubbo. A dubbo.endpoints that is not such a list, or names a port outside 1..65535, is
// an error: the instance cannot be used.
func (in Instance) Endpoints() (map[registries.Protocol]uint32, error) {
	ports := map[registries.Protocol]uint32{}
	raw := in.Metadata[KeyEndpoints]
	if raw == "" {
		if in.Port > 0 && in.Port <= 65535 {
			ports[registries.ProtocolDubbo] = uint32(in.Port)
		}
		return ports, nil
	}
	var eps []endpoint
	if err := json.Unmarshal([]byte(raw), &eps); err != nil {
		return nil, fmt.Errorf("%s is not a JSON list of {port, protocol}: %w", KeyEndpoints, err)
	}
	for _, ep := range eps {
		if ep.Port <= 0 || ep.Port > 65535 {
			return nil, fmt.Errorf("%s has port %d for %q", KeyEndpoints, ep.Port, ep.Protocol)
		}
		if p, ok := registries.ParseProtocol(ep.Protocol); ok {
			if _, dup := ports[p]; !dup {
				ports[p] = uint32(ep.Port)
			}
		}
	}
	return ports, nil
}

// EndpointFor is the instance's port for protocol p (see Endpoints); false when it has none or
// its dubbo.endpoints is malformed.
func (in Instance) EndpointFor(p registries.Protocol) (uint32, bool) {
	ports, err := in.Endpoints()
	port, ok := ports[p]
	return port, ok && err == nil
}

// ServiceInfo is one entry of a MetadataInfo's services (MetadataInfo$ServiceInfo).
type ServiceInfo struct {
	Name, Group, Version, Protocol, Path string
	Port                                 int
	Params                               map[string]string
}

// Target is where to call an instance's MetadataService: "host:port" and the service version,
// from dubbo.metadata-service.url-params (flat as Dubbo 3 and dubbo-go write it, or keyed by
// protocol as Dubbo 2.7 did), else the instance's dubbo endpoint.
func Target(in Instance) (addr, version string, err error) {
	version, port, protocol := metadataServiceVersion, 0, "dubbo"
	if raw := in.Metadata[KeyURLParams]; raw != "" {
		var flat map[string]any
		if err := json.Unmarshal([]byte(raw), &flat); err != nil {
			return "", "", fmt.Errorf("%s is not JSON: %w", KeyURLParams, err)
		}
		params := flat
		if nested, ok := flat["dubbo"].(map[string]any); ok {
			params = nested
		}
		if p, ok := params["protocol"].(string); ok && p != "" {
			protocol = p
		}
		if v, ok := params["version"].(string); ok && v != "" {
			version = v
		}
		switch p := params["port"].(type) {
		case string:
			port, _ = strconv.Atoi(p)
		case float64:
			port = int(p)
		}
	}
	if p, _ := registries.ParseProtocol(protocol); p != registries.ProtocolDubbo {
		return "", "", fmt.Errorf("the MetadataService is served over %q; only the dubbo protocol is supported", protocol)
	}
	if port <= 0 || port > 65535 {
		p, ok := in.EndpointFor(registries.ProtocolDubbo)
		if !ok {
			return "", "", errors.New("instance advertises no dubbo port for its MetadataService")
		}
		port = int(p)
	}
	return net.JoinHostPort(in.Address, strconv.Itoa(port)), version, nil
}

// ParseMetadataInfo reads the MetadataInfo a MetadataService returned for revision. hessian2
// decodes it into maps (rpcbridge registers no Dubbo classes): {app, revision, services: {key:
// {name, group, version, protocol, port, path, params}}}. The MetadataService itself is left
// out; the result is sorted.
func ParseMetadataInfo(v any, revision string) ([]ServiceInfo, error) {
	if v == nil {
		return nil, fmt.Errorf("the instance has no metadata for revision %s", revision)
	}
	m, ok := asStringMap(v)
	if !ok {
		return nil, fmt.Errorf("MetadataInfo decoded as %T, not an object", v)
	}
	if r, _ := m["revision"].(string); r != "" && r != revision {
		return nil, fmt.Errorf("asked for revision %s, the instance answered %s", revision, r)
	}
	raw, _ := asStringMap(m["services"])
	var services []ServiceInfo
	for _, entry := range raw {
		sm, ok := asStringMap(entry)
		if !ok {
			continue
		}
		si := ServiceInfo{Name: str(sm["name"]), Group: str(sm["group"]), Version: str(sm["version"]),
			Protocol: str(sm["protocol"]), Path: str(sm["path"]), Params: map[string]string{}}
		switch p := sm["port"].(type) {
		case int32:
			si.Port = int(p)
		case int64:
			si.Port = int(p)
		}
		if params, ok := asStringMap(sm["params"]); ok {
			for k, v := range params {
				if vs, ok := v.(string); ok {
					si.Params[k] = vs
				}
			}
		}
		if si.Name == "" || si.Name == MetadataServiceInterface {
			continue
		}
		services = append(services, si)
	}
	slices.SortFunc(services, func(a, b ServiceInfo) int {
		return strings.Compare(a.Name+":"+a.Version+":"+a.Group+":"+a.Protocol, b.Name+":"+b.Version+":"+b.Group+":"+b.Protocol)
	})
	return services, nil
}

func str(v any) string { s, _ := v.(string); return s }

func asStringMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			if ks, ok := k.(string); ok {
				out[ks] = v
			}
		}
		return out, true
	}
	return nil, false
}
