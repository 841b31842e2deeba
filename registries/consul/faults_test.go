package consul

import (
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	consulpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/consul"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

func TestStaleWhileTheAgentIsDownThenConverges(t *testing.T) {
	agent := consulpeer.Start(t)
	c := agentClient(t, agent.Addr())
	register(t, c, &api.AgentServiceRegistration{ID: "web-1", Name: "web", Address: "10.0.0.1", Port: 80})
	register(t, c, &api.AgentServiceRegistration{ID: "api-1", Name: "api", Address: "10.0.0.2", Port: 81})
	rec := runSource(t, agent.Addr())
	rec.WaitFor(t, "the first sync", func(s registries.Snapshot) bool {
		return s.Synced && !s.Stale && names(s) == "api,web"
	})

	agent.Stop()
	stale := rec.WaitFor(t, "a stale snapshot that says why", func(s registries.Snapshot) bool {
		return s.Stale && strings.Contains(registrytest.UnreachableReason(s), "connection refused")
	})
	web, _ := registrytest.Service(stale, "web")
	if names(stale) != "api,web" || registrytest.EndpointSet(web) != "10.0.0.1:80" || !stale.Synced {
		t.Fatalf("the stale snapshot lost the last known services:\n%s", registrytest.Dump(stale))
	}

	// A dev agent forgets everything: register a different state and expect exactly it.
	agent.Restart()
	register(t, c, &api.AgentServiceRegistration{ID: "web-2", Name: "web", Address: "10.0.0.7", Port: 8080})
	register(t, c, &api.AgentServiceRegistration{ID: "new-1", Name: "new", Address: "10.0.0.8", Port: 82})
	rec.WaitFor(t, "the state after the restart", func(s registries.Snapshot) bool {
		web, _ := registrytest.Service(s, "web")
		return !s.Stale && names(s) == "new,web" && registrytest.EndpointSet(web) == "10.0.0.7:8080" && registrytest.UnreachableReason(s) == ""
	})
	// The watches work again: a change after the restart is followed.
	deregister(t, c, "new-1")
	rec.WaitFor(t, "a deregistration after the restart", func(s registries.Snapshot) bool {
		return !s.Stale && names(s) == "web"
	})
}
