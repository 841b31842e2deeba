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
	return store.Open(storeDir(cfg), storeOptions(cfg, log))
}

// javaValidators parse the Java IDL forms.
func javaValidators() map[store.Kind]store.Validator {
	return map[store.Kind]store.Validator{
		store.KindJavaSource:    java.ParseSources,
		store.KindJavaJar:       java.ParseJar,
		store.KindJavaYAML:      java.ParseDeclarative,
		store.KindDubboMetadata: java.ParseServiceDefinitionFiles,
	}
}

func storeDir(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "idl") }

// storedSchemas reads the current schemas for one-shot commands, which must not create a data
// directory where there is none.
func storedSchemas(cfg *config.Config, log *slog.Logger) ([]idl.Schema, error) {
	if sharedIDL(cfg) {
		st, _, closeStore, err := openIDLStore(context.Background(), cfg, log)
		if err != nil {
			return nil, fmt.Errorf("open IDL store: %w", err)
		}
		defer closeStore()
		return st.All(), nil
	}
	if _, err := os.Stat(storeDir(cfg)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	st, err := openStore(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("open IDL store: %w", err)
	}
	return st.All(), nil
}

// schemaSources starts the runners of schemas — the IDL store, then the configured discovery —
// each with a topic of its own, and returns the topics. Every runner publishes at once (the store
// its current schemas, discovery an empty list), so the pipeline never waits on a slow service.
func schemaSources(ctx context.Context, g *errgroup.Group, cfg *config.Config, log *slog.Logger,
	st *store.Store, catalogs *bus.Topic[bridge.Catalog]) ([]*bus.Topic[[]idl.Schema], error) {
	// Every runner publishes only changes, so a topic needs no equality of its own.
	stored := bus.NewTopic[[]idl.Schema](nil)
	g.Go(func() error { return st.Watch(ctx, publishTo(stored)) })
	g.Go(func() error { return st.Follow(ctx) })
	topics := []*bus.Topic[[]idl.Schema]{stored}
	if rc := cfg.Discovery.Reflection; len(rc.Include) > 0 {
		r := discovery.NewReflector(discovery.ReflectorOptions{
			Include: rc.Include, Refresh: rc.Refresh.Std(), Logger: log.With("component", "reflection"),
		})
		out := bus.NewTopic[[]idl.Schema](nil)
		latest := make(chan bridge.Catalog)
		g.Go(func() error { return forward(ctx, catalogs, latest) })
		g.Go(func() error { return r.Run(ctx, latest, publishTo(out)) })
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
		out := bus.NewTopic[[]idl.Schema](nil)
		g.Go(func() error { return m.Run(ctx, publishTo(out)) })
		topics = append(topics, out)
	}
	return topics, nil
}

// publishTo is a runner's publish function that stores every value on t.
func publishTo[T any](t *bus.Topic[T]) func(T) { return func(v T) { t.Publish(v) } }

// forward sends the latest value of t to out whenever t changes, until ctx ends; a value that
// changes again before out takes it is sent only in its newest form.
func forward[T any](ctx context.Context, t *bus.Topic[T], out chan<- T) error {
	return bus.RunStage(ctx, func() {
		v, _ := t.Latest()
		select {
		case out <- v:
		case <-ctx.Done():
		}
	}, t)
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
