package zookeeper

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
	"github.com/rpcbridge/rpcbridge/registries/dubbourl"
)

// curatorInstance is a Dubbo 3 application-level instance node (/services/<app>/<ip:port>),
// written by Dubbo through Curator's service discovery format.
type curatorInstance struct {
	Name     string            `json:"name"`
	Address  string            `json:"address"`
	Port     int               `json:"port"`
	Metadata map[string]string `json:"metadata"`
	Payload  struct {
		Metadata map[string]string `json:"metadata"`
	} `json:"payload"`
}

// parseInstance decodes the instance node at path of application app. Curator puts the
// metadata under payload; some writers put it at the top level: both are read. An instance
// without an address or with malformed dubbo.endpoints is an error.
func parseInstance(app, path string, data []byte) (dubbometa.Instance, error) {
	if len(data) > maxNodeData {
		return dubbometa.Instance{}, fmt.Errorf("instance data of %d bytes is over the %d-byte limit", len(data), maxNodeData)
	}
	var ci curatorInstance
	if err := json.Unmarshal(data, &ci); err != nil {
		return dubbometa.Instance{}, fmt.Errorf("instance data is not JSON: %w", err)
	}
	if ci.Metadata == nil {
		ci.Metadata = ci.Payload.Metadata
	}
	if ci.Address == "" {
		return dubbometa.Instance{}, errors.New("instance has no address")
	}
	in := dubbometa.Instance{App: app, Address: ci.Address, Port: ci.Port, Metadata: ci.Metadata, Subject: path,
		// ZooKeeper says nothing of weight or health: a registered instance takes traffic.
		Endpoint: registries.Endpoint{Weight: dubbourl.DefaultWeight, Healthy: true}}
	if _, err := in.Endpoints(); err != nil {
		return dubbometa.Instance{}, err
	}
	return in, nil
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

// buildAppLevel publishes interface iface served by the instances of the applications it maps
// to whose MetadataService has not answered yet (pending, by application): their version and
// group are unknown, so the service is published with empty ones and says so in its metadata
// and a diagnostic. It is a pure function.
func buildAppLevel(stage, iface string, apps []string, pending map[string][]dubbometa.Instance, methods []string) (registries.Service, []diag.Diagnostic, bool) {
	var instances []dubbometa.Instance
	for _, app := range apps {
		instances = append(instances, pending[app]...)
	}
	svc, diags := dubbometa.Placeholder(stage, registries.Service{
		Name:      dubbourl.ServiceName(iface, "", ""),
		Interface: iface,
		Methods:   methods,
		Metadata: map[string]string{
			dubbometa.Registration: dubbometa.RegistrationApplication,
			"applications":         strings.Join(apps, ","),
			"note":                 "version and group unknown until the instances' MetadataService answers",
		},
	}, instances)
	if len(svc.Endpoints) == 0 {
		return svc, diags, false
	}
	diags = append(diags, diag.Diagnostic{Severity: diag.Info, Code: diag.DubboAppPending, Stage: stage, Subject: svc.Name,
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
