package zookeeper

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"maps"
	"slices"
	"strings"

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

	// order is the keys of ifaces sorted by name+":", the order in which their services'
	// names sort ("providers:<interface>:..."), so that a snapshot need not sort them again;
	// orderStale says that a key was added or removed since it was sorted.
	order      []string
	orderStale bool
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
	if st.orderStale || len(st.order) != len(st.ifaces) {
		st.order = slices.SortedFunc(maps.Keys(st.ifaces), compareWithColon)
		st.orderStale = false
	}
	count := 0
	for _, e := range st.ifaces {
		count += len(e.services)
	}
	snap.Services = make([]registries.Service, 0, count)
	for _, iface := range st.order {
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
	// Interface-level services are in name order already (see order); the others are sorted
	// and merged in after them, as a stable sort of the whole list would place them.
	ifaceLevel := snap.Services
	snap.Services = nil
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
	snap.Services = mergeByName(ifaceLevel, snap.Services)
	diag.Sort(snap.Diagnostics)
	return snap
}

// mergeByName merges two lists sorted by name; for equal names a's come first.
func mergeByName(a, b []registries.Service) []registries.Service {
	if len(b) == 0 {
		return a
	}
	out := make([]registries.Service, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if b[0].Name < a[0].Name {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}

// compareWithColon compares a+":" with b+":" without building them.
func compareWithColon(a, b string) int {
	n := min(len(a), len(b))
	if c := strings.Compare(a[:n], b[:n]); c != 0 || len(a) == len(b) {
		return c
	}
	if len(a) < len(b) {
		return cmp.Compare(':', b[n])
	}
	return cmp.Compare(a[n], ':')
}
