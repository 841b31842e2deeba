package consul

import (
	"testing"

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
