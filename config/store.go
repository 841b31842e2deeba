package config

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/kvstore/backends"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// StoreConfig is the store section: where what users write (uploaded IDL, and with Rules the
// route rules) is kept, shared by every control-plane replica that opens the same store. It
// embeds kvstore's own backends.Config (type and the block of that type), which validates
// itself; the default is the local type in <dataDir>/idl, today's layout (docs/store.md).
// Read at start only.
type StoreConfig struct {
	backends.Config `yaml:",inline"`
	// Rules true reads routes, rpcRoutes and policies also from the store key rules/current
	// (written by PUT /api/v1/rules and `rpcbridge rules push`): the file's rules and policies
	// come first, the store's are added to them, and conflicts are diagnosed as between rules of
	// the file (a policy name defined in both withholds the routes that use it). Needs a shared
	// store type (zookeeper, consul or nacos) or local.
	Rules bool `yaml:"rules"`
}

// Shared reports whether the store is shared between replicas (any type but local).
func (s StoreConfig) Shared() bool { return s.Type != "" && s.Type != backends.Local }

// validate asks the backend block to validate itself; its problems are reported at the block.
func (s StoreConfig) validate(addErr func(key string, err error)) {
	err := s.Config.Validate()
	if err == nil {
		return
	}
	key := "store"
	switch {
	case s.Type == backends.ZooKeeper && s.ZooKeeper != nil:
		key = "store.zookeeper"
	case s.Type == backends.Consul && s.Consul != nil:
		key = "store.consul"
	case s.Type == backends.Nacos && s.Nacos != nil:
		key = "store.nacos"
	case s.Type != "":
		key = "store.type"
	}
	addErr(key, err)
}

// RulesKey is the store key of the route rules that store.rules reads.
const RulesKey = "rules/current"

// StoreRules are the route rules kept in the store (RulesKey): the routes, rpcRoutes and policies
// keys of rpcbridge.yaml, as YAML or JSON.
type StoreRules struct {
	// Routes are HTTP route rules, as the file's routes.
	Routes []transcoding.HTTPRule `yaml:"routes" json:"routes,omitempty"`
	// RPCRoutes are RPC route rules, as the file's rpcRoutes.
	RPCRoutes []transcoding.RPCRule `yaml:"rpcRoutes" json:"rpcRoutes,omitempty"`
	// Policies are edge policies, as the file's policies.
	Policies []transcoding.Policy `yaml:"policies" json:"policies,omitempty"`
}

// ParseRules reads a rules document strictly: only routes, rpcRoutes and policies, each validated
// as in rpcbridge.yaml, every problem with name:line; a rule may reference a policy of the file
// (references are resolved, and diagnosed, by transcoding). Each Origin is "<name> routes[i]",
// "<name> rpcRoutes[i]" or "<name> policies[i]", and the defaults of the file's rules apply.
func ParseRules(name string, data []byte) (StoreRules, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return StoreRules{}, &Error{Problems: []Problem{problemOf(name, err.Error())}}
	}
	if isEmpty(&root) || root.Content[0].Kind != yaml.MappingNode {
		return StoreRules{}, &Error{Problems: []Problem{{File: name, Line: 1,
			Message: "a rules document is a mapping with routes, rpcRoutes and/or policies"}}}
	}
	var problems []Problem
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i].Value; k != "routes" && k != "rpcRoutes" && k != "policies" {
			problems = append(problems, Problem{File: name, Line: m.Content[i].Line, Key: k,
				Message: fmt.Sprintf("unknown key %q: a rules document holds routes, rpcRoutes and policies only", k)})
		}
	}
	if len(problems) > 0 {
		return StoreRules{}, &Error{Problems: problems}
	}
	cfg, err := parse(name, data, false)
	if err != nil {
		return StoreRules{}, err
	}
	return StoreRules{Routes: cfg.Routes, RPCRoutes: cfg.RPCRoutes, Policies: cfg.Policies}, nil
}

// WithStoreRules returns c with the store's rules after the file's own (c's lists are not
// modified): the file's rules come first, so a conflict between the two is diagnosed as one
// between two rules of the file would be, the file's rule winning.
func (c *Config) WithStoreRules(r StoreRules) *Config {
	out := *c
	out.Routes = append(slices.Clone(c.Routes), r.Routes...)
	out.RPCRoutes = append(slices.Clone(c.RPCRoutes), r.RPCRoutes...)
	out.Policies = append(slices.Clone(c.Policies), r.Policies...)
	return &out
}
