package main

// The key-set stage: the JWKS files and URLs of the configuration's JWT policies, read and
// fetched by package jwks, published on a topic that the compile stage reads (Build gets them as
// Rules.KeySets, so that it stays pure and the IR carries the keys inline).

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"sync"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/internal/bus"
	"github.com/rpcbridge/rpcbridge/jwks"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// jwksSources are the key-set sources of cfg's policies.
func jwksSources(cfg *config.Config) []jwks.Source {
	var out []jwks.Source
	for _, s := range transcoding.JWKSSources(cfg.Policies) {
		out = append(out, jwks.Source{Key: s.Key(), File: s.File, URL: s.URL,
			Refresh: s.RefreshOrDefault(), Timeout: s.Timeout.Or(transcoding.DefaultJWKSTimeout)})
	}
	slices.SortFunc(out, func(a, b jwks.Source) int {
		if a.Key < b.Key {
			return -1
		}
		if a.Key > b.Key {
			return 1
		}
		return 0
	})
	return out
}

// keySets is the Build input of sets.
func keySets(sets jwks.Sets) map[string]transcoding.KeySet {
	out := map[string]transcoding.KeySet{}
	for k, st := range sets {
		out[k] = transcoding.KeySet{JSON: st.JSON, Problem: st.Problem}
	}
	return out
}

// loadKeySets reads every key set of cfg once, for the one-shot commands.
func loadKeySets(ctx context.Context, cfg *config.Config) map[string]transcoding.KeySet {
	return keySets(jwks.Load(ctx, jwksSources(cfg), http.DefaultClient))
}

// newKeySetTopic is the topic of the latest key sets.
func newKeySetTopic() *bus.Topic[jwks.Sets] {
	return bus.NewTopic(func(a, b jwks.Sets) bool { return reflect.DeepEqual(a, b) })
}

// followKeySets runs the key-set sources that sources returns until ctx ends, restarting them
// whenever one of inputs changes them (a reload, the store's rules); what they know is published
// on out. A source that stays keeps its keys across the restart, and a runner that was replaced
// publishes nothing more.
func followKeySets(ctx context.Context, sources func() []jwks.Source, out *bus.Topic[jwks.Sets], log *slog.Logger, inputs ...bus.Watchable) error {
	var (
		mu      sync.Mutex
		gen     int
		running []jwks.Source
		started bool
		wg      sync.WaitGroup
		cancel  = func() {}
	)
	defer func() { cancel(); wg.Wait() }()
	step := func() {
		srcs := sources()
		if started && reflect.DeepEqual(srcs, running) {
			return
		}
		cancel()
		started, running = true, srcs
		mu.Lock()
		gen++
		mine := gen
		if len(srcs) == 0 {
			out.Publish(jwks.Sets{})
		}
		mu.Unlock()
		if len(srcs) == 0 {
			cancel = func() {}
			return
		}
		rctx, c := context.WithCancel(ctx)
		cancel = c
		kept, _ := out.Latest()
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = jwks.Run(rctx, srcs, &http.Client{}, log, func(sets jwks.Sets) {
				mu.Lock()
				defer mu.Unlock()
				if gen != mine {
					return
				}
				for k, st := range sets {
					if st.JSON == "" && kept[k].JSON != "" {
						st.JSON = kept[k].JSON
						sets[k] = st
					}
				}
				out.Publish(sets)
			})
		}()
	}
	return bus.RunStage(ctx, step, inputs...)
}
