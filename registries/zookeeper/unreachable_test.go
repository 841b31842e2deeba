package zookeeper

import (
	"testing"

	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

// TestNeverReachedSaysWhy points a source at the address of a real ZooKeeper that was stopped:
// before any listing it publishes a pending snapshot whose diagnostic carries the dial error,
// and once the server is back it lists as usual and the diagnostic is gone.
func TestNeverReachedSaysWhy(t *testing.T) {
	server := zkpeer.Start(t)
	server.Stop()

	rec := runSource(t, server.Addr())
	rec.WaitRefused(t, server.Addr())

	server.Restart()
	newWriter(t, server.Addr()).provider(greeter, greeterURL("10.0.0.1:20880", "version=1.0.0"))
	rec.WaitFor(t, "the listing once ZooKeeper is back", func(s registries.Snapshot) bool {
		_, ok := registrytest.Service(s, v1Name)
		return s.Synced && !s.Stale && ok && registrytest.UnreachableReason(s) == ""
	})
}
