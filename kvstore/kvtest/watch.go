package kvtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

func testWatch(t *testing.T, b Backend, p string) {
	w := b.Open(t)
	writer := b.Open(t)
	ra := put(t, writer, p+"a", "a1", 0)
	rb := put(t, writer, p+"b", "b1", 0)
	put(t, writer, "watchx/outside", "never seen", 0)

	rec := Watch(t, w, p)
	first := rec.WaitFor(t, "the first state", func(s kvstore.Snapshot) bool { return len(s.Entries) > 0 })
	if !Holds(first, State{p + "a": "a1", p + "b": "b1"}) {
		t.Fatalf("the first snapshot is not the state: %s", Dump(first))
	}
	if e, _ := first.Lookup(p + "a"); e.Revision != ra {
		t.Fatalf("watched revision %d, the write returned %d", e.Revision, ra)
	}
	other := Watch(t, w, p+"b") // a second watch on the same client
	other.WaitFor(t, "the second watch's state", func(s kvstore.Snapshot) bool { return Holds(s, State{p + "b": "b1"}) })

	ra = put(t, writer, p+"a", "a2", ra)
	rc := put(t, writer, p+"c", "c1", 0)
	if err := writer.Delete(ctx(t), p+"b", rb); err != nil {
		t.Fatal(err)
	}
	got := rec.WaitFor(t, "the changed state", func(s kvstore.Snapshot) bool {
		return Holds(s, State{p + "a": "a2", p + "c": "c1"})
	})
	if a, _ := got.Lookup(p + "a"); a.Revision != ra {
		t.Errorf("watched %s@%d, the write returned %d", p+"a", a.Revision, ra)
	}
	if c, _ := got.Lookup(p + "c"); c.Revision != rc {
		t.Errorf("watched %s@%d, the write returned %d", p+"c", c.Revision, rc)
	}
	other.WaitFor(t, "the second watch after the delete", func(s kvstore.Snapshot) bool { return Holds(s, State{}) })

	// A burst of updates converges on the last one.
	r := rc
	for i := range 20 {
		r = put(t, writer, p+"c", string(rune('d'+i)), r)
	}
	rec.WaitFor(t, "the last of a burst", func(s kvstore.Snapshot) bool {
		c, _ := s.Lookup(p + "c")
		return c.Revision == r
	})

	// An invalid prefix fails at once; a closed store ends its watches.
	if err := w.Watch(ctx(t), "a//", func(kvstore.Snapshot) {}); !errors.Is(err, kvstore.ErrInvalid) {
		t.Errorf("Watch of an invalid prefix: %v, want ErrInvalid", err)
	}
	closing := b.Open(t)
	done := make(chan error, 1)
	published := make(chan struct{}, 1)
	go func() {
		done <- closing.Watch(context.Background(), p, func(kvstore.Snapshot) {
			select {
			case published <- struct{}{}:
			default:
			}
		})
	}()
	select {
	case <-published:
	case <-time.After(GiveUp):
		t.Fatal("the watch of the store to close never published")
	}
	if err := closing.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("Watch on a closed store returned nil")
		}
	case <-time.After(GiveUp):
		t.Fatal("Close did not end the store's watch")
	}
}
