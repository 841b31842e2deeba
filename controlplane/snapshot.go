package controlplane

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
)

// snapshotTypes are the types a snapshot holds, in the order of snapshot.types. Endpoints and
// Dubbo routes are the same for every target and are kept apart (see Server).
var snapshotTypes = [...]string{resource.ListenerType, resource.RouteType, resource.ClusterType}

// snapshot is the listeners, route configurations and clusters translated for a target.
type snapshot struct {
	types [len(snapshotTypes)]snapshotType
}

// snapshotType is one type of a snapshot: its resources by name with the hash of each one's
// deterministic wire form, and the type's version, a hash of all of them.
type snapshotType struct {
	version   string
	resources map[string]types.Resource
	hashes    map[string]string
}

// newSnapshot versions the listeners, route configurations and clusters of validated
// resources by their content, so equal resources give equal versions across restarts.
func newSnapshot(r *Resources) (*snapshot, error) {
	snap := &snapshot{}
	for i, items := range [][]types.Resource{asResources(r.Listeners), asResources(r.Routes), asResources(r.Clusters)} {
		st, err := newSnapshotType(items)
		if err != nil {
			return nil, fmt.Errorf("versioning %s: %w", snapshotTypes[i], err)
		}
		snap.types[i] = st
	}
	return snap, nil
}

// newSnapshotType marshals each of items (sorted by name) once: for its own hash and for the
// type's version, which hashes the wire forms in order.
func newSnapshotType(items []types.Resource) (snapshotType, error) {
	st := snapshotType{resources: make(map[string]types.Resource, len(items)), hashes: make(map[string]string, len(items))}
	h := sha256.New()
	opts := proto.MarshalOptions{Deterministic: true}
	for _, it := range items {
		name := cache.GetResourceName(it)
		b, err := opts.Marshal(it)
		if err != nil {
			return st, fmt.Errorf("%s: %w", name, err)
		}
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
		sum := sha256.Sum256(b)
		st.resources[name], st.hashes[name] = it, hex.EncodeToString(sum[:8])
	}
	st.version = hex.EncodeToString(h.Sum(nil))[:16]
	return st, nil
}

// sameVersions reports whether a and b have the same version for every type.
func sameVersions(a, b *snapshot) bool {
	if a == nil || b == nil {
		return false
	}
	for i := range a.types {
		if a.types[i].version != b.types[i].version {
			return false
		}
	}
	return true
}

// changedTypes lists the type URLs whose version differs between the snapshots a (nil before
// the first) and b: the types an update pushes, whose push latency starts now.
func changedTypes(a, b *snapshot) []string {
	var out []string
	for i := range b.types {
		if a == nil || a.types[i].version != b.types[i].version {
			out = append(out, snapshotTypes[i])
		}
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
