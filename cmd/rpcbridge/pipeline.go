package main

import (
	"fmt"
	"time"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// rules converts the configuration's route rules into transcoding rules.
func rules(cfg *config.Config, file string) transcoding.Rules {
	r := transcoding.Rules{DefaultTimeout: time.Duration(config.DefaultRouteTimeout), Upstreams: cfg.Upstreams}
	for i, rc := range cfg.Routes {
		rule := transcoding.HTTPRule{
			Origin:        fmt.Sprintf("%s routes[%d]", file, i),
			Service:       rc.Service,
			PathPrefix:    rc.PathPrefix,
			Path:          rc.Path,
			Methods:       rc.Methods,
			RewritePrefix: rc.RewritePrefix,
		}
		if rc.Timeout != nil {
			d := time.Duration(*rc.Timeout)
			rule.Timeout = &d
		}
		r.HTTP = append(r.HTTP, rule)
	}
	for i, rc := range cfg.RPCRoutes {
		rule := transcoding.RPCRule{
			Origin:       fmt.Sprintf("%s rpcRoutes[%d]", file, i),
			Service:      rc.Service,
			Method:       rc.Method,
			ParamTypes:   rc.ParamTypes,
			HTTPMethod:   rc.HTTP.Method,
			Path:         rc.HTTP.Path,
			Body:         rc.Body,
			ResponseBody: rc.ResponseBody,
			Attachments:  rc.Attachments,
		}
		for _, p := range rc.Params {
			rule.Params = append(rule.Params, transcoding.ArgRule{Arg: p.Arg, From: ir.ParamSource(p.From), Key: p.Key})
		}
		if rc.Timeout != nil {
			d := time.Duration(*rc.Timeout)
			rule.Timeout = &d
		}
		r.RPC = append(r.RPC, rule)
	}
	return r
}

// compiled is what the pipeline computes from one set of inputs.
type compiled struct {
	Catalog     bridge.Catalog
	Gateway     ir.Gateway
	Diagnostics []diag.Diagnostic
}

// compile runs the pure stages: merge the snapshots, then build the gateway.
func compile(snaps []registries.Snapshot, schemas []idl.Schema, cfg *config.Config, file string) compiled {
	cat := bridge.Merge(snaps, filters(cfg))
	g, ds := transcoding.Build(cat, schemas, rules(cfg, file))
	all := append(append([]diag.Diagnostic{}, cat.Diagnostics...), ds...)
	diag.Sort(all)
	return compiled{Catalog: cat, Gateway: g, Diagnostics: all}
}
