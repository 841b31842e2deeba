package kvtest

import (
	"errors"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

func testOutage(t *testing.T, b Backend, p string) {
	if b.Stop == nil {
		t.Skip(b.NoOutage)
	}
	writer := b.Open(t)
	put(t, writer, p+"a", "a1", 0)
	put(t, writer, p+"b", "b1", 0)
	rec := Watch(t, b.Open(t), p)
	rec.WaitFor(t, "the first state", func(s kvstore.Snapshot) bool { return Holds(s, State{p + "a": "a1", p + "b": "b1"}) })

	b.Stop(t)
	stale := rec.WaitFor(t, "a stale snapshot", func(s kvstore.Snapshot) bool { return s.Stale })
	if len(stale.Entries) != 2 {
		t.Fatalf("the stale snapshot lost the last known state: %s", Dump(stale))
	}
	_, err := writer.Put(ctx(t), p+"c", []byte("c1"), 0)
	var ue *kvstore.UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, kvstore.ErrUnavailable) || ue.Err == nil {
		t.Fatalf("Put during the outage: %v, want an *UnavailableError with its cause", err)
	}
	if _, err := writer.Get(ctx(t), p+"a"); !errors.Is(err, kvstore.ErrUnavailable) {
		t.Fatalf("Get during the outage: %v, want ErrUnavailable", err)
	}
	if _, err := writer.List(ctx(t), p); !errors.Is(err, kvstore.ErrUnavailable) {
		t.Fatalf("List during the outage: %v, want ErrUnavailable", err)
	}

	b.Restart(t)
	want := State{}
	if b.KeepsData {
		want = State{p + "a": "a1", p + "b": "b1"}
		rec.WaitFor(t, "the state after the restart", func(s kvstore.Snapshot) bool { return Holds(s, want) })
	}
	// Writes work again once the writer's client has reconnected on its own, and the watch
	// follows. The Put that failed during the outage was not applied.
	deadline := time.Now().Add(GiveUp)
	for {
		_, err := writer.Put(ctx(t), p+"d", []byte("d1"), 0)
		if err == nil {
			break
		}
		if !errors.Is(err, kvstore.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Put after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	want[p+"d"] = "d1"
	rec.WaitFor(t, "a write after the restart", func(s kvstore.Snapshot) bool { return Holds(s, want) })
}
