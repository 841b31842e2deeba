package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

// GiveUp bounds every wait of the suite; tests never assert on durations.
const GiveUp = 60 * time.Second

// Recorder keeps every snapshot a watch publishes.
type Recorder struct {
	mu        sync.Mutex
	snaps     []kvstore.Snapshot
	published chan struct{} // closed and replaced on every publish
	emptied   bool          // a snapshot without entries followed one with entries
	done      chan error
}

// Publish records s; it is the publish callback of Store.Watch.
func (r *Recorder) Publish(s kvstore.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.snaps); n > 0 && len(s.Entries) == 0 && len(r.snaps[n-1].Entries) > 0 && s.Stale {
		r.emptied = true
	}
	r.snaps = append(r.snaps, s)
	if r.published != nil {
		close(r.published)
		r.published = nil
	}
}

// Watch runs s.Watch(prefix) with a new Recorder until the test ends. At cleanup it fails t
// when Watch returned anything but context.Canceled, or when a stale snapshot emptied the state.
func Watch(t testing.TB, s kvstore.Store, prefix string) *Recorder {
	t.Helper()
	r := &Recorder{done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { r.done <- s.Watch(ctx, prefix, r.Publish) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Watch(%q) returned %v, want context.Canceled", prefix, err)
			}
		case <-time.After(GiveUp):
			t.Errorf("Watch(%q) did not return after its context ended", prefix)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.emptied {
			t.Errorf("Watch(%q) published a stale snapshot without entries after having some", prefix)
		}
	})
	return r
}

// WaitFor waits until the latest snapshot satisfies cond and returns it; a snapshot published
// before the call counts. It fails t after GiveUp.
func (r *Recorder) WaitFor(t testing.TB, what string, cond func(kvstore.Snapshot) bool) kvstore.Snapshot {
	t.Helper()
	giveUp := time.NewTimer(GiveUp)
	defer giveUp.Stop()
	for {
		r.mu.Lock()
		var last *kvstore.Snapshot
		if n := len(r.snaps); n > 0 {
			last = &r.snaps[n-1]
		}
		if r.published == nil {
			r.published = make(chan struct{})
		}
		published := r.published
		r.mu.Unlock()
		if last != nil && cond(*last) {
			return *last
		}
		select {
		case <-published:
		case err := <-r.done:
			t.Fatalf("waiting for %s: Watch returned %v", what, err)
		case <-giveUp.C:
			dump := "none"
			if last != nil {
				dump = Dump(*last)
			}
			t.Fatalf("gave up waiting for %s; last snapshot: %s", what, dump)
		}
	}
}

// Count is how many snapshots were published.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.snaps)
}

// Dump renders a snapshot on one line per entry for failure messages.
func Dump(s kvstore.Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "stale=%v entries=%d", s.Stale, len(s.Entries))
	for _, e := range s.Entries {
		fmt.Fprintf(&b, "\n  %s@%d %s", e.Key, e.Revision, short(e.Value))
	}
	for _, d := range s.Diagnostics {
		fmt.Fprintf(&b, "\n  ! %.300s", d.String())
	}
	return b.String()
}

func short(v []byte) string {
	if len(v) > 40 {
		return fmt.Sprintf("%q... (%d bytes)", v[:40], len(v))
	}
	return fmt.Sprintf("%q", v)
}

// State is the expected content of a snapshot: key → value.
type State map[string]string

// Holds reports whether s holds exactly the keys and values of want, and is not stale.
func Holds(s kvstore.Snapshot, want State) bool {
	if s.Stale || len(s.Entries) != len(want) {
		return false
	}
	for _, e := range s.Entries {
		v, ok := want[e.Key]
		if !ok || !bytes.Equal(e.Value, []byte(v)) {
			return false
		}
	}
	return true
}

// HasDiagnosticFor reports whether s has a diagnostic about key.
func HasDiagnosticFor(s kvstore.Snapshot, key string) bool {
	for _, d := range s.Diagnostics {
		if strings.Contains(d.Subject, key) {
			return true
		}
	}
	return false
}
