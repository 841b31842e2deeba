package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/internal/bus"
	"github.com/rpcbridge/rpcbridge/kvstore/local"
)

// TestFollowRulesKeepsTheLastGoodRules: a rules document that does not parse (a hand edit in
// the store) and a foreign key are diagnosed, and the last good rules keep serving; deleting
// the key removes the store's rules.
func TestFollowRulesKeepsTheLastGoodRules(t *testing.T) {
	kv, err := local.Open(local.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	topic := bus.NewTopic[rulesState](nil)
	done := make(chan error, 1)
	go func() { done <- followRules(ctx, kv, topic, slog.New(slog.DiscardHandler)) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("followRules: %v", err)
		}
	}()
	wait := func(what string, ok func(rulesState) bool) {
		t.Helper()
		waitFor(t, what, func() error {
			if st, _ := topic.Latest(); !ok(st) {
				return fmt.Errorf("%+v", st)
			}
			return nil
		})
	}
	rev, err := kv.Put(ctx, config.RulesKey, []byte("routes:\n  - {service: users, pathPrefix: /users/}\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	wait("the rules", func(st rulesState) bool { return len(st.Rules.Routes) == 1 })
	if _, err := kv.Put(ctx, config.RulesKey, []byte("routes: {not: a list}\n"), rev); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "rules/other", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	wait("the diagnostics", func(st rulesState) bool {
		codes := map[diag.Code]bool{}
		for _, d := range st.Diagnostics {
			codes[d.Code] = true
		}
		return codes[diag.StoreEntryUnreadable] && codes[diag.StoreStray] && len(st.Rules.Routes) == 1
	})
	e, err := kv.Get(ctx, config.RulesKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(ctx, config.RulesKey, e.Revision); err != nil {
		t.Fatal(err)
	}
	wait("no store rules", func(st rulesState) bool { return len(st.Rules.Routes) == 0 })
}
