package zookeeper

import (
	"errors"
	"testing"

	"github.com/go-zookeeper/zk"

	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/kvtest"
)

// BenchmarkPropagation: a compare-and-set write on one store client to the watch of another
// (store), against go-zookeeper's own delay from a Set on one connection to the data watch
// event on another (sdk), on the real ZooKeeper server.
func BenchmarkPropagation(b *testing.B) {
	server := zkpeer.Start(b)
	b.Run("store", func(b *testing.B) {
		kvtest.Propagation(b, func(t testing.TB) kvstore.Store { return open(t, Config{Servers: []string{server.Addr()}}) },
			[]byte(`{"version": 7}`), 0)
	})
	b.Run("sdk", func(b *testing.B) {
		writer, watcher := raw(b, server.Addr()), raw(b, server.Addr())
		const node = "/bench-raw"
		if _, err := writer.Create(node, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			b.Fatal(err)
		}
		b.ResetTimer()
		for range b.N {
			_, _, ev, err := watcher.GetW(node)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := writer.Set(node, []byte(`{"version": 7}`), -1); err != nil {
				b.Fatal(err)
			}
			<-ev
			if _, _, err := watcher.Get(node); err != nil { // the store reads the node again too
				b.Fatal(err)
			}
		}
	})
}
