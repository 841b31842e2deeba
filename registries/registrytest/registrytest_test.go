package registrytest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/registries"
)

func snapshot(names ...string) registries.Snapshot {
	s := registries.Snapshot{Source: "fake", Synced: true}
	for _, n := range names {
		s.Services = append(s.Services, registries.Service{Name: n, Protocol: registries.ProtocolHTTP})
	}
	return s
}

func TestWaitForSeesSnapshotsPublishedBeforeAndAfterTheCall(t *testing.T) {
	var rec Recorder
	rec.Publish(snapshot("a"))
	got := rec.WaitFor(t, "a", func(s registries.Snapshot) bool { _, ok := Service(s, "a"); return ok })
	if _, ok := Service(got, "a"); !ok {
		t.Fatalf("WaitFor returned %s", Dump(got))
	}

	checked := make(chan struct{})
	closed := false // cond runs on the waiting goroutine only
	go func() {
		<-checked // WaitFor has looked at the snapshots so far and is waiting
		rec.Publish(snapshot("a", "b"))
	}()
	got = rec.WaitFor(t, "b", func(s registries.Snapshot) bool {
		_, ok := Service(s, "b")
		if !ok && !closed {
			close(checked)
			closed = true
		}
		return ok
	})
	if len(got.Services) != 2 {
		t.Fatalf("WaitFor returned %s", Dump(got))
	}
}

func TestWaitForLooksOnlyAtTheLatestSnapshot(t *testing.T) {
	var rec Recorder
	rec.Publish(snapshot("old"))
	rec.Publish(snapshot("new"))
	seen := map[string]bool{}
	rec.WaitFor(t, "new", func(s registries.Snapshot) bool {
		seen[s.Services[0].Name] = true
		return s.Services[0].Name == "new"
	})
	if seen["old"] {
		t.Errorf("WaitFor tested a snapshot that was not the latest")
	}
}

func TestWaitFromSkipsTheFirstSnapshotsAndCounts(t *testing.T) {
	var rec Recorder
	for _, n := range []string{"x", "y", "x", "z"} {
		rec.Publish(snapshot(n))
	}
	isX := func(s registries.Snapshot) bool { _, ok := Service(s, "x"); return ok }
	if _, next := rec.WaitFrom(t, "the first x", 0, isX); next != 1 {
		t.Errorf("the first x: next = %d, want 1", next)
	}
	if _, next := rec.WaitFrom(t, "the second x", 1, isX); next != 3 {
		t.Errorf("the second x: next = %d, want 3", next)
	}
}

func TestService(t *testing.T) {
	s := snapshot("a", "b")
	if svc, ok := Service(s, "b"); !ok || svc.Name != "b" {
		t.Errorf("Service(b) = %v, %v", svc, ok)
	}
	if svc, ok := Service(s, "c"); ok {
		t.Errorf("Service(c) = %v, want none", svc)
	}
}

func TestEndpointSetMarksUnhealthyEndpoints(t *testing.T) {
	s := snapshot("a")
	s.Services[0].Endpoints = []registries.Endpoint{
		{Address: "10.0.0.1", Port: 80, Healthy: true}, {Address: "10.0.0.2", Port: 80},
	}
	if got, want := EndpointSet(s.Services[0]), "10.0.0.1:80,10.0.0.2:80!"; got != want {
		t.Errorf("EndpointSet = %q, want %q", got, want)
	}
	if got := Dump(s); !strings.Contains(got, "a http") || !strings.Contains(got, "endpoints=10.0.0.1:80,10.0.0.2:80!") {
		t.Errorf("Dump =\n%s", got)
	}
}

// fakeSource publishes its snapshots, then returns err, or ctx's error when err is nil.
type fakeSource struct {
	snaps []registries.Snapshot
	err   error
}

func (f fakeSource) Name() string { return "fake" }

func (f fakeSource) Run(ctx context.Context, publish func(registries.Snapshot)) error {
	for _, s := range f.snaps {
		publish(s)
	}
	if f.err != nil {
		return f.err
	}
	<-ctx.Done()
	return ctx.Err()
}

// recordingT keeps the cleanups and errors that Run registers and reports, so that a test can
// check what Run would have failed.
type recordingT struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (r *recordingT) Helper()                   {}
func (r *recordingT) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }
func (r *recordingT) Errorf(f string, a ...any) { r.errors = append(r.errors, fmt.Sprintf(f, a...)) }

// runAndClean runs src through Run, waits for its first snapshot and runs the cleanups.
func runAndClean(t *testing.T, src fakeSource) []string {
	rt := &recordingT{TB: t}
	rec := Run(rt, src)
	rec.WaitFor(t, "the first snapshot", func(registries.Snapshot) bool { return true })
	for i := len(rt.cleanups) - 1; i >= 0; i-- {
		rt.cleanups[i]()
	}
	return rt.errors
}

func TestRunChecksTheSourceAtCleanup(t *testing.T) {
	stale := snapshot()
	stale.Stale = true
	for _, tc := range []struct {
		name string
		src  fakeSource
		want string // "" when Run must not fail the test
	}{
		{"a well-behaved source", fakeSource{snaps: []registries.Snapshot{snapshot("a")}}, ""},
		{"an error other than context.Canceled", fakeSource{snaps: []registries.Snapshot{snapshot("a")}, err: errors.New("bad config")},
			"Run returned bad config, want context.Canceled"},
		{"a stale snapshot without services", fakeSource{snaps: []registries.Snapshot{snapshot("a"), stale}},
			"published a stale snapshot without services"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := runAndClean(t, tc.src)
			switch {
			case tc.want == "" && len(errs) != 0:
				t.Errorf("Run failed a good source: %q", errs)
			case tc.want != "" && (len(errs) != 1 || !strings.Contains(errs[0], tc.want)):
				t.Errorf("errors = %q, want one containing %q", errs, tc.want)
			}
		})
	}
}
