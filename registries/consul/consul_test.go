package consul

import (
	"maps"
	"testing"

	"github.com/hashicorp/consul/api"

	consulpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/consul"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

// registerFixtures registers one service per protocol source.
func registerFixtures(t *testing.T, c *api.Client) {
	t.Helper()
	register(t, c, &api.AgentServiceRegistration{ID: "greeter-1", Name: "greeter", Address: "10.0.0.1", Port: 9090,
		Meta:    map[string]string{"protocol": "grpc", "grpc-service": "helloworld.Greeter", "zone": "z1"},
		Weights: &api.AgentWeights{Passing: 5, Warning: 1}, Check: ttlCheck("greeter-1-ttl")})
	register(t, c, &api.AgentServiceRegistration{ID: "orders-1", Name: "orders", Address: "10.0.0.2", Port: 20880,
		Tags: []string{"primary", "dubbo"},
		Meta: map[string]string{"interface": "com.foo.OrderService", "version": "1.0.0", "group": "g1"}})
	register(t, c, &api.AgentServiceRegistration{ID: "search-1", Name: "search", Port: 8080,
		TaggedAddresses: map[string]api.ServiceAddress{"grpc": {Address: "10.0.0.3", Port: 9443}}})
	register(t, c, &api.AgentServiceRegistration{ID: "web-1", Name: "web", Address: "10.0.0.4", Port: 80})
}

func TestFollowsTheCatalog(t *testing.T) {
	agent := consulpeer.Start(t)
	c := agentClient(t, agent.Addr())
	registerFixtures(t, c)
	rec := runSource(t, agent.Addr())

	snap := rec.WaitFor(t, "the first sync", func(s registries.Snapshot) bool {
		return s.Synced && names(s) == "greeter,orders,search,web"
	})
	if snap.Stale || snap.Source != "c1" {
		t.Fatalf("first snapshot: stale=%v source=%q", snap.Stale, snap.Source)
	}
	greeter, _ := registrytest.Service(snap, "greeter")
	if greeter.Protocol != registries.ProtocolGRPC || greeter.Interface != "helloworld.Greeter" ||
		registrytest.EndpointSet(greeter) != "10.0.0.1:9090" {
		t.Errorf("greeter = %+v", greeter)
	}
	ep := greeter.Endpoints[0]
	wantLocality := registries.Locality{Region: consulpeer.Datacenter, Zone: "z1"}
	if ep.Weight != 5 || ep.Locality != wantLocality || ep.Labels["node"] != consulpeer.Node ||
		ep.Labels["meta.grpc-service"] != "helloworld.Greeter" {
		t.Errorf("greeter endpoint = %+v", ep)
	}
	orders, _ := registrytest.Service(snap, "orders")
	if orders.Protocol != registries.ProtocolDubbo || orders.Interface != "com.foo.OrderService" ||
		orders.Version != "1.0.0" || orders.Group != "g1" || orders.Endpoints[0].Labels["tags"] != "primary,dubbo" {
		t.Errorf("orders = %+v", orders)
	}
	search, _ := registrytest.Service(snap, "search")
	if search.Protocol != registries.ProtocolGRPC || registrytest.EndpointSet(search) != "10.0.0.3:9443" {
		t.Errorf("search (grpc tagged address) = %+v", search)
	}
	web, _ := registrytest.Service(snap, "web")
	wantWeb := registries.Locality{Zone: consulpeer.Datacenter}
	if web.Protocol != registries.ProtocolHTTP || registrytest.EndpointSet(web) != "10.0.0.4:80" ||
		web.Endpoints[0].Weight != 1 || web.Endpoints[0].Locality != wantWeb {
		t.Errorf("web (default protocol) = %+v", web)
	}

	// Health: a failing TTL check keeps the instance, marked unhealthy; passing again restores it.
	if err := c.Agent().UpdateTTL("greeter-1-ttl", "down", api.HealthCritical); err != nil {
		t.Fatal(err)
	}
	rec.WaitFor(t, "greeter unhealthy", func(s registries.Snapshot) bool {
		svc, _ := registrytest.Service(s, "greeter")
		return registrytest.EndpointSet(svc) == "10.0.0.1:9090!"
	})
	if err := c.Agent().UpdateTTL("greeter-1-ttl", "up", api.HealthPassing); err != nil {
		t.Fatal(err)
	}
	rec.WaitFor(t, "greeter healthy again", func(s registries.Snapshot) bool {
		svc, _ := registrytest.Service(s, "greeter")
		return registrytest.EndpointSet(svc) == "10.0.0.1:9090"
	})

	// A second instance, a new service, and a deregistered one.
	register(t, c, &api.AgentServiceRegistration{ID: "greeter-2", Name: "greeter", Address: "10.0.0.9", Port: 9090,
		Meta: map[string]string{"protocol": "grpc", "grpc-service": "helloworld.Greeter"}})
	register(t, c, &api.AgentServiceRegistration{ID: "late-1", Name: "late", Address: "10.0.0.5", Port: 81,
		Tags: []string{"triple"}})
	deregister(t, c, "web-1")
	snap = rec.WaitFor(t, "the changes", func(s registries.Snapshot) bool {
		svc, _ := registrytest.Service(s, "greeter")
		return names(s) == "greeter,late,orders,search" && registrytest.EndpointSet(svc) == "10.0.0.1:9090,10.0.0.9:9090"
	})
	late, _ := registrytest.Service(snap, "late")
	if late.Protocol != registries.ProtocolTriple || late.Interface != "late" {
		t.Errorf("late = %+v", late)
	}
	// Metadata shared by both greeter instances is the service's; the zone of one is not.
	greeter, _ = registrytest.Service(snap, "greeter")
	want := map[string]string{"protocol": "grpc", "grpc-service": "helloworld.Greeter"}
	if !maps.Equal(greeter.Metadata, want) {
		t.Errorf("greeter metadata = %v, want %v", greeter.Metadata, want)
	}
}

func TestPrecedenceIsConfigurable(t *testing.T) {
	agent := consulpeer.Start(t)
	c := agentClient(t, agent.Addr())
	// Metadata says http, a tag says grpc: the default precedence picks metadata; a source that
	// asks tags first picks grpc.
	register(t, c, &api.AgentServiceRegistration{ID: "mixed-1", Name: "mixed", Address: "10.0.0.1", Port: 80,
		Tags: []string{"grpc"}, Meta: map[string]string{"protocol": "http"}})
	byDefault := runSource(t, agent.Addr())
	tagsFirst := runSourceWith(t, Config{Address: agent.Addr(), Precedence: []string{FromTags, FromMeta}})
	for _, tc := range []struct {
		rec  *registrytest.Recorder
		want registries.Protocol
	}{{byDefault, registries.ProtocolHTTP}, {tagsFirst, registries.ProtocolGRPC}} {
		snap := tc.rec.WaitFor(t, "mixed", func(s registries.Snapshot) bool { return names(s) == "mixed" })
		if svc, _ := registrytest.Service(snap, "mixed"); svc.Protocol != tc.want {
			t.Errorf("mixed = %s, want %s", svc.Protocol, tc.want)
		}
	}
}
