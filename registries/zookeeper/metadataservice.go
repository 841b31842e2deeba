package zookeeper

import (
	"context"
	"maps"
	"slices"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
)

// Dubbo 3 application-level instances say which services they serve only through their
// MetadataService: the source has dubbometa call getMetadataInfo(revision) on one instance per
// (application, revision), off the listing path, and publishes each interface/version/group it
// returns as its own service (dubbometa.Resolve). Until then (or while the call fails) every
// interface mapped to the application keeps a placeholder service with empty version and group
// (buildAppLevel).

// appInstances lists the readable application-level instances, by application then node name,
// and a diagnostic for each node that could not be used.
func (st *state) appInstances(stage string) ([]dubbometa.Instance, []diag.Diagnostic) {
	var instances []dubbometa.Instance
	var diags []diag.Diagnostic
	for _, app := range slices.Sorted(maps.Keys(st.apps)) {
		nodes := st.apps[app]
		for _, name := range slices.Sorted(maps.Keys(nodes)) {
			n := nodes[name]
			if n.err != nil {
				diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Code: diag.RegistryEntrySkipped, Stage: stage,
					Subject: servicesPath + "/" + app + "/" + name, Message: "instance skipped: " + n.err.Error()})
				continue
			}
			instances = append(instances, n.inst)
		}
	}
	return instances, diags
}

// startMetadataFetches hands the fetcher the revisions the readable instances advertise.
func startMetadataFetches(ctx context.Context, f *dubbometa.Fetcher, st *state) {
	instances, _ := st.appInstances("")
	if f.Start(ctx, st.appMeta, instances) {
		st.changed = true
	}
}
