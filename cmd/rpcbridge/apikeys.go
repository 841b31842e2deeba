package main

// The API key sets held hashed in the store (keys: {store: NAME}, docs/store.md): the stage that
// follows them into the compile stage, the admin API's options and `rpcbridge apikeys`.

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/internal/bus"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// apiKeysStage is the stage of the diagnostics about the store's key sets.
const apiKeysStage = "apikeys-store"

// apiKeysState is what the store holds under config.APIKeysPrefix: the last good key set of
// each name (the text of a key file of digests only), and what was wrong with the entries.
type apiKeysState struct {
	Sets        map[string]string
	Diagnostics []diag.Diagnostic
}

// followAPIKeys publishes the key sets kept under config.APIKeysPrefix on topic whenever they
// change, until ctx ends, as followRules does for the rules. An entry that is not a set of
// digests (a hand edit in the store: a malformed line, a plaintext key) keeps the last good set
// of its name, with a diagnostic; a key that is not a set name is stray; a deleted set is gone.
// A stale snapshot (the store down) changes nothing. Nothing logged names a key or a digest.
func followAPIKeys(ctx context.Context, kv kvstore.Store, topic *bus.Topic[apiKeysState], log *slog.Logger) error {
	last := map[string]string{}
	return kv.Watch(ctx, config.APIKeysPrefix, func(snap kvstore.Snapshot) {
		if snap.Stale {
			return
		}
		st := apiKeysState{Sets: map[string]string{}}
		for _, d := range snap.Diagnostics {
			d.Stage = apiKeysStage
			st.Diagnostics = append(st.Diagnostics, d)
		}
		for _, e := range snap.Entries {
			name := strings.TrimPrefix(e.Key, config.APIKeysPrefix)
			if err := transcoding.ValidAPIKeySetName(name); err != nil {
				st.Diagnostics = append(st.Diagnostics, diag.Diagnostic{Severity: diag.Warning, Code: diag.StoreStray,
					Stage: apiKeysStage, Subject: e.Key, Message: "not an API key set (" + err.Error() + "); ignored"})
				continue
			}
			if _, err := transcoding.SummarizeStoredAPIKeys(string(e.Value)); err != nil {
				keep := "no good set of this name was read: the routes of its policies are withheld"
				if prev, ok := last[name]; ok {
					st.Sets[name] = prev
					keep = "the last good set keeps serving"
				}
				st.Diagnostics = append(st.Diagnostics, diag.Diagnostic{Severity: diag.Warning, Code: diag.StoreEntryUnreadable,
					Stage: apiKeysStage, Subject: e.Key, Message: fmt.Sprintf("revision %d is not a key set of digests (%s); %s",
						e.Revision, strings.ReplaceAll(err.Error(), "\n", "; "), keep)})
				continue
			}
			st.Sets[name] = string(e.Value)
		}
		if !maps.Equal(last, st.Sets) {
			log.Info("API key sets loaded from the store", "sets", slices.Sorted(maps.Keys(st.Sets)))
		}
		last = st.Sets
		topic.Publish(st)
	})
}

// needsKV reports whether serve opens the kvstore although the IDL is kept in <dataDir>/idl:
// for the store's rules, or for key sets the configuration's policies read from the store.
func needsKV(cfg *config.Config) bool {
	return cfg.Store.Rules || len(transcoding.StoreAPIKeySets(cfg.Policies)) > 0
}

// apiKeysOptions turn on /api/v1/apikeys wherever serve has a kvstore.
func apiKeysOptions(kv kvstore.Store) *admin.APIKeysOptions {
	if kv == nil {
		return nil
	}
	return &admin.APIKeysOptions{Store: kv, Prefix: config.APIKeysPrefix}
}
