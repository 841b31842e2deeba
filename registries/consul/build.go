package consul

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
)

// maxValueSize is the largest metadata value or tag an instance may carry (64 KiB); instances
// with larger ones are skipped as malformed.
const maxValueSize = 64 << 10

// Metadata keys with a meaning of their own, besides Config.ProtocolMetaKey.
const (
	metaGRPCService = "grpc-service" // fully qualified gRPC service name
	metaInterface   = "interface"    // Dubbo interface
	metaVersion     = "version"      // Dubbo service version
	metaGroup       = "group"        // Dubbo service group
	metaMethods     = "methods"      // comma-separated method names
	metaZone        = "zone"         // zone inside the datacenter
)

// builder turns Consul health entries into services; it holds the settings of one source.
type builder struct {
	stage      string
	metaKey    string
	precedence []string
	def        registries.Protocol
}

// candidate is one well-formed instance before the service's protocol is chosen.
type candidate struct {
	subject  string
	svc      *api.AgentService
	det      detection
	endpoint registries.Endpoint
}

// service turns the health entries of the Consul service name into one service. Malformed
// instances are skipped with a diagnostic; ok is false when no instance is left.
//
// A Consul service has one protocol: the one most of its instances have (ties go to the
// instance that sorts first by node and ID). Instances that speak another one are skipped with
// a diagnostic, since one service's endpoints must all speak the same protocol.
func (b builder) service(name string, entries []*api.ServiceEntry) (registries.Service, []diag.Diagnostic, bool) {
	var diags []diag.Diagnostic
	warn := func(code diag.Code, subject, msg string) {
		diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Code: code, Stage: b.stage, Subject: subject, Message: msg})
	}
	var cands []candidate
	for _, e := range sortedEntries(entries) {
		c, problem := b.candidate(name, e)
		if problem != "" {
			warn(diag.RegistryEntrySkipped, c.subject, "instance skipped: "+problem)
			continue
		}
		if c.det.Note != "" {
			warn(diag.RegistryProtocolUnknown, c.subject, c.det.Note)
		}
		cands = append(cands, c)
	}
	if len(cands) == 0 {
		return registries.Service{}, diags, false
	}
	proto := majorityProtocol(cands)
	out := registries.Service{Name: name, Protocol: proto, Endpoints: []registries.Endpoint{}}
	var kept []candidate
	for _, c := range cands {
		if c.det.Protocol != proto {
			warn(diag.RegistryProtocolMismatch, c.subject, fmt.Sprintf("instance skipped: it speaks %s (from %s) but most instances of the service speak %s",
				c.det.Protocol, c.det.From, proto))
			continue
		}
		kept = append(kept, c)
		out.Endpoints = append(out.Endpoints, c.endpoint)
	}
	first := kept[0].svc
	switch proto {
	case registries.ProtocolGRPC:
		out.Interface = cmp.Or(first.Meta[metaGRPCService], name)
	case registries.ProtocolDubbo, registries.ProtocolTriple:
		out.Interface = cmp.Or(first.Meta[metaInterface], first.Meta[metaGRPCService], name)
		out.Version, out.Group = first.Meta[metaVersion], first.Meta[metaGroup]
	}
	out.Methods = splitMethods(first.Meta[metaMethods])
	out.Metadata = sharedMeta(kept)
	slices.SortFunc(out.Endpoints, func(a, b registries.Endpoint) int {
		return cmp.Or(cmp.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port))
	})
	return out, diags, true
}

// candidate checks one entry and builds its endpoint; problem says why it cannot be used.
func (b builder) candidate(name string, e *api.ServiceEntry) (c candidate, problem string) {
	c.subject = name
	if e == nil || e.Service == nil || e.Node == nil {
		return c, "the entry has no service or node"
	}
	s, n := e.Service, e.Node
	c.subject = fmt.Sprintf("%s/%s@%s", name, s.ID, n.Node)
	c.svc = s
	for k, v := range s.Meta {
		if len(v) > maxValueSize {
			return c, fmt.Sprintf("metadata %q is %d bytes, more than %d", k, len(v), maxValueSize)
		}
	}
	for _, tag := range s.Tags {
		if len(tag) > maxValueSize {
			return c, fmt.Sprintf("a tag is %d bytes, more than %d", len(tag), maxValueSize)
		}
	}
	c.det = detectProtocol(s, b.metaKey, b.precedence, b.def)
	addr, port := cmp.Or(s.Address, n.Address), s.Port
	if ta, ok := s.TaggedAddresses[string(c.det.Protocol)]; ok && c.det.Protocol != registries.ProtocolDubbo &&
		c.det.Protocol != registries.ProtocolTriple {
		addr, port = cmp.Or(ta.Address, addr), cmp.Or(ta.Port, port)
	}
	if addr == "" {
		return c, "neither the service nor its node has an address"
	}
	if port <= 0 || port > 65535 {
		return c, fmt.Sprintf("port %d is not a valid port", port)
	}
	status := e.Checks.AggregatedStatus()
	weight := s.Weights.Passing
	if status == api.HealthWarning {
		weight = s.Weights.Warning
	}
	c.endpoint = registries.Endpoint{
		Address:  addr,
		Port:     uint32(port),
		Weight:   uint32(max(weight, 1)),
		Healthy:  status == api.HealthPassing || status == api.HealthWarning,
		Locality: locality(s, n),
		Labels:   labels(s, n, c.det.Protocol),
	}
	return c, ""
}

// locality prefers the service's own locality (Consul ≥ 1.17), then a "zone" metadata entry
// inside the datacenter; without either, the datacenter is the zone.
func locality(s *api.AgentService, n *api.Node) registries.Locality {
	dc := cmp.Or(s.Datacenter, n.Datacenter)
	if s.Locality != nil && (s.Locality.Region != "" || s.Locality.Zone != "") {
		return registries.Locality{Region: s.Locality.Region, Zone: s.Locality.Zone}
	}
	if z := s.Meta[metaZone]; z != "" {
		return registries.Locality{Region: dc, Zone: z}
	}
	return registries.Locality{Zone: dc}
}

// labels are the instance's attributes: "node", "tags" (comma-joined), "meta.<key>" for every
// metadata entry, and "version"/"group" for Dubbo and Triple instances that name them.
func labels(s *api.AgentService, n *api.Node, p registries.Protocol) map[string]string {
	out := map[string]string{"node": n.Node}
	if len(s.Tags) > 0 {
		out["tags"] = strings.Join(s.Tags, ",")
	}
	for k, v := range s.Meta {
		out["meta."+k] = v
	}
	if p == registries.ProtocolDubbo || p == registries.ProtocolTriple {
		for _, k := range []string{metaVersion, metaGroup} {
			if v := s.Meta[k]; v != "" {
				out[k] = v
			}
		}
	}
	return out
}

// majorityProtocol is the protocol most candidates have; ties go to the earliest candidate.
func majorityProtocol(cands []candidate) registries.Protocol {
	counts := map[registries.Protocol]int{}
	for _, c := range cands {
		counts[c.det.Protocol]++
	}
	best := cands[0].det.Protocol
	for _, c := range cands {
		if counts[c.det.Protocol] > counts[best] {
			best = c.det.Protocol
		}
	}
	return best
}

// sharedMeta is the metadata every kept instance has with the same value; nil when none.
func sharedMeta(kept []candidate) map[string]string {
	out := maps.Clone(kept[0].svc.Meta)
	for _, c := range kept[1:] {
		maps.DeleteFunc(out, func(k, v string) bool {
			w, ok := c.svc.Meta[k]
			return !ok || w != v
		})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// splitMethods parses a comma-separated method list into sorted, distinct names.
func splitMethods(s string) []string {
	var out []string
	for _, m := range strings.Split(s, ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sortedEntries orders entries by node name and service ID so that output is deterministic.
func sortedEntries(entries []*api.ServiceEntry) []*api.ServiceEntry {
	out := slices.Clone(entries)
	key := func(e *api.ServiceEntry) (string, string) {
		if e == nil || e.Node == nil || e.Service == nil {
			return "", ""
		}
		return e.Node.Node, e.Service.ID
	}
	slices.SortStableFunc(out, func(a, b *api.ServiceEntry) int {
		an, ai := key(a)
		bn, bi := key(b)
		return cmp.Or(cmp.Compare(an, bn), cmp.Compare(ai, bi))
	})
	return out
}
