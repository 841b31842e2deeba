package main

import (
	"time"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// compiled is what the pipeline computes from one set of inputs.
type compiled struct {
	Catalog     bridge.Catalog
	Gateway     ir.Gateway
	Diagnostics []diag.Diagnostic
}

// compile runs the pure stages once, remembering nothing from an earlier run: what the one-shot
// commands use (a service that left a registry before they ran is simply absent).
func compile(snaps []registries.Snapshot, schemas []idl.Schema, cfg *config.Config, keys map[string]transcoding.KeySet) compiled {
	c, _ := compileAt(snaps, schemas, cfg, keys, nil, bridge.Memory{}, time.Now())
	return c
}

// compileAt runs the pure stages at now: merge the snapshots with what the previous merge
// remembered (so that a service whose last provider left keeps its routes for its registry's
// retention), then build the gateway with the JWT policies' key sets keys and the store's API
// key sets apiKeySets (by name). It returns what this merge remembers, for the next.
func compileAt(snaps []registries.Snapshot, schemas []idl.Schema, cfg *config.Config, keys map[string]transcoding.KeySet,
	apiKeySets map[string]string, mem bridge.Memory, now time.Time) (compiled, bridge.Memory) {
	cat, mem := bridge.Merge(snaps, bridge.Options{Filters: filters(cfg), Retention: retention(cfg), Memory: mem, Now: now})
	rules := cfg.Rules()
	rules.KeySets = keys
	rules.APIKeySets = apiKeySets
	g, ds := transcoding.Build(cat, schemas, rules)
	all := append(append([]diag.Diagnostic{}, cat.Diagnostics...), ds...)
	diag.Sort(all)
	return compiled{Catalog: cat, Gateway: g, Diagnostics: all}, mem
}

// retention returns how long each registry keeps a service it stopped listing.
func retention(cfg *config.Config) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, rc := range cfg.Registries {
		out[rc.Name] = rc.Retention()
	}
	return out
}
