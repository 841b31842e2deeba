package consul

import (
	"context"
	"errors"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/rpcbridge/rpcbridge/registries"
)

// TestKeepUnreadWhileStale: after an agent restart the catalog lists a service again before its
// health query answers; while queries fail, the stale snapshot keeps that service's last
// published state instead of leaving it out (which emptied the catalog for a moment).
func TestKeepUnreadWhileStale(t *testing.T) {
	st := newState()
	st.services["web"] = &serviceState{}                                                           // listed, not read
	st.services["api"] = &serviceState{read: true, ok: true, svc: registries.Service{Name: "api"}} // read
	last := []registries.Service{{Name: "web", Endpoints: []registries.Endpoint{{Address: "10.0.0.1", Port: 80}}}, {Name: "gone"}}
	got := st.keepUnread([]registries.Service{{Name: "api"}}, last)
	if len(got) != 2 || got[0].Name != "api" || got[1].Name != "web" || got[1].Endpoints[0].Address != "10.0.0.1" {
		t.Fatalf("keepUnread = %+v; want api as read and web as last published (gone, no longer listed, left out)", got)
	}
}

// TestEmptyHealthWhileTheCatalogFails: an agent that restarted empty answers the health query
// of a known service with no instances while the catalog query still fails (its watcher is in
// back-off): the stale snapshot keeps the service's last known instances instead of dropping it
// (a stale snapshot without services); once the catalog answers, what it says applies.
func TestEmptyHealthWhileTheCatalogFails(t *testing.T) {
	st := newState()
	start := func(string, uint64) context.CancelFunc { return func() {} }
	b := builder{}
	st.apply(watchResult{names: []string{"web"}}, b, start)
	gen := st.services["web"].gen
	entry := &api.ServiceEntry{Node: &api.Node{Node: "n"}, Service: &api.AgentService{ID: "web-1", Service: "web", Address: "10.0.0.1", Port: 80}}
	st.apply(watchResult{service: "web", gen: gen, entries: []*api.ServiceEntry{entry}}, b, start)
	if snap := st.snapshot("c1", "agent"); snap.Stale || len(snap.Services) != 1 {
		t.Fatalf("first snapshot: %+v", snap)
	}
	st.apply(watchResult{err: errors.New("connection refused")}, b, start)
	st.apply(watchResult{service: "web", gen: gen}, b, start) // the restarted agent: no instances
	snap := st.snapshot("c1", "agent")
	if !snap.Stale || len(snap.Services) != 1 || snap.Services[0].Name != "web" || len(snap.Services[0].Endpoints) != 1 {
		t.Fatalf("while the catalog fails: %+v, want web with its last known instance, stale", snap)
	}
	st.apply(watchResult{names: []string{"web"}}, b, start) // the catalog is back and still lists web
	if snap := st.snapshot("c1", "agent"); snap.Stale || len(snap.Services) != 0 {
		t.Fatalf("with the catalog read again: %+v, want no service (web has no instance)", snap)
	}
}
