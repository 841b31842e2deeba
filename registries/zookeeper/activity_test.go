package zookeeper

import (
	"log/slog"
	"testing"
	"time"

	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

// TestActivity: the source reports nothing before its first pass, then the end of its last
// pass, and counts the watches it sets again after the first listing: none while nothing
// changes, some once a provider arrives (the providers node's children watch fired and is
// re-armed, and the new node is watched).
func TestActivity(t *testing.T) {
	server := zkpeer.Start(t)
	w := newWriter(t, server.Addr())
	w.provider(greeter, greeterURL("10.0.0.1:20880", "version=1.0.0"))
	src, err := New("zk1", Config{Servers: []string{server.Addr()}, Debounce: yamltime.Duration(50 * time.Millisecond),
		SessionTimeout: yamltime.Duration(4 * time.Second)}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if a := src.Activity(); !a.LastSync.IsZero() || a.WatchRearms != 0 {
		t.Errorf("before Run: %+v, want nothing", a)
	}
	rec := registrytest.Run(t, src)
	rec.WaitFor(t, "the first listing", func(s registries.Snapshot) bool { return s.Synced && len(s.Services) == 1 })
	first := src.Activity()
	if first.LastSync.IsZero() || first.WatchRearms != 0 {
		t.Errorf("after the first listing: %+v, want a sync time and no re-arm yet", first)
	}
	w.provider(greeter, greeterURL("10.0.0.2:20880", "version=1.0.0"))
	rec.WaitFor(t, "the second provider", func(s registries.Snapshot) bool {
		svc, ok := registrytest.Service(s, "providers:"+greeter+":1.0.0:")
		return ok && len(svc.Endpoints) == 2
	})
	next := src.Activity()
	if next.WatchRearms == 0 || !next.LastSync.After(first.LastSync) {
		t.Errorf("after a provider arrived: %+v (first %+v), want re-arms and a later sync", next, first)
	}
}
