// Package registrytest holds test helpers for registries.Source implementations: a Recorder that
// keeps what a source publishes and waits for a state, Run that runs a source for the length of a
// test, and small readers of snapshots. It is imported only by tests.
package registrytest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/registries"
)

// GiveUp bounds every wait of a Recorder; tests never assert on durations.
const GiveUp = 30 * time.Second

// Recorder keeps every snapshot a source publishes. The zero value is ready to use.
type Recorder struct {
	mu         sync.Mutex
	snaps      []registries.Snapshot
	emptyStale bool          // a stale snapshot without services followed one with services
	published  chan struct{} // closed and replaced on every Publish
}

// Publish records s; it is the publish callback to hand to registries.Source.Run.
func (r *Recorder) Publish(s registries.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.snaps); len(s.Services) == 0 && s.Stale && n > 0 && len(r.snaps[n-1].Services) > 0 {
		r.emptyStale = true
	}
	r.snaps = append(r.snaps, s)
	if r.published != nil {
		close(r.published)
		r.published = nil
	}
}

// PublishedEmptyStale reports whether a stale snapshot without services followed one with
// services, which a Source must never do: an outage keeps the last known services. (A stale
// snapshot without services after an empty one loses nothing: the registry had none.)
func (r *Recorder) PublishedEmptyStale() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.emptyStale
}

// WaitFor waits until the latest snapshot satisfies cond and returns it; a snapshot published
// before the call counts. It fails t after GiveUp.
func (r *Recorder) WaitFor(t testing.TB, what string, cond func(registries.Snapshot) bool) registries.Snapshot {
	t.Helper()
	snap, _ := r.wait(t, what, func(snaps []registries.Snapshot) int {
		if n := len(snaps); n > 0 && cond(snaps[n-1]) {
			return n - 1
		}
		return -1
	})
	return snap
}

// WaitFrom returns the first snapshot that satisfies cond among those published after the first
// from, and how many snapshots had been published up to and including it (the from of a next
// wait). Unlike WaitFor it sees every snapshot, not only the latest. It fails t after GiveUp.
func (r *Recorder) WaitFrom(t testing.TB, what string, from int, cond func(registries.Snapshot) bool) (registries.Snapshot, int) {
	t.Helper()
	return r.wait(t, what, func(snaps []registries.Snapshot) int {
		for i := from; i < len(snaps); i++ {
			if cond(snaps[i]) {
				return i
			}
		}
		return -1
	})
}

// wait calls find with the snapshots so far after every publish until it returns an index.
func (r *Recorder) wait(t testing.TB, what string, find func([]registries.Snapshot) int) (registries.Snapshot, int) {
	t.Helper()
	giveUp := time.NewTimer(GiveUp)
	defer giveUp.Stop()
	for {
		r.mu.Lock()
		snaps := r.snaps[:len(r.snaps):len(r.snaps)] // published snapshots are never modified
		if r.published == nil {
			r.published = make(chan struct{})
		}
		published := r.published
		r.mu.Unlock()
		if i := find(snaps); i >= 0 {
			return snaps[i], i + 1
		}
		select {
		case <-published:
		case <-giveUp.C:
			last := "none\n"
			if n := len(snaps); n > 0 {
				last = Dump(snaps[n-1])
			}
			t.Fatalf("gave up waiting for %s; last of %d snapshots:\n%s", what, len(snaps), last)
		}
	}
}

// Run runs src with a new Recorder until the test ends. At cleanup it fails t when Run returned
// anything but context.Canceled or when src published a stale snapshot without services.
func Run(t testing.TB, src registries.Source) *Recorder {
	t.Helper()
	rec := &Recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, rec.Publish) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("%s: Run returned %v, want context.Canceled", src.Name(), err)
		}
		if rec.PublishedEmptyStale() {
			t.Errorf("%s: the source published a stale snapshot without services", src.Name())
		}
	})
	return rec
}

// Service returns the service of s called name, and whether there is one.
func Service(s registries.Snapshot, name string) (registries.Service, bool) {
	for _, svc := range s.Services {
		if svc.Name == name {
			return svc, true
		}
	}
	return registries.Service{}, false
}

// UnreachableReason returns the message of the registries.Unreachable diagnostic of s (why its
// registry cannot be reached), or "" when it has none.
func UnreachableReason(s registries.Snapshot) string {
	if ps := registries.Problems(s.Source, s.Diagnostics); len(ps) > 0 {
		return ps[0].Message
	}
	return ""
}

// WaitRefused waits for a pending snapshot (never listed) whose Unreachable diagnostic is a
// refused connection to addr and that has no services: what a source publishes while its
// registry is down from the start. It fails t otherwise.
func (r *Recorder) WaitRefused(t testing.TB, addr string) {
	t.Helper()
	pending := r.WaitFor(t, "a pending snapshot that says why", func(s registries.Snapshot) bool {
		return !s.Synced && strings.Contains(UnreachableReason(s), "connection refused")
	})
	if reason := UnreachableReason(pending); !strings.Contains(reason, addr) || len(pending.Services) != 0 {
		t.Fatalf("want the client's error naming %s and no services; got %q:\n%s", addr, reason, Dump(pending))
	}
}

// EndpointSet renders the endpoints of svc as "addr:port" joined by commas, in snapshot order,
// with "!" after an unhealthy one.
func EndpointSet(svc registries.Service) string {
	var parts []string
	for _, e := range svc.Endpoints {
		mark := ""
		if !e.Healthy {
			mark = "!"
		}
		parts = append(parts, fmt.Sprintf("%s:%d%s", e.Address, e.Port, mark))
	}
	return strings.Join(parts, ",")
}

// Dump renders a snapshot for a failure message: its flags, one line per service with its
// endpoints as EndpointSet renders them, and its diagnostics.
func Dump(s registries.Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "synced=%v stale=%v\n", s.Synced, s.Stale)
	for _, svc := range s.Services {
		fmt.Fprintf(&b, "  %s %s iface=%s version=%s group=%s methods=%v endpoints=%s\n", svc.Name, svc.Protocol,
			svc.Interface, svc.Version, svc.Group, svc.Methods, EndpointSet(svc))
	}
	for _, d := range s.Diagnostics {
		fmt.Fprintf(&b, "  %.200s\n", d.String())
	}
	return b.String()
}
