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

// followKeySets runs the key-set sources of the latest configuration until ctx ends, restarting
// them when a reload changes them; what they know is published on out. A source that stays
// keeps its keys across the restart.
func followKeySets(ctx context.Context, cfgs *bus.Topic[*config.Config], out *bus.Topic[jwks.Sets], log *slog.Logger) error {
	var (
		seq     uint64
		running []jwks.Source
		stop    = func() {}
		done    chan struct{}
	)
	defer func() { stop(); waitDone(done) }()
	for {
		cfg, s, err := cfgs.Wait(ctx, seq)
		if err != nil {
			return err
		}
		seq = s
		sources := jwksSources(cfg)
		if done != nil && reflect.DeepEqual(sources, running) {
			continue
		}
		stop()
		waitDone(done)
		running = sources
		if len(sources) == 0 {
			out.Publish(jwks.Sets{})
			stop, done = func() {}, nil
			continue
		}
		rctx, cancel := context.WithCancel(ctx)
		d := make(chan struct{})
		stop, done = cancel, d
		kept, _ := out.Latest()
		go func() {
			defer close(d)
			_ = jwks.Run(rctx, sources, &http.Client{}, log, func(sets jwks.Sets) {
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
}

// waitDone waits for a runner to end; nil means none ran.
func waitDone(done chan struct{}) {
	if done != nil {
		<-done
	}
}
