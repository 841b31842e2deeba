package zookeeper

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
)

// instance is a Dubbo 3 application-level instance node (/services/<app>/<ip:port>), written by
// Dubbo through Curator's service discovery format.
type instance struct {
	Name     string            `json:"name"`
	Address  string            `json:"address"`
	Port     int               `json:"port"`
	Metadata map[string]string `json:"metadata"`
	Payload  struct {
		Metadata map[string]string `json:"metadata"`
	} `json:"payload"`
}

// parseInstance decodes an instance node. Curator puts the metadata under payload; some writers
// put it at the top level: both are read.
func parseInstance(data []byte) (instance, error) {
	var in instance
	if len(data) > maxNodeData {
		return in, fmt.Errorf("instance data of %d bytes is over the %d-byte limit", len(data), maxNodeData)
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return in, fmt.Errorf("instance data is not JSON: %w", err)
	}
	if in.Metadata == nil {
		in.Metadata = in.Payload.Metadata
	}
	if in.Address == "" {
		return in, errors.New("instance has no address")
	}
	return in, nil
}

// forMetadata is the instance as dubbometa reads it.
func (in instance) forMetadata() dubbometa.Instance {
	return dubbometa.Instance{Address: in.Address, Port: in.Port, Metadata: in.Metadata}
}

// endpointFor picks the instance's port for protocol ("dubbo" or "tri"); see
// dubbometa.Instance.EndpointFor.
func (in instance) endpointFor(protocol string) (uint32, bool) {
	return in.forMetadata().EndpointFor(protocol)
}

// parseMapping reads a mapping node: comma-separated application names.
func parseMapping(data []byte) []string {
	var apps []string
	for a := range strings.SplitSeq(string(data), ",") {
		if a = strings.TrimSpace(a); a != "" {
			apps = append(apps, a)
		}
	}
	slices.Sort(apps)
	return slices.Compact(apps)
}

// appInstance is one instance of an application, by its node path.
type appInstance struct {
	path string
	inst instance
}

// buildAppLevel publishes interface iface served by the instances of the applications it maps
// to whose MetadataService has not answered yet (see metadataservice.go): their version and
// group are unknown, so the service is published with empty ones and says so in its metadata
// and a diagnostic. It is a pure function.
func buildAppLevel(stage, iface string, apps []string, instances map[string][]appInstance, methods []string) (registries.Service, []diag.Diagnostic, bool) {
	protocol := "tri"
	for _, app := range apps {
		for _, ai := range instances[app] {
			if _, ok := ai.inst.endpointFor("dubbo"); ok {
				protocol = "dubbo"
			}
		}
	}
	svc := registries.Service{
		Name:      fmt.Sprintf("providers:%s::", iface),
		Protocol:  registries.ProtocolDubbo,
		Interface: iface,
		Methods:   methods,
		Metadata: map[string]string{
			"registration": "application",
			"applications": strings.Join(apps, ","),
			"note":         "version and group unknown until the instances' MetadataService answers",
		},
	}
	if protocol == "tri" {
		svc.Protocol = registries.ProtocolTriple
	}
	var diags []diag.Diagnostic
	seen := map[string]bool{}
	for _, app := range apps {
		for _, ai := range instances[app] {
			port, ok := ai.inst.endpointFor(protocol)
			if !ok {
				diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Stage: stage, Subject: ai.path,
					Message: fmt.Sprintf("instance has no %s endpoint; not an endpoint of %s", protocol, iface)})
				continue
			}
			hostPort := net.JoinHostPort(ai.inst.Address, strconv.Itoa(int(port)))
			if seen[hostPort] {
				continue
			}
			seen[hostPort] = true
			svc.Endpoints = append(svc.Endpoints, registries.Endpoint{
				Address: ai.inst.Address, Port: port, Weight: 100, Healthy: true,
				Labels: map[string]string{"application": app},
			})
		}
	}
	if len(svc.Endpoints) == 0 {
		return svc, diags, false
	}
	slices.SortFunc(svc.Endpoints, compareEndpoints)
	diags = append(diags, diag.Diagnostic{Severity: diag.Info, Stage: stage, Subject: svc.Name,
		Message: "application-level service published with empty version and group until the instances' MetadataService answers"})
	return svc, diags, true
}

// parseServiceDefinition reads the method names of a metadata-center service definition
// (FullServiceDefinition JSON written by Java providers).
func parseServiceDefinition(data []byte) ([]string, error) {
	var def struct {
		Methods []struct {
			Name string `json:"name"`
		} `json:"methods"`
	}
	if err := json.Unmarshal(data, &def); err != nil {
		return nil, fmt.Errorf("service definition is not JSON: %w", err)
	}
	var names []string
	for _, m := range def.Methods {
		if m.Name != "" {
			names = append(names, m.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// metadataPath is where a Java provider writes the service definition of iface:
// /<root>/metadata/<iface>[/<version>][/<group>]/provider/<application>.
func metadataPath(root, iface, version, group, app string) string {
	parts := []string{"", root, "metadata", iface}
	for _, p := range []string{version, group} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(append(parts, "provider", app), "/")
}
