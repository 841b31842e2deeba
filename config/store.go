package config

import (
	"github.com/rpcbridge/rpcbridge/kvstore/backends"
)

// StoreConfig is the store section: where what users write (uploaded IDL, and with Rules the
// route rules) is kept, shared by every control-plane replica that opens the same store. It
// embeds kvstore's own backends.Config (type and the block of that type), which validates
// itself; the default is the local type in <dataDir>/idl, today's layout (docs/store.md).
// Read at start only.
type StoreConfig struct {
	backends.Config `yaml:",inline"`
	// Rules true reads routes and rpcRoutes also from the store key rules/current (written by
	// PUT /api/v1/rules and `rpcrbridge rules push`): the file's rules come first, the store's
	// are added to them, and conflicts are diagnosed as between rules of the file. Needs a
	// shared store type (zookeeper, consul or nacos) or local.
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
