package zookeeper

import (
	"net/url"
	"strings"
	"testing"

	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

const v1Name = "providers:com.foo.Greeter:1.0.0:"

func TestStaleWhileZooKeeperIsDownThenConverges(t *testing.T) {
	server := zkpeer.Start(t)
	w := newWriter(t, server.Addr())
	// Persistent, not ephemeral: if the restart outlasts the writer's session, an ephemeral node
	// would vanish for real and the exact endpoint set checked below would be wrong.
	w.put("/dubbo/"+greeter+"/providers/"+url.QueryEscape(greeterURL("10.0.0.1:20880", "version=1.0.0")), "", 0)
	w.ensure("/dubbo/persistent.Iface/providers")
	w.put("/dubbo/persistent.Iface/providers/"+
		"dubbo%3A%2F%2F10.9.9.9%3A20880%2Fpersistent.Iface%3Finterface%3Dpersistent.Iface", "", 0)

	rec := runSource(t, server.Addr())
	rec.WaitFor(t, "the first sync", func(s registries.Snapshot) bool {
		_, ok := registrytest.Service(s, v1Name)
		_, persistent := registrytest.Service(s, "providers:persistent.Iface::")
		return s.Synced && ok && persistent
	})

	server.Stop()
	stale := rec.WaitFor(t, "a stale snapshot that says why", func(s registries.Snapshot) bool {
		return s.Stale && strings.Contains(registrytest.UnreachableReason(s), "connection refused")
	})
	if _, ok := registrytest.Service(stale, v1Name); !ok || !stale.Synced {
		t.Fatalf("stale snapshot lost the last known services:\n%s", registrytest.Dump(stale))
	}

	server.Restart()
	rec.WaitFor(t, "a fresh snapshot after the restart", func(s registries.Snapshot) bool {
		svc, _ := registrytest.Service(s, "providers:persistent.Iface::")
		return !s.Stale && endpointSet(svc) == "10.9.9.9:20880" && registrytest.UnreachableReason(s) == ""
	})
	// Watches work again: a change after the restart is followed.
	w.provider(greeter, greeterURL("10.0.0.2:20880", "version=1.0.0"))
	rec.WaitFor(t, "a provider added after the restart", func(s registries.Snapshot) bool {
		svc, _ := registrytest.Service(s, v1Name)
		return !s.Stale && endpointSet(svc) == "10.0.0.1:20880,10.0.0.2:20880"
	})
}

func TestSessionExpiryResyncs(t *testing.T) {
	server := zkpeer.Start(t)
	proxy := zkpeer.NewProxy(t, server.Addr())
	w := newWriter(t, server.Addr())
	w.provider(greeter, greeterURL("10.0.0.1:20880", "version=1.0.0"))

	rec := runSource(t, proxy.Addr())
	rec.WaitFor(t, "the first sync", func(s registries.Snapshot) bool {
		_, ok := registrytest.Service(s, v1Name)
		return s.Synced && ok
	})
	old, ok := proxy.LastSession()
	if !ok {
		t.Fatal("the proxy saw no session")
	}
	if err := server.ExpireSession(old); err != nil {
		t.Fatal(err)
	}
	// A change made while the source is between sessions must be picked up by the full resync.
	w.provider(greeter, greeterURL("10.0.0.2:20880", "version=1.0.0"))
	waitNewSession(t, proxy, old.ID)
	rec.WaitFor(t, "the resynced state", func(s registries.Snapshot) bool {
		svc, _ := registrytest.Service(s, v1Name)
		return !s.Stale && endpointSet(svc) == "10.0.0.1:20880,10.0.0.2:20880"
	})
	// And the watches of the new session work.
	w.provider(greeter, greeterURL("10.0.0.3:20880", "version=1.0.0"))
	rec.WaitFor(t, "a change on the new session", func(s registries.Snapshot) bool {
		svc, _ := registrytest.Service(s, v1Name)
		return endpointSet(svc) == "10.0.0.1:20880,10.0.0.2:20880,10.0.0.3:20880"
	})
}

func waitNewSession(t *testing.T, proxy *zkpeer.Proxy, old int64) {
	t.Helper()
	deadline := newDeadline()
	for {
		if s, ok := proxy.LastSession(); ok && s.ID != old {
			return
		}
		if deadline.passed() {
			t.Fatal("the source never opened a new session after the expiry")
		}
		deadline.pause()
	}
}
