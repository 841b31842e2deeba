package consul

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

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

// runSource runs a source against the agent at addr until the test ends.
func runSource(t testing.TB, addr string) *registrytest.Recorder {
	t.Helper()
	return runSourceWith(t, Config{Address: addr})
}

// runSourceWith runs a source with cfg (short waits unless set) until the test ends.
func runSourceWith(t testing.TB, cfg Config) *registrytest.Recorder {
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
	return registrytest.Run(t, src)
}

func names(s registries.Snapshot) string {
	var out []string
	for _, svc := range s.Services {
		out = append(out, svc.Name)
	}
	return strings.Join(out, ",")
}
