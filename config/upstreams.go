package config

import "github.com/rpcbridge/rpcbridge/transcoding"

// UpstreamsConfig is the upstreams: block, which overrides the upstream policy defaults (load
// balancing, outlier detection, circuit breakers, retries) of RPC clusters (rpc:), HTTP clusters
// (http:) and single services (services:); transcoding owns the fields, their defaults and
// their validation (transcoding.UpstreamRules, docs/operations.md).
type UpstreamsConfig = transcoding.UpstreamRules

// validateUpstreams reports the invalid values of the upstreams: block.
func validateUpstreams(u UpstreamsConfig) []Problem {
	var ps []Problem
	for _, p := range u.Validate() {
		ps = append(ps, Problem{Key: "upstreams." + p.Path, Message: p.Message})
	}
	return ps
}
