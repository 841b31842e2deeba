package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/discovery"
	"github.com/rpcbridge/rpcbridge/idl/java"
	"github.com/rpcbridge/rpcbridge/idl/store"
	"github.com/rpcbridge/rpcbridge/internal/bus"
)

// openStore opens the IDL store in the data directory with a validator for every IDL form.
func openStore(cfg *config.Config, log *slog.Logger) (*store.Store, error) {
	return store.Open(storeDir(cfg), store.Options{
		Logger:     log.With("component", "idl-store"),
		QuotaBytes: cfg.Admin.Uploads.StoreQuotaBytes,
		Validators: map[store.Kind]store.Validator{
			store.KindJavaSource:    java.ParseSources,
			store.KindJavaJar:       java.ParseJar,
			store.KindJavaYAML:      java.ParseDeclarative,
			store.KindDubboMetadata: java.ParseServiceDefinitionFiles,
		},
	})
}

func storeDir(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "idl") }

// storedSchemas reads the current schemas for one-shot commands, which must not create a data
// directory where there is none.
func storedSchemas(cfg *config.Config, log *slog.Logger) ([]idl.Schema, error) {
	if _, err := os.Stat(storeDir(cfg)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	st, err := openStore(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("open IDL store: %w", err)
	}
	return st.All(), nil
}

// discoverySources starts the configured schema discovery and returns the topics it publishes
// to; each publishes an empty list at once, so the pipeline never waits on a slow service.
func discoverySources(ctx context.Context, g *errgroup.Group, cfg *config.Config, log *slog.Logger,
	catalogs *bus.Topic[bridge.Catalog]) ([]*bus.Topic[[]idl.Schema], error) {
	var topics []*bus.Topic[[]idl.Schema]
	if rc := cfg.Discovery.Reflection; len(rc.Include) > 0 {
		out := bus.NewTopic(discovery.EqualSchemas)
		out.Publish([]idl.Schema{})
		r := discovery.NewReflector(discovery.ReflectorOptions{
			Include: rc.Include, Refresh: rc.Refresh.Std(), Logger: log.With("component", "reflection"),
		})
		g.Go(func() error { return r.Run(ctx, catalogs, out) })
		topics = append(topics, out)
	}
	for _, mc := range cfg.Discovery.MetadataCenters {
		m, err := discovery.NewMetadataCenter(discovery.MetadataCenterOptions{
			Servers: mc.Servers, Root: mc.Root, Resync: mc.Resync.Std(), Debounce: mc.Debounce.Std(),
			Logger: log.With("component", "metadata-center"),
		})
		if err != nil {
			return nil, err
		}
		out := bus.NewTopic(discovery.EqualSchemas)
		out.Publish([]idl.Schema{})
		g.Go(func() error { return m.Run(ctx, out) })
		topics = append(topics, out)
	}
	return topics, nil
}

// allSchemas concatenates the uploaded schemas and the discovered ones.
func allSchemas(topics []*bus.Topic[[]idl.Schema]) []idl.Schema {
	var out []idl.Schema
	for _, t := range topics {
		v, _ := t.Latest()
		out = append(out, v...)
	}
	return out
}
