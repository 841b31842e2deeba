package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/idl/store"
	"github.com/rpcbridge/rpcbridge/internal/bus"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/backends"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// The store section (docs/store.md): where uploaded IDL and, with store.rules, route rules are
// kept. The default (type local without a dir) keeps today's <dataDir>/idl layout for IDL, so
// an existing data directory is served as it is, with nothing to migrate; rules then live in a
// local kvstore in <dataDir>/store. Any other store (zookeeper, consul, nacos, or local with a
// dir that several replicas on one host share) holds both, and every replica follows it.

// storeKVDir is the local kvstore's directory when store.local.dir is not set.
func storeKVDir(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "store") }

// sharedIDL reports whether uploaded IDL is kept on the kvstore rather than in <dataDir>/idl.
func sharedIDL(cfg *config.Config) bool {
	return cfg.Store.Shared() || cfg.Store.Local != nil && cfg.Store.Local.Dir != ""
}

// storeType is the store's type for metrics and status ("local" when unset).
func storeType(cfg *config.Config) string {
	if cfg.Store.Type == "" {
		return backends.Local
	}
	return cfg.Store.Type
}

// openKV opens the kvstore the store section names.
func openKV(cfg *config.Config, log *slog.Logger) (kvstore.Store, error) {
	kv, err := backends.Open(cfg.Store.Config, storeKVDir(cfg), log.With("component", "store", "type", storeType(cfg)))
	if err != nil {
		return nil, fmt.Errorf("open the %s store: %w", storeType(cfg), err)
	}
	return kv, nil
}

// storeOptions are the IDL store's options: a validator for every IDL form, the quota.
func storeOptions(cfg *config.Config, log *slog.Logger) store.Options {
	return store.Options{
		Logger:     log.With("component", "idl-store"),
		QuotaBytes: cfg.Admin.Uploads.StoreQuotaBytes,
		Validators: javaValidators(),
	}
}

// openIDLStore opens the IDL store the configuration names and returns it with the kvstore
// (nil when neither IDL, rules nor store-held API key sets use one) and a function that closes what it opened. A shared
// store that cannot be read fails the start: a replica never serves nothing in place of it.
func openIDLStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*store.Store, kvstore.Store, func(), error) {
	if !sharedIDL(cfg) {
		st, err := openStore(cfg, log)
		if err != nil || !needsKV(cfg) {
			return st, nil, func() {}, err
		}
		kv, err := openKV(cfg, log)
		if err != nil {
			return nil, nil, nil, err
		}
		return st, kv, func() { _ = kv.Close() }, nil
	}
	kv, err := openKV(cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := store.OpenShared(ctx, kv, storeType(cfg), storeOptions(cfg, log))
	if err != nil {
		_ = kv.Close()
		return nil, nil, nil, err
	}
	return st, kv, func() { _ = kv.Close() }, nil
}

// registerStoreMetrics exports rpcbridge_store_up{type}.
func registerStoreMetrics(reg prometheus.Registerer, st *store.Store, log *slog.Logger) {
	telemetry.LabeledGaugeFunc(reg, "rpcbridge_store_up", []string{st.Status().Type}, func() float64 {
		if st.Status().Up {
			return 1
		}
		return 0
	}, log)
}

// rulesState is what the store holds under rules/ (store.rules): the last good rules and what
// was wrong with the entries.
type rulesState struct {
	Rules       config.StoreRules
	Diagnostics []diag.Diagnostic
}

// followRules publishes the rules kept at config.RulesKey on topic whenever they change, until
// ctx ends. A document that does not parse keeps the last good rules, with a diagnostic; other
// keys under rules/ are stray. A stale snapshot (the store down) changes nothing.
func followRules(ctx context.Context, kv kvstore.Store, topic *bus.Topic[rulesState], log *slog.Logger) error {
	var last config.StoreRules
	return kv.Watch(ctx, "rules/", func(snap kvstore.Snapshot) {
		if snap.Stale {
			return
		}
		st := rulesState{Rules: last}
		for _, d := range snap.Diagnostics {
			d.Stage = "rules-store"
			st.Diagnostics = append(st.Diagnostics, d)
		}
		found := false
		for _, e := range snap.Entries {
			if e.Key != config.RulesKey {
				st.Diagnostics = append(st.Diagnostics, diag.Diagnostic{Severity: diag.Warning, Code: diag.StoreStray,
					Stage: "rules-store", Subject: e.Key, Message: "not the rules key " + config.RulesKey + "; ignored"})
				continue
			}
			found = true
			rules, err := config.ParseRules("store "+config.RulesKey, e.Value)
			if err != nil {
				st.Diagnostics = append(st.Diagnostics, diag.Diagnostic{Severity: diag.Warning, Code: diag.StoreEntryUnreadable,
					Stage: "rules-store", Subject: e.Key, Message: fmt.Sprintf("revision %d is not a valid rules document (%v); the last good rules keep serving", e.Revision, err)})
				continue
			}
			st.Rules = rules
		}
		if !found {
			st.Rules = config.StoreRules{}
		}
		if !reflect.DeepEqual(last, st.Rules) {
			log.Info("route rules loaded from the store", "routes", len(st.Rules.Routes), "rpcRoutes", len(st.Rules.RPCRoutes))
		}
		last = st.Rules
		topic.Publish(st)
	})
}

// rulesOptions turn on /api/v1/rules when store.rules is set.
func rulesOptions(cfg *config.Config, kv kvstore.Store) *admin.RulesOptions {
	if !cfg.Store.Rules || kv == nil {
		return nil
	}
	return &admin.RulesOptions{Store: kv, Key: config.RulesKey, Validate: func(data []byte) error {
		_, err := config.ParseRules("rules", data)
		return err
	}}
}
