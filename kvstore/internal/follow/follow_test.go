package follow

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/kvstore"
)

// script is a fake backend: each read returns the next step, the last one repeats.
type script struct {
	mu    sync.Mutex
	steps []step
	reads int
}

type step struct {
	res Result
	err error
}

func (s *script) read(context.Context) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.steps[min(s.reads, len(s.steps)-1)]
	s.reads++
	return st.res, st.err
}

func entry(key string, rev int64) kvstore.Entry {
	return kvstore.Entry{Key: key, Value: []byte(key), Revision: rev}
}

func problem(key string) Problem {
	return Problem{Key: key, Diag: diag.Diagnostic{Severity: diag.Warning, Stage: "store/test", Subject: key, Message: "corrupt"}}
}

// runSteps runs the loop over steps, waking it once per step, and returns what it published.
func runSteps(t *testing.T, steps []step) []kvstore.Snapshot {
	t.Helper()
	s := &script{steps: steps}
	var got []kvstore.Snapshot
	wake := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{RetryMin: time.Hour}, wake, s.read, func(snap kvstore.Snapshot) { got = append(got, snap) })
	}()
	for range len(steps) - 1 {
		wake <- struct{}{} // returns once the loop waits again, so the previous read is done
	}
	wake <- struct{}{}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
	return got
}

func TestRunPublishesChangesAndKeepsGoodValues(t *testing.T) {
	unavailable := &kvstore.UnavailableError{Backend: "test", Op: "list", Err: errors.New("down")}
	got := runSteps(t, []step{
		{res: Result{Entries: []kvstore.Entry{entry("b", 2), entry("a", 1)}}},
		{res: Result{Entries: []kvstore.Entry{entry("a", 1), entry("b", 2)}}}, // unchanged: nothing
		{err: unavailable}, // stale
		{err: unavailable}, // still stale: nothing
		{res: Result{Entries: []kvstore.Entry{entry("a", 3)}, Problems: []Problem{problem("b")}}},
		{res: Result{Entries: []kvstore.Entry{entry("a", 3)}, Problems: []Problem{problem("c")}}},
	})
	want := []string{
		"a@1 b@2",
		"stale a@1 b@2",
		"a@3 b@2 !b:corrupt; keeping revision 2",
		"a@3 !c:corrupt",
	}
	if len(got) != len(want) {
		t.Fatalf("published %d snapshots, want %d: %v", len(got), len(want), render(got))
	}
	for i, s := range render(got) {
		if s != want[i] {
			t.Errorf("snapshot %d = %q, want %q", i, s, want[i])
		}
	}
	for _, s := range got {
		if len(s.Entries) == 0 {
			t.Errorf("an empty snapshot was published: %+v", s)
		}
	}
}

func render(snaps []kvstore.Snapshot) []string {
	var out []string
	for _, s := range snaps {
		line := ""
		if s.Stale {
			line = "stale "
		}
		for i, e := range s.Entries {
			if i > 0 {
				line += " "
			}
			line += e.Key + "@" + string(rune('0'+e.Revision))
		}
		for _, d := range s.Diagnostics {
			line += " !" + d.Subject + ":" + d.Message
		}
		out = append(out, line)
	}
	return out
}

func TestRunRetriesWithoutWake(t *testing.T) {
	s := &script{steps: []step{{err: errors.New("down")}, {err: errors.New("down")}, {res: Result{Entries: []kvstore.Entry{entry("a", 1)}}}}}
	published := make(chan kvstore.Snapshot, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_ = Run(ctx, Options{RetryMin: time.Millisecond, RetryMax: time.Millisecond}, nil, s.read,
			func(snap kvstore.Snapshot) { published <- snap })
	}()
	select {
	case snap := <-published:
		if len(snap.Entries) != 1 || snap.Stale {
			t.Fatalf("published %+v", snap)
		}
	case <-time.After(20 * time.Second): // a give-up bound, not a timing assertion
		t.Fatal("no publish after the failures: the loop does not retry")
	}
}
