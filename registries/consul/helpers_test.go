package consul

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries"
)

// giveUp bounds every wait; tests never assert on durations.
const giveUp = 30 * time.Second

// agentClient is a Consul API client for registering services in the test agent.
func agentClient(t testing.TB, addr string) *api.Client {
	t.Helper()
	c, err := api.NewClient(&api.Config{Address: addr, Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func register(t testing.TB, c *api.Client, reg *api.AgentServiceRegistration) {
	t.Helper()
	if err := c.Agent().ServiceRegister(reg); err != nil {
		t.Fatalf("register %s: %v", reg.ID, err)
	}
}

func deregister(t testing.TB, c *api.Client, id string) {
	t.Helper()
	if err := c.Agent().ServiceDeregister(id); err != nil {
		t.Fatalf("deregister %s: %v", id, err)
	}
}

// ttlCheck is a TTL check that starts passing; the test flips it with UpdateTTL.
func ttlCheck(id string) *api.AgentServiceCheck {
	return &api.AgentServiceCheck{CheckID: id, TTL: "10m", Status: api.HealthPassing}
}

// recorder keeps what a source publishes.
type recorder struct {
	mu         sync.Mutex
	snaps      []registries.Snapshot
	emptyStale bool // a stale snapshot without services was published
}

func (r *recorder) publish(s registries.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(s.Services) == 0 && s.Stale {
		r.emptyStale = true
	}
	r.snaps = append(r.snaps, s)
}

// waitFor waits until the latest snapshot satisfies cond and returns it.
func (r *recorder) waitFor(t testing.TB, what string, cond func(registries.Snapshot) bool) registries.Snapshot {
	t.Helper()
	deadline := time.Now().Add(giveUp)
	for {
		r.mu.Lock()
		var last registries.Snapshot
		n := len(r.snaps)
		if n > 0 {
			last = r.snaps[n-1]
		}
		r.mu.Unlock()
		if n > 0 && cond(last) {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s; last of %d snapshots:\n%s", what, n, dump(last))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runSource runs a source against the agent at addr until the test ends.
func runSource(t testing.TB, addr string) *recorder {
	t.Helper()
	return runSourceWith(t, Config{Address: addr})
}

// runSourceWith runs a source with cfg (short waits unless set) until the test ends.
func runSourceWith(t testing.TB, cfg Config) *recorder {
	t.Helper()
	if cfg.Wait == 0 {
		cfg.Wait = yamltime.Duration(5 * time.Second)
	}
	if cfg.Debounce == 0 {
		cfg.Debounce = yamltime.Duration(50 * time.Millisecond)
	}
	src, err := New("c1", cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, rec.publish) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
		if rec.emptyStale {
			t.Error("the source published a stale snapshot without services")
		}
	})
	return rec
}

func service(s registries.Snapshot, name string) (registries.Service, bool) {
	for _, svc := range s.Services {
		if svc.Name == name {
			return svc, true
		}
	}
	return registries.Service{}, false
}

// endpointSet renders endpoints as "addr:port[!]" (! for unhealthy), in snapshot order.
func endpointSet(svc registries.Service) string {
	var parts []string
	for _, e := range svc.Endpoints {
		mark := ""
		if !e.Healthy {
			mark = "!"
		}
		parts = append(parts, fmt.Sprintf("%s:%d%s", e.Address, e.Port, mark))
	}
	return strings.Join(parts, ",")
}

func names(s registries.Snapshot) string {
	var out []string
	for _, svc := range s.Services {
		out = append(out, svc.Name)
	}
	return strings.Join(out, ",")
}

func dump(s registries.Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "synced=%v stale=%v\n", s.Synced, s.Stale)
	for _, svc := range s.Services {
		fmt.Fprintf(&b, "  %s %s iface=%s endpoints=%s\n", svc.Name, svc.Protocol, svc.Interface, endpointSet(svc))
	}
	for _, d := range s.Diagnostics {
		fmt.Fprintf(&b, "  %.200s\n", d.String())
	}
	return b.String()
}
