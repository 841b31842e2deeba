package main

import (
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

// compile runs the pure stages: merge the snapshots, then build the gateway.
func compile(snaps []registries.Snapshot, schemas []idl.Schema, cfg *config.Config) compiled {
	cat := bridge.Merge(snaps, filters(cfg))
	g, ds := transcoding.Build(cat, schemas, cfg.Rules())
	all := append(append([]diag.Diagnostic{}, cat.Diagnostics...), ds...)
	diag.Sort(all)
	return compiled{Catalog: cat, Gateway: g, Diagnostics: all}
}
