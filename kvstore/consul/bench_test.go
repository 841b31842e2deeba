package consul

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	consulpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/consul"
	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/kvtest"
)

// BenchmarkPropagation: a compare-and-set write on one store client to the watch of another
// (store: writes 200 ms apart, as uploads come; store-back-to-back: the next write as soon as
// the last arrived, which meets consulwatch's 100 ms spacing of blocking queries), against the
// Consul API's own delay from a KV put to the return of a blocking query on another client
// (sdk), on the real Consul agent.
func BenchmarkPropagation(b *testing.B) {
	agent := consulpeer.Start(b)
	openStore := func(t testing.TB) kvstore.Store { return open(t, Config{Address: agent.Addr()}) }
	b.Run("store", func(b *testing.B) { kvtest.Propagation(b, openStore, []byte(`{"version": 7}`), 200*time.Millisecond) })
	b.Run("store-back-to-back", func(b *testing.B) { kvtest.Propagation(b, openStore, []byte(`{"version": 7}`), 0) })
	b.Run("sdk", func(b *testing.B) {
		writer, watcher := rawKV(b, agent.Addr()), rawKV(b, agent.Addr())
		const key = "bench-raw/key"
		if _, err := writer.Put(&api.KVPair{Key: key, Value: []byte("0")}, nil); err != nil {
			b.Fatal(err)
		}
		_, meta, err := watcher.List("bench-raw/", nil)
		if err != nil {
			b.Fatal(err)
		}
		index := meta.LastIndex
		b.ResetTimer()
		for i := range b.N {
			done := make(chan uint64, 1)
			go func() {
				_, meta, err := watcher.List("bench-raw/", &api.QueryOptions{WaitIndex: index, WaitTime: 10 * time.Second})
				if err != nil {
					b.Error(err)
				}
				done <- meta.LastIndex
			}()
			time.Sleep(time.Millisecond) // let the blocking query reach the agent (on the clock: a bias against the baseline)
			// A new value each time: Consul skips a write that changes nothing.
			if _, err := writer.Put(&api.KVPair{Key: key, Value: fmt.Appendf(nil, `{"version": %d}`, i)}, nil); err != nil {
				b.Fatal(err)
			}
			index = <-done
		}
	})
}
