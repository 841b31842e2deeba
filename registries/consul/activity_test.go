package consul

import (
	"log/slog"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	consulpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/consul"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

// TestActivity: against a real agent, the source reports when a query last answered and
// counts the blocking queries issued after the first complete listing; a new service wakes
// the catalog query, which is issued again.
func TestActivity(t *testing.T) {
	agent := consulpeer.Start(t)
	c := agentClient(t, agent.Addr())
	register(t, c, &api.AgentServiceRegistration{ID: "web-1", Name: "web", Address: "10.0.0.1", Port: 80, Tags: []string{"http"}})
	src, err := New("c1", Config{Address: agent.Addr(), Wait: yamltime.Duration(5 * time.Second),
		Debounce: yamltime.Duration(50 * time.Millisecond)}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if a := src.Activity(); !a.LastSync.IsZero() || a.WatchRearms != 0 {
		t.Errorf("before Run: %+v, want nothing", a)
	}
	rec := registrytest.Run(t, src)
	rec.WaitFor(t, "the first listing", func(s registries.Snapshot) bool { return s.Synced && names(s) == "web" })
	first := src.Activity()
	if first.LastSync.IsZero() {
		t.Errorf("after the first listing: %+v, want a sync time", first)
	}
	register(t, c, &api.AgentServiceRegistration{ID: "api-1", Name: "api", Address: "10.0.0.2", Port: 80, Tags: []string{"http"}})
	rec.WaitFor(t, "the new service", func(s registries.Snapshot) bool { return names(s) == "api,web" })
	if next := src.Activity(); next.WatchRearms <= first.WatchRearms || next.LastSync.Before(first.LastSync) {
		t.Errorf("after a new service: %+v (first %+v), want more re-issued queries", next, first)
	}
}
