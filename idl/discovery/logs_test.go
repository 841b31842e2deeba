package discovery

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// logRecorder is a slog handler that keeps every record's message and attributes, so that a test
// can wait for something the runner reports.
type logRecorder struct {
	mu      sync.Mutex
	records []map[string]string
	attrs   []slog.Attr
	root    *logRecorder
}

func newLogRecorder() *logRecorder { r := &logRecorder{}; r.root = r; return r }

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	m := map[string]string{"msg": rec.Message}
	for _, a := range l.attrs {
		m[a.Key] = a.Value.String()
	}
	rec.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	l.root.mu.Lock()
	l.root.records = append(l.root.records, m)
	l.root.mu.Unlock()
	return nil
}

func (l *logRecorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logRecorder{attrs: append(append([]slog.Attr{}, l.attrs...), attrs...), root: l.root}
}

func (l *logRecorder) WithGroup(string) slog.Handler { return l }

// count returns how many records have msg and every given attribute value.
func (l *logRecorder) count(msg string, attrs map[string]string) int {
	l.root.mu.Lock()
	defer l.root.mu.Unlock()
	n := 0
next:
	for _, r := range l.root.records {
		if r["msg"] != msg {
			continue
		}
		for k, v := range attrs {
			if r[k] != v {
				continue next
			}
		}
		n++
	}
	return n
}

// waitFor polls until cond holds, failing the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
