package consul

import (
	"testing"

	"github.com/hashicorp/consul/api"
)

func client(t *testing.T, a *Agent) *api.Client {
	t.Helper()
	c, err := api.NewClient(&api.Config{Address: a.Addr(), Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStartServesAndRestartForgets(t *testing.T) {
	a := Start(t)
	c := client(t, a)
	reg := &api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 8080, Address: "10.0.0.1"}
	if err := c.Agent().ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	entries, _, err := c.Health().Service("web", "", false, nil)
	if err != nil || len(entries) != 1 || entries[0].Node.Datacenter != Datacenter || entries[0].Node.Node != Node {
		t.Fatalf("health of web = %v, %v; want one instance on %s/%s", entries, err, Datacenter, Node)
	}
	addr := a.Addr()
	a.Restart()
	if a.Addr() != addr {
		t.Fatalf("address changed across restart: %s -> %s", addr, a.Addr())
	}
	if leader, err := a.leader(); leader == "" {
		t.Fatalf("no leader after restart: %v", err)
	}
	entries, _, err = c.Health().Service("web", "", false, nil)
	if err != nil || len(entries) != 0 {
		t.Fatalf("health of web after a dev-mode restart = %d entries, %v; want none", len(entries), err)
	}
	a.Stop()
	if _, err := a.leader(); err == nil {
		t.Fatal("the agent still answers after Stop")
	}
}
