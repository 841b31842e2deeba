package nacos

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/nacos-group/nacos-sdk-go/v2/model"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
)

// MaxMetadataBytes is the most instance metadata (keys plus values) an instance may carry;
// larger instances are skipped with a diagnostic.
const MaxMetadataBytes = 64 << 10

// Endpoint label keys that say where in Nacos an endpoint was found.
const (
	LabelNamespace = "nacos.namespace"
	LabelGroup     = "nacos.group"
)

// entry is one watched Nacos service and its instances as the SDK last delivered them.
type entry struct {
	Namespace string
	Group     string
	Name      string
	Instances []model.Instance
}

// translator turns entries into services; it collects diagnostics on the way.
type translator struct {
	stage string
	meta  dubbometa.Cache
	diags []diag.Diagnostic
}

func (t *translator) report(code diag.Code, sev diag.Severity, subject, format string, args ...any) {
	t.diags = append(t.diags, diag.Diagnostic{Severity: sev, Code: code, Stage: t.stage, Subject: subject,
		Message: fmt.Sprintf(format, args...)})
}

// buildServices turns the instances of every watched Nacos service into registry services:
// Dubbo interface-level providers ("providers:<interface>:<version>:<group>"), Dubbo 3
// application-level instances (the services their MetadataService answers in meta listed, the
// application while it has not), and plain services whose
// metadata "protocol" names what they speak. Services of the same identity found in several
// namespaces or groups become one service with the endpoints of all. Entries that cannot be
// used are skipped with a diagnostic and never affect their siblings. It is a pure function.
func buildServices(stage string, entries []entry, meta dubbometa.Cache) ([]registries.Service, []diag.Diagnostic) {
	t := &translator{stage: stage, meta: meta}
	var services []registries.Service
	for _, e := range entries {
		switch kindOf(e) {
		case skipped:
		case interfaceLevel:
			services = append(services, t.dubboInterface(e)...)
		case applicationLevel:
			services = append(services, t.applicationLevel(e)...)
		case plainService:
			services = append(services, t.plain(e)...)
		}
	}
	services = mergeSame(services)
	diag.Sort(t.diags)
	return services, t.diags
}

// kind is what a Nacos service is, which decides how its instances are read.
type kind int

const (
	// skipped: a Dubbo registration with nothing to call, consumers (and the rule categories
	// Dubbo may keep as services).
	skipped kind = iota
	// interfaceLevel: Dubbo providers, "providers:<interface>:<version>:<group>".
	interfaceLevel
	// applicationLevel: a Dubbo 3 application whose instances carry a metadata revision.
	applicationLevel
	// plainService: anything else; its instances' "protocol" metadata says what they speak.
	plainService
)

func kindOf(e entry) kind {
	switch {
	case strings.HasPrefix(e.Name, "consumers:") || strings.HasPrefix(e.Name, "configurators:") ||
		strings.HasPrefix(e.Name, "routers:"):
		return skipped
	case strings.HasPrefix(e.Name, "providers:"):
		return interfaceLevel
	case isApplicationLevel(e.Instances):
		return applicationLevel
	}
	return plainService
}

// subject names an instance in diagnostics.
func subject(e entry, in model.Instance) string {
	return fmt.Sprintf("%s/%s/%s %s", namespaceLabel(e.Namespace), e.Group, e.Name,
		net.JoinHostPort(in.Ip, strconv.FormatUint(in.Port, 10)))
}

func serviceSubject(e entry) string {
	return fmt.Sprintf("%s/%s/%s", namespaceLabel(e.Namespace), e.Group, e.Name)
}

// checkInstance reports why an instance cannot be used at all, or "" when it can.
func checkInstance(in model.Instance) string {
	if in.Ip == "" {
		return "instance skipped: no IP address"
	}
	if in.Port == 0 || in.Port > 65535 {
		return fmt.Sprintf("instance skipped: port %d is not 1..65535", in.Port)
	}
	size := 0
	for k, v := range in.Metadata {
		size += len(k) + len(v)
	}
	if size > MaxMetadataBytes {
		return fmt.Sprintf("instance skipped: %d bytes of metadata, over the %d-byte limit", size, MaxMetadataBytes)
	}
	return ""
}

// endpointOf is the endpoint of an instance on port, labelled with where it was found and
// with labels (may be nil).
func endpointOf(e entry, in model.Instance, port uint32, weight uint32, labels map[string]string) registries.Endpoint {
	out := maps.Clone(labels)
	if out == nil {
		out = map[string]string{}
	}
	out[LabelNamespace] = namespaceLabel(e.Namespace)
	out[LabelGroup] = e.Group
	return registries.Endpoint{
		Address: in.Ip,
		Port:    port,
		Weight:  weight,
		// Nacos sends no traffic to disabled, unhealthy or weight-0 instances.
		Healthy:  in.Healthy && in.Enable && in.Weight > 0,
		Locality: registries.Locality{Zone: in.ClusterName},
		Labels:   out,
	}
}

// nacosWeight maps Nacos's float weight (default 1.0) onto rpcbridge's integer weights by
// multiplying by 100, so that Nacos's default equals Dubbo's default of 100 and weights such
// as 0.5 keep their ratio. The result is at least 1: a weight of 0 marks the endpoint unhealthy
// instead (see endpointOf).
func nacosWeight(w float64) uint32 {
	switch {
	case math.IsNaN(w) || w <= 0:
		return 1
	case w*100 >= math.MaxUint32:
		return math.MaxUint32
	}
	return max(1, uint32(math.Round(w*100)))
}

// addEndpoint appends ep to svc unless an endpoint with its address is there already.
func (t *translator) addEndpoint(svc *registries.Service, ep registries.Endpoint, subj string) {
	for _, have := range svc.Endpoints {
		if have.Address == ep.Address && have.Port == ep.Port {
			t.report(diag.RegistryDuplicateEndpoint, diag.Warning, subj, "duplicate instance %s in service %s skipped",
				net.JoinHostPort(ep.Address, strconv.Itoa(int(ep.Port))), svc.Name)
			return
		}
	}
	svc.Endpoints = append(svc.Endpoints, ep)
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

// mergeSame folds services of the same name, protocol and identity (the same service seen in
// several namespaces or groups) into one, and sorts the result.
func mergeSame(services []registries.Service) []registries.Service {
	type identity struct {
		name, iface, version, group string
		protocol                    registries.Protocol
	}
	byID := map[identity]int{}
	var out []registries.Service
	for _, s := range services {
		id := identity{s.Name, s.Interface, s.Version, s.Group, s.Protocol}
		i, seen := byID[id]
		if !seen {
			byID[id] = len(out)
			out = append(out, s)
			continue
		}
		m := &out[i]
		for _, ep := range s.Endpoints {
			if !slices.ContainsFunc(m.Endpoints, func(h registries.Endpoint) bool { return h.Address == ep.Address && h.Port == ep.Port }) {
				m.Endpoints = append(m.Endpoints, ep)
			}
		}
		m.Methods = slices.Compact(slices.Sorted(slices.Values(append(m.Methods, s.Methods...))))
		if m.Metadata != nil { // nil: nothing in common already
			if m.Metadata = intersect(m.Metadata, s.Metadata); len(m.Metadata) == 0 {
				m.Metadata = nil
			}
		}
	}
	for i := range out {
		slices.SortFunc(out[i].Endpoints, func(a, b registries.Endpoint) int {
			return cmp.Or(cmp.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port))
		})
	}
	slices.SortFunc(out, func(a, b registries.Service) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Interface, b.Interface))
	})
	return out
}
