package kvtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

// Propagation benchmarks the time from a compare-and-set write on one client to the watch
// notification, on another client, of the snapshot that carries it: what "an upload accepted
// by replica A is served by replica B" costs in the store. ns/op is one write plus its
// propagation. pause is left between writes, off the clock (uploads do not come back to back;
// the Nacos SDK limits queries per configuration and process).
func Propagation(b *testing.B, open func(testing.TB) kvstore.Store, value []byte, pause time.Duration) {
	writer, watcher := open(b), open(b)
	const key = "bench/propagation"
	var mu sync.Mutex
	var seen int64
	changed := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = watcher.Watch(ctx, "bench/", func(s kvstore.Snapshot) {
			e, ok := s.Lookup(key)
			if !ok {
				return
			}
			mu.Lock()
			seen = max(seen, e.Revision)
			mu.Unlock()
			select {
			case changed <- struct{}{}:
			default:
			}
		})
	}()
	defer func() { cancel(); <-done }()
	waitSeen := func(rev int64) {
		giveUp := time.After(GiveUp)
		for {
			mu.Lock()
			s := seen
			mu.Unlock()
			if s >= rev {
				return
			}
			select {
			case <-changed:
			case <-giveUp:
				b.Fatalf("revision %d never reached the watcher", rev)
			}
		}
	}
	rev := int64(0)
	if e, err := writer.Get(context.Background(), key); err == nil {
		rev = e.Revision
	}
	rev = put(b, writer, key, string(value), rev)
	waitSeen(rev)
	b.ResetTimer()
	for range b.N {
		if pause > 0 {
			b.StopTimer()
			time.Sleep(pause)
			b.StartTimer()
		}
		var err error
		rev, err = writer.Put(context.Background(), key, value, rev)
		if err != nil {
			b.Fatal(err)
		}
		waitSeen(rev)
	}
}
