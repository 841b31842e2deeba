package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/consul"
	"github.com/rpcbridge/rpcbridge/registries/nacos"
	"github.com/rpcbridge/rpcbridge/registries/static"
	"github.com/rpcbridge/rpcbridge/registries/zookeeper"
)

// RegistryConfig is one registry to watch. Exactly the block named by Type is set; the block is
// the adapter's own Config type, which validates itself.
type RegistryConfig struct {
	// Name identifies the registry in labels, diagnostics and logs.
	Name string `yaml:"name"`
	// Type is the registry kind: static, zookeeper, nacos or consul.
	Type string `yaml:"type"`
	// Include keeps only services whose registry name matches one of these globs (all if empty).
	Include []string `yaml:"include"`
	// Exclude drops services whose registry name matches one of these globs.
	Exclude []string `yaml:"exclude"`
	// ServiceRetention is how long a service that this registry, reachable, stops listing (its
	// last provider left) keeps its routes, without endpoints, answering 503; absent:
	// DefaultServiceRetention, or 0 for a static registry. "0s" removes such services at once.
	ServiceRetention *yamltime.Duration `yaml:"serviceRetention"`
	// Static is the static registry's service list.
	Static *static.Config `yaml:"static"`
	// ZooKeeper configures a ZooKeeper registry holding Dubbo providers.
	ZooKeeper *zookeeper.Config `yaml:"zookeeper"`
	// Nacos configures a Nacos registry (namespaces, groups, credentials).
	Nacos *nacos.Config `yaml:"nacos"`
	// Consul configures a Consul agent or server to read the catalog from.
	Consul *consul.Config `yaml:"consul"`
}

// DefaultServiceRetention is how long, unless configured, a service that a ZooKeeper, Nacos or
// Consul registry stops listing keeps its routes: long enough for the only provider of a service
// to restart or be redeployed (a JVM provider takes tens of seconds to a few minutes, and a
// provider that crashed leaves ZooKeeper only when its session expires), short enough that a
// retired service stops answering 503 soon. A static registry's file says what exists, so its
// services go at once.
const DefaultServiceRetention = 10 * time.Minute

// Retention returns the configured ServiceRetention, or the default for the registry's type.
func (r RegistryConfig) Retention() time.Duration {
	switch {
	case r.ServiceRetention != nil:
		return r.ServiceRetention.Std()
	case r.Type == "static":
		return 0
	default:
		return DefaultServiceRetention
	}
}

// registryBlock is what a RegistryConfig holds for one registry type.
type registryBlock struct {
	// kind is the type's name, which is also the key of its block.
	kind string
	// set reports whether the block is present; validate and source are nil when it is not.
	set bool
	// holds ends the problem of a missing block, saying what it needs.
	holds string
	// validate is the adapter's own Config.Validate.
	validate func() error
	// source builds the adapter; the block must be valid.
	source func(log *slog.Logger) (registries.Source, error)
}

// blocks lists every registry type and what r holds for it. It is the one place that knows the
// registry types: validation and NewSource both ask it.
func (r RegistryConfig) blocks() []registryBlock {
	name := r.Name
	return []registryBlock{
		block("static", r.Static, "with its services", func(c static.Config, _ *slog.Logger) (*static.Source, error) {
			return static.New(name, c), nil
		}),
		block("zookeeper", r.ZooKeeper, "with its servers", func(c zookeeper.Config, log *slog.Logger) (*zookeeper.Source, error) {
			return zookeeper.New(name, c, log)
		}),
		block("nacos", r.Nacos, "with its servers", func(c nacos.Config, log *slog.Logger) (*nacos.Source, error) {
			return nacos.New(name, c, log)
		}),
		block("consul", r.Consul, "(address, datacenter, ...)", func(c consul.Config, log *slog.Logger) (*consul.Source, error) {
			return consul.New(name, c, log)
		}),
	}
}

// block describes the block of one registry type, cfg (nil when absent), whose adapter New
// builds.
func block[C interface{ Validate() error }, S registries.Source](kind string, cfg *C, holds string,
	newSource func(C, *slog.Logger) (S, error)) registryBlock {
	b := registryBlock{kind: kind, set: cfg != nil, holds: holds}
	if cfg != nil {
		b.validate = (*cfg).Validate
		b.source = func(log *slog.Logger) (registries.Source, error) {
			s, err := newSource(*cfg, log)
			if err != nil {
				return nil, err // not a typed nil inside the interface
			}
			return s, nil
		}
	}
	return b
}

// validateType checks that r's type is known, that exactly its block is set, and the block's
// contents; problems are field errors relative to r ("type", "zookeeper", "static.services[0]").
func (r RegistryConfig) validateType() error {
	blocks := r.blocks()
	kinds := make([]string, len(blocks))
	var named *registryBlock
	for i := range blocks {
		kinds[i] = blocks[i].kind
		if blocks[i].kind == r.Type {
			named = &blocks[i]
		}
	}
	switch {
	case r.Type == "":
		return field.Errorf("type", "registry type is missing (one of: %s)", strings.Join(kinds, ", "))
	case named == nil:
		return field.Errorf("type", "unknown registry type %q (one of: %s)", r.Type, strings.Join(kinds, ", "))
	}
	var errs []error
	for _, b := range blocks {
		if b.set && b.kind != r.Type {
			errs = append(errs, field.Errorf(b.kind, "a %s block in a registry of type %q", b.kind, r.Type))
		}
	}
	if !named.set {
		errs = append(errs, field.Errorf(named.kind, "a %s registry needs a %s: block %s", named.kind, named.kind, named.holds))
	} else {
		errs = append(errs, field.Under(named.kind, named.validate()))
	}
	return errors.Join(errs...)
}

// NewSource builds the adapter of the registry, named r.Name; r must be valid (Parse checks it).
func (r RegistryConfig) NewSource(log *slog.Logger) (registries.Source, error) {
	for _, b := range r.blocks() {
		if b.kind == r.Type && b.set {
			return b.source(log)
		}
	}
	return nil, fmt.Errorf("registry %s: type %q has no %s block", r.Name, r.Type, r.Type)
}
