// Package backends is the one place that knows the store backends: the configuration of a
// store (the type, and the block of that backend, each with the backend's own Config type that
// validates itself) and Open, which builds the store it names. rpcbridge's configuration embeds
// Config as its store section.
package backends

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/consul"
	"github.com/rpcbridge/rpcbridge/kvstore/local"
	"github.com/rpcbridge/rpcbridge/kvstore/nacos"
	"github.com/rpcbridge/rpcbridge/kvstore/zookeeper"
)

// The store types.
const (
	Local     = "local"
	ZooKeeper = "zookeeper"
	Consul    = "consul"
	Nacos     = "nacos"
)

// Config is the configuration of a store: its type and the block of that type. The zero Config
// is the local store in the default directory.
type Config struct {
	// Type is local (the default), zookeeper, consul or nacos.
	Type string `yaml:"type" json:"type"`
	// Local configures a local directory; optional (the directory defaults to the one Open
	// is given).
	Local *local.Config `yaml:"local" json:"local,omitempty"`
	// ZooKeeper configures a ZooKeeper ensemble.
	ZooKeeper *zookeeper.Config `yaml:"zookeeper" json:"zookeeper,omitempty"`
	// Consul configures Consul KV.
	Consul *consul.Config `yaml:"consul" json:"consul,omitempty"`
	// Nacos configures the Nacos config service.
	Nacos *nacos.Config `yaml:"nacos" json:"nacos,omitempty"`
}

// Validate checks that the block Type names is set (local's may be left out), that no other is,
// and the block itself. The local directory is not required here: Open fills it in.
func (c Config) Validate() error {
	typ := c.typ()
	var errs []error
	blocks := map[string]bool{Local: c.Local != nil, ZooKeeper: c.ZooKeeper != nil, Consul: c.Consul != nil, Nacos: c.Nacos != nil}
	if _, known := blocks[typ]; !known {
		return fmt.Errorf("store: unknown type %q: want local, zookeeper, consul or nacos", c.Type)
	}
	for name, set := range blocks {
		if set && name != typ {
			errs = append(errs, fmt.Errorf("store: the %s block is set but the type is %s", name, typ))
		}
	}
	switch typ {
	case Local:
		if c.Local != nil && c.Local.Dir != "" {
			errs = append(errs, c.Local.Validate())
		}
	case ZooKeeper:
		errs = append(errs, required(typ, c.ZooKeeper))
	case Consul:
		errs = append(errs, required(typ, c.Consul))
	case Nacos:
		errs = append(errs, required(typ, c.Nacos))
	}
	return errors.Join(errs...)
}

// validator is a backend Config.
type validator interface{ Validate() error }

// required validates the block of type typ, which must be set.
func required[T validator](typ string, block *T) error {
	if block == nil {
		return fmt.Errorf("store: type %s needs a %s block", typ, typ)
	}
	return (*block).Validate()
}

func (c Config) typ() string {
	if c.Type == "" {
		return Local
	}
	return c.Type
}

// Open builds the store c names. localDir is the local store's directory when the
// configuration names none (the integrator passes a directory inside rpcbridge's dataDir).
func Open(c Config, localDir string, logger *slog.Logger) (kvstore.Store, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	switch c.typ() {
	case ZooKeeper:
		return zookeeper.Open(*c.ZooKeeper, logger)
	case Consul:
		return consul.Open(*c.Consul, logger)
	case Nacos:
		return nacos.Open(*c.Nacos, logger)
	}
	lc := local.Config{}
	if c.Local != nil {
		lc = *c.Local
	}
	if lc.Dir == "" {
		lc.Dir = localDir
	}
	return local.Open(lc, logger)
}
