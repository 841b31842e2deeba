package zookeeper

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"maps"
	"slices"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
)

// ifaceEntry caches what one /<root>/<iface>/providers node gave.
type ifaceEntry struct {
	// children is the digest of the sorted node names, to skip rebuilding when nothing
	// changed: the names themselves (about 250 bytes each) would be most of what the source
	// holds (docs/benchmarks.md, "ZooKeeper registry").
	children [sha256.Size]byte
	services []registries.Service
	diags    []diag.Diagnostic
}

// childrenDigest is the digest of sorted node names (each length-prefixed, so that no two
// lists share one).
func childrenDigest(sorted []string) [sha256.Size]byte {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, name := range sorted {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(name)))])
		h.Write([]byte(name))
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

// instanceEntry caches one application-level instance node.
type instanceEntry struct {
	inst dubbometa.Instance
	err  error
}

// metaEntry caches one metadata-center service definition; found is false when there is none.
type metaEntry struct {
	methods []string
	found   bool
}

// state is everything the source knows about the registry. Only the run loop touches it.
type state struct {
	ifaces    map[string]*ifaceEntry
	mappings  map[string][]string                 // interface -> application names
	apps      map[string]map[string]instanceEntry // application -> instance node -> entry
	meta      map[string]metaEntry                // metadata path -> definition
	readDiags map[string]diag.Diagnostic          // path -> why it could not be read
	appMeta   dubbometa.Cache                     // MetadataService answers (metadataservice.go)
	changed   bool
}

func newState() *state {
	return &state{
		ifaces:    map[string]*ifaceEntry{},
		mappings:  map[string][]string{},
		apps:      map[string]map[string]instanceEntry{},
		meta:      map[string]metaEntry{},
		readDiags: map[string]diag.Diagnostic{},
		appMeta:   dubbometa.Cache{},
	}
}

// wantedMetadata lists the metadata paths whose method names a snapshot would use: services
// that advertise no methods.
func (st *state) wantedMetadata(root string) []string {
	var paths []string
	for iface, e := range st.ifaces {
		for _, svc := range e.services {
			if len(svc.Methods) == 0 && svc.Metadata["application"] != "" {
				paths = append(paths, metadataPath(root, iface, svc.Version, svc.Group, svc.Metadata["application"]))
			}
		}
	}
	for iface, apps := range st.mappings {
		if st.hasInterfaceLevel(iface) {
			continue
		}
		for _, app := range apps {
			paths = append(paths, metadataPath(root, iface, "", "", app))
		}
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

func (st *state) hasInterfaceLevel(iface string) bool {
	e := st.ifaces[iface]
	return e != nil && len(e.services) > 0
}

// snapshot assembles the full state. Interface-level registrations win over application-level
// ones for the same interface (Dubbo 3 registers both by default).
func (st *state) snapshot(source, stage, root string) registries.Snapshot {
	snap := registries.Snapshot{Source: source, Services: []registries.Service{}, Synced: true}
	for _, iface := range slices.Sorted(maps.Keys(st.ifaces)) {
		e := st.ifaces[iface]
		for _, svc := range e.services {
			if len(svc.Methods) == 0 && svc.Metadata["application"] != "" {
				m := st.meta[metadataPath(root, iface, svc.Version, svc.Group, svc.Metadata["application"])]
				svc.Methods = m.methods
			}
			snap.Services = append(snap.Services, svc)
		}
		snap.Diagnostics = append(snap.Diagnostics, e.diags...)
	}
	instances, instanceDiags := st.appInstances(stage)
	snap.Diagnostics = append(snap.Diagnostics, instanceDiags...)
	// Instances whose revision the MetadataService described publish their real services; the
	// others keep a placeholder per mapped interface until it does.
	resolved, pending, resolveDiags := dubbometa.Resolve(stage, instances, st.appMeta, st.hasInterfaceLevel)
	snap.Services = append(snap.Services, resolved...)
	snap.Diagnostics = append(snap.Diagnostics, resolveDiags...)
	pendingByApp := map[string][]dubbometa.Instance{}
	for _, in := range pending {
		pendingByApp[in.App] = append(pendingByApp[in.App], in)
	}
	for _, iface := range slices.Sorted(maps.Keys(st.mappings)) {
		if st.hasInterfaceLevel(iface) {
			continue
		}
		apps := st.mappings[iface]
		var methods []string
		for _, app := range apps {
			if m := st.meta[metadataPath(root, iface, "", "", app)]; m.found {
				methods = m.methods
				break
			}
		}
		svc, diags, ok := buildAppLevel(stage, iface, apps, pendingByApp, methods)
		snap.Diagnostics = append(snap.Diagnostics, diags...)
		if ok && !slices.ContainsFunc(resolved, func(r registries.Service) bool { return r.Name == svc.Name }) {
			snap.Services = append(snap.Services, svc)
		}
	}
	for _, d := range st.readDiags {
		snap.Diagnostics = append(snap.Diagnostics, d)
	}
	slices.SortStableFunc(snap.Services, func(a, b registries.Service) int { return cmp.Compare(a.Name, b.Name) })
	diag.Sort(snap.Diagnostics)
	return snap
}
