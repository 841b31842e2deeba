package xdsclient

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/proto"
)

// Resource is one accepted resource with the version the server gave it.
type Resource struct {
	Version string
	Message proto.Message
}

// State is the client's view of the control plane: type URL → resource name → resource.
// A State handed to a Watcher must be treated as read-only.
type State map[string]map[string]Resource

// Messages returns the resources of one type as a name → message map of concrete type M.
// Resources of another message type are skipped (applyDelta never stores them).
func Messages[M proto.Message](s State, typeURL string) map[string]M {
	out := make(map[string]M, len(s[typeURL]))
	for name, r := range s[typeURL] {
		if m, ok := r.Message.(M); ok {
			out[name] = m
		}
	}
	return out
}

// versions returns the name → version map of one type, for initial_resource_versions.
func (s State) versions(typeURL string) map[string]string {
	out := make(map[string]string, len(s[typeURL]))
	for name, r := range s[typeURL] {
		out[name] = r.Version
	}
	return out
}

// Fingerprint hashes the names and versions of one type's resources, in name order: equal
// states give equal fingerprints in every process, so two gateways, or one gateway before and
// after it moved to another replica, can compare what they hold. Envoy's xDS statistics have the
// same thing, the "version" gauge (a hash of the contents of the last accepted update).
func (s State) Fingerprint(typeURL string) uint64 {
	h := fnv.New64a()
	for _, name := range slices.Sorted(maps.Keys(s[typeURL])) {
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write([]byte(s[typeURL][name].Version))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// changes counts the resources that differ between two states of one type: added, removed, or
// at another version. Resources without a version (which rpcbridge's control plane never sends)
// are compared by content.
func changes(before, after map[string]Resource) int {
	n := 0
	for name, r := range after {
		old, ok := before[name]
		if !ok || old.Version != r.Version || r.Version == "" && !proto.Equal(old.Message, r.Message) {
			n++
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			n++
		}
	}
	return n
}

// applyDelta returns a new State with a delta response applied; s is left unchanged. A
// resource that cannot be decoded makes the whole response unusable.
func (s State) applyDelta(resp *discoveryv3.DeltaDiscoveryResponse) (State, error) {
	typeURL := resp.GetTypeUrl()
	next := maps.Clone(s)
	if next == nil {
		next = State{}
	}
	resources := maps.Clone(s[typeURL])
	if resources == nil {
		resources = map[string]Resource{}
	}
	for _, r := range resp.GetResources() {
		if r.GetResource() == nil {
			return nil, fmt.Errorf("resource %q has no body", r.GetName())
		}
		if got := r.GetResource().GetTypeUrl(); got != typeURL {
			return nil, fmt.Errorf("resource %q has type %s in a %s response", r.GetName(), got, typeURL)
		}
		msg, err := r.GetResource().UnmarshalNew()
		if err != nil {
			return nil, fmt.Errorf("decode resource %q: %w", r.GetName(), err)
		}
		name := r.GetName()
		if name == "" {
			name = nameOf(msg)
		}
		if name == "" {
			return nil, fmt.Errorf("a %s resource has no name", typeURL)
		}
		resources[name] = Resource{Version: r.GetVersion(), Message: msg}
	}
	for _, name := range resp.GetRemovedResources() {
		delete(resources, name)
	}
	next[typeURL] = resources
	return next, nil
}

// without returns a State where the named resources of one type are dropped.
func (s State) without(typeURL string, names []string) State {
	if len(names) == 0 {
		return s
	}
	next := maps.Clone(s)
	resources := maps.Clone(s[typeURL])
	for _, name := range names {
		delete(resources, name)
	}
	next[typeURL] = resources
	return next
}

// nameOf finds a resource's name in its message: Name for most types, ClusterName for
// ClusterLoadAssignment.
func nameOf(m proto.Message) string {
	if n, ok := m.(interface{ GetName() string }); ok && n.GetName() != "" {
		return n.GetName()
	}
	if n, ok := m.(interface{ GetClusterName() string }); ok {
		return n.GetClusterName()
	}
	return ""
}
