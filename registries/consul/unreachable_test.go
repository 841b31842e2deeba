package consul

import (
	"testing"

	"github.com/hashicorp/consul/api"

	consulpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/consul"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

// TestNeverReachedSaysWhy points a source at the address of a real Consul agent that was
// stopped: before any listing it publishes a pending snapshot whose diagnostic carries the
// client's error, and once the agent is back it lists as usual and the diagnostic is gone.
func TestNeverReachedSaysWhy(t *testing.T) {
	agent := consulpeer.Start(t)
	agent.Stop()

	rec := runSource(t, agent.Addr())
	rec.WaitRefused(t, agent.Addr())

	agent.Restart()
	register(t, agentClient(t, agent.Addr()), &api.AgentServiceRegistration{ID: "web-1", Name: "web", Address: "10.0.0.1", Port: 80})
	rec.WaitFor(t, "the listing once the agent is back", func(s registries.Snapshot) bool {
		return s.Synced && !s.Stale && names(s) == "web" && registrytest.UnreachableReason(s) == ""
	})
}
