// Package dubbometa reads what Dubbo 3 application-level instances serve from their
// MetadataService: it works out where an instance's MetadataService listens, calls
// getMetadataInfo(revision) through dubborpc, parses the MetadataInfo it returns, and keeps one
// answer per (application, revision), fetched asynchronously and retried with backoff. The
// registry adapters (ZooKeeper, Nacos) turn the answers into services.
package dubbometa

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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
	Address  string
	Port     int
	Metadata map[string]string
}

// Revision is the metadata revision the instance advertises ("" when it has none).
func (in Instance) Revision() string { return in.Metadata[KeyRevision] }

// endpoint is one entry of the "dubbo.endpoints" metadata.
type endpoint struct {
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
}

// EndpointFor picks the instance's port for protocol ("dubbo" or "tri") from dubbo.endpoints;
// without dubbo.endpoints the instance's own port serves dubbo.
func (in Instance) EndpointFor(protocol string) (uint32, bool) {
	raw := in.Metadata[KeyEndpoints]
	if raw == "" {
		return uint32(in.Port), protocol == "dubbo" && in.Port > 0 && in.Port <= 65535
	}
	var eps []endpoint
	if err := json.Unmarshal([]byte(raw), &eps); err != nil {
		return 0, false
	}
	for _, ep := range eps {
		if (ep.Protocol == protocol || protocol == "tri" && ep.Protocol == "triple") && ep.Port > 0 && ep.Port <= 65535 {
			return uint32(ep.Port), true
		}
	}
	return 0, false
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
	if protocol != "dubbo" {
		return "", "", fmt.Errorf("the MetadataService is served over %q; only the dubbo protocol is supported", protocol)
	}
	if port <= 0 || port > 65535 {
		p, ok := in.EndpointFor("dubbo")
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

// IsServiceParam reports whether a MetadataInfo service parameter becomes service metadata:
// keys without a dot describe the service as a whole; of the method-level keys
// ("<method>.<key>"), only "<method>.timeout" is kept, which the Dubbo REST routes read as that
// method's call timeout.
func IsServiceParam(key string) bool {
	method, name, dotted := strings.Cut(key, ".")
	return !dotted || (method != "" && name == "timeout")
}

// DropGoMethodAliases removes the Go spellings dubbo-go v3.3.2 lists beside the Java names of
// methods renamed by a MethodMapper ("methods=echoUser,EchoUser,..."): a name that starts with an
// upper-case letter goes when the same name with a lower-case first letter is listed too. Java
// method names start lower-case, so no real Java method is dropped. methods must be sorted; the
// result is.
func DropGoMethodAliases(methods []string) []string {
	out := methods[:0:0]
	for _, m := range methods {
		if r, size := utf8.DecodeRuneInString(m); unicode.IsUpper(r) {
			if _, found := slices.BinarySearch(methods, string(unicode.ToLower(r))+m[size:]); found {
				continue
			}
		}
		out = append(out, m)
	}
	return out
}
