package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java"
	"github.com/rpcbridge/rpcbridge/idl/store"
)

// openStore opens the IDL store in the data directory with a validator for every IDL form.
func openStore(cfg *config.Config, log *slog.Logger) (*store.Store, error) {
	return store.Open(storeDir(cfg), store.Options{
		Logger: log.With("component", "idl-store"),
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
